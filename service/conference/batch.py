"""A plan straight from a participants file to a folder of files, with no conference kept in
the database (``brobygger conference schedule``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from matcher.scheduling import InfeasibleError, Progress, Schedule, solve
from models.db import session_scope
from service.conference.affinity import affinities, instance
from service.conference.agenda import Agenda
from service.conference.outputs import Plan, write_outputs
from service.conference.participants import read_participants
from service.conference.plans import ConferenceError, split_sides
from service.conference.settings import ScheduleSettings
from service.runtime import Runtime


@dataclass(frozen=True)
class FileSchedule:
    """What to plan: the participants file, the settings, and where the files go."""

    participants: Path
    settings: ScheduleSettings
    out: Path
    day: date
    name: str
    time_limit: float = 120.0


def schedule_file(
    rt: Runtime,
    job: FileSchedule,
    *,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
) -> Schedule:
    """Read and check the file, compute the affinities, solve, and write every output file.

    Raises ``ImportValidationError`` for a bad file and ``ConferenceError`` when no plan is
    possible; ``say`` hears what is being done before the slow steps."""
    s = job.settings
    # the session only for the embeddings' cache: solving holds no database transaction
    with session_scope(rt.engine) as session:
        people = read_participants(job.participants, session, s.slots)
        try:
            municipal, entrepreneurs = split_sides(people)
        except ConferenceError as exc:
            raise ConferenceError(f"Ingen møteplan er mulig: {exc}") from exc
        if say is not None:
            say(
                f"{len(municipal)} fra kommunene, {len(entrepreneurs)} entreprenører. "
                "Regner ut hvor godt hvert par passer ..."
            )
        aff = affinities(session, rt.store, municipal, entrepreneurs)
    inst, municipal, entrepreneurs = instance(
        people, aff, s.slots, s.tables, s.max_per_organisation
    )
    try:
        schedule = solve(inst, time_limit=job.time_limit, progress=progress)
    except InfeasibleError as exc:
        raise ConferenceError(f"Ingen møteplan er mulig: {exc}") from exc
    agenda = Agenda(s.start, s.slot_minutes, job.day, job.name)
    write_outputs(job.out, Plan(schedule, municipal, entrepreneurs, aff, agenda, rt.store.analyzer))
    return schedule
