"""Conferences kept in the database: creating one from its settings and participants,
loading it as the solver sees it, planning it (locked meetings stay), and the stored plan as
a schedule, a person's agenda and the organisers' files."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matcher.scheduling import InfeasibleError, Instance, Progress, Schedule, solve
from matcher.scheduling import Meeting as ScheduledMeeting
from matcher.text import normalise
from models.db import session_scope
from models.importing import ImportValidationError, RowError
from models.tables import Conference, Meeting
from models.tables import Participant as ParticipantRow
from service.conference.affinity import affinities, instance, why
from service.conference.agenda import Agenda
from service.conference.outputs import Plan, write_outputs
from service.conference.participants import Participant, read_uploaded_participants
from service.conference.quality import plan_text
from service.conference.settings import (
    ConferenceSettings,
    SettingsError,
    Slots,
    conference_settings,
)
from service.conference.spreadsheet import MAX_UPLOAD, MAX_UPLOAD_TEXT
from service.search import IndexStore


class ConferenceError(ValueError):
    """A change the plan cannot take (message in Norwegian)."""


def ensure_editable(conf: Conference) -> None:
    """A published plan is what participants hold in their hands: it is not changed."""
    if conf.status == "published":
        raise ConferenceError("Planen er publisert og kan ikke endres.")


def agenda_of(conf: Conference) -> Agenda:
    return Agenda(conf.start_time, conf.slot_minutes, conf.event_date, conf.name, conf.place)


def split_sides(people: Sequence[Participant]) -> tuple[list[Participant], list[Participant]]:
    municipal = [p for p in people if p.side == "municipal"]
    entrepreneurs = [p for p in people if p.side == "entrepreneur"]
    if not municipal or not entrepreneurs:
        raise ConferenceError("Det trengs deltakere fra både kommunene og entreprenørene.")
    return municipal, entrepreneurs


# -- creating -------------------------------------------------------------------------------


def store_conference(
    session: Session, settings: ConferenceSettings, people: Sequence[Participant]
) -> Conference:
    conf = Conference(
        name=settings.name,
        event_date=settings.day,
        place=settings.place,
        slots=settings.slots,
        slot_minutes=settings.slot_minutes,
        start_time=settings.start,
        tables=settings.tables,
        max_per_organisation=settings.max_per_organisation,
    )
    session.add(conf)
    session.flush()
    for p in people:
        session.add(
            ParticipantRow(
                conference_id=conf.id or 0,
                external_id=p.id,
                side=p.side,
                name=p.name,
                organisation=p.organisation or None,
                description=p.description,
                themes=p.themes,
                entrepreneur_id=p.entrepreneur_id,
                max_meetings=p.max_meetings,
                min_meetings=p.min_meetings,
                unavailable_slots=sorted(p.unavailable),
                avoid=p.avoid,
                want=p.want,
            )
        )
    session.flush()
    return conf


def create_conference(
    session: Session, *, people: Sequence[Participant], **settings: Any
) -> Conference:
    """A conference from the fields of ``ConferenceSettings`` (``day=`` for the date); not
    committed."""
    return store_conference(session, conference_settings(settings), people)


@dataclass(frozen=True)
class Upload:
    """An uploaded participants file: its name says its type; at most ``MAX_UPLOAD`` + 1
    bytes of it need be read."""

    filename: str
    content: bytes


@dataclass
class NewConferenceError(ValueError):
    """Everything wrong with a new conference at once: ``problems`` per field, the rows of
    the participants file, and whether the file was too large."""

    problems: dict[str, str]
    file_errors: list[RowError] = field(default_factory=list)
    too_large: bool = False


def _slots_or_none(values: Mapping[str, Any]) -> int | None:
    try:
        return int(TypeAdapter(Slots).validate_python(values.get("slots")))
    except ValidationError:
        return None


def new_conference(
    session: Session, values: Mapping[str, Any], upload: Upload | None
) -> Conference:
    """Validate the settings and the participants file (all problems at once, the file
    against the number of slots) and store the conference, committed."""
    problems: dict[str, str] = {}
    settings: ConferenceSettings | None = None
    try:
        settings = conference_settings(values)
    except SettingsError as exc:
        problems = dict(exc.problems)
    slots = _slots_or_none(values)
    error = NewConferenceError(problems)
    people: list[Participant] = []
    if upload is None or not upload.filename:
        problems["participants"] = "Velg en deltakerliste (CSV eller Excel)."
    elif len(upload.content) > MAX_UPLOAD:
        problems["participants"], error.too_large = MAX_UPLOAD_TEXT, True
    elif slots is not None:
        try:
            people = read_uploaded_participants(upload.content, upload.filename, session, slots)
        except ImportValidationError as exc:
            error.file_errors = list(exc.errors)
            problems["participants"] = (
                f"Deltakerlisten har {len(exc.errors)} feil og ble ikke lastet opp. "
                "Rett filen og velg den på nytt."
            )
    if problems or settings is None:
        raise error
    conf = store_conference(session, settings, people)
    session.commit()
    return conf


# -- loading and planning -------------------------------------------------------------------


def participant_of(row: ParticipantRow, conf: Conference) -> Participant:
    """A stored participant as the solver sees it; a no-show is away from then on."""
    unavailable = set(row.unavailable_slots)
    if row.absent_from is not None:
        unavailable |= set(range(row.absent_from, conf.slots + 1))
    return Participant(
        id=row.external_id,
        side=row.side,
        name=row.name,
        organisation=row.organisation or "",
        text=normalise(f"{row.name}. {row.description}"),
        themes=list(row.themes),
        max_meetings=row.max_meetings,
        min_meetings=row.min_meetings or 0,
        unavailable=frozenset(unavailable),
        avoid=list(row.avoid),
        want=list(row.want),
        description=row.description,
        entrepreneur_id=row.entrepreneur_id,
    )


def _people(session: Session, conf: Conference) -> list[tuple[ParticipantRow, Participant]]:
    rows = session.exec(
        select(ParticipantRow)
        .where(ParticipantRow.conference_id == conf.id)
        .order_by(col(ParticipantRow.id))
    ).all()
    return [(r, participant_of(r, conf)) for r in rows]


@dataclass
class Loaded:
    """A stored conference as the solver sees it."""

    conf: Conference
    rows: dict[int, ParticipantRow]  # participant row id -> row
    municipal: list[Participant]
    entrepreneurs: list[Participant]
    index: dict[int, tuple[str, int]]  # participant row id -> (side, matrix index)
    affinity: np.ndarray
    instance: Instance


def load(session: Session, store: IndexStore, conf: Conference) -> Loaded:
    pairs = _people(session, conf)
    people = [p for _r, p in pairs]
    municipal, entrepreneurs = split_sides(people)
    aff = affinities(session, store, municipal, entrepreneurs)
    inst, municipal, entrepreneurs = instance(
        people, aff, conf.slots, conf.tables, conf.max_per_organisation
    )
    mi = {p.id: i for i, p in enumerate(municipal)}
    ei = {p.id: j for j, p in enumerate(entrepreneurs)}
    index = {
        r.id or 0: ("municipal", mi[r.external_id])
        if r.side == "municipal"
        else ("entrepreneur", ei[r.external_id])
        for r, _p in pairs
    }
    rows = {r.id or 0: r for r, _p in pairs}
    fixed = {}
    for m in session.exec(select(Meeting).where(Meeting.conference_id == conf.id)):
        if m.locked:
            fixed[(index[m.municipal_id][1], index[m.entrepreneur_id][1])] = m.slot
    inst.fixed = fixed
    return Loaded(conf, rows, municipal, entrepreneurs, index, aff, inst)


def plan(
    session: Session,
    store: IndexStore,
    conf: Conference,
    *,
    time_limit: float = 120.0,
    progress: Progress | None = None,
) -> Schedule:
    """(Re-)plan every meeting that is not locked; locked ones stay where they are."""
    ensure_editable(conf)
    data = load(session, store, conf)
    schedule = solve(data.instance, time_limit=time_limit, progress=progress)
    row_of = {v: k for k, v in data.index.items()}
    for old in session.exec(select(Meeting).where(Meeting.conference_id == conf.id)):
        session.delete(old)
    session.flush()
    for sm in schedule.meetings:
        session.add(
            Meeting(
                conference_id=conf.id or 0,
                municipal_id=row_of[("municipal", sm.municipal)],
                entrepreneur_id=row_of[("entrepreneur", sm.entrepreneur)],
                slot=sm.slot,
                table_no=sm.table,
                affinity=sm.affinity,
                locked=(sm.municipal, sm.entrepreneur) in data.instance.fixed,
            )
        )
    conf.objective, conf.upper_bound = schedule.objective, schedule.upper_bound
    conf.solve_status, conf.notes = schedule.status, list(schedule.notes)
    session.add(conf)
    session.flush()
    return schedule


def plan_or_refuse(
    session: Session, store: IndexStore, conf: Conference, *, time_limit: float = 120.0
) -> Schedule:
    """``plan``, with a plan that cannot exist said as a refusal (``ConferenceError``)."""
    try:
        return plan(session, store, conf, time_limit=time_limit)
    except InfeasibleError as exc:
        raise ConferenceError(f"Ingen møteplan er mulig: {exc}") from exc


def plan_stored(
    engine: Engine, store: IndexStore, conference_id: int, progress: Progress | None = None
) -> str:
    """Plan a stored conference in a session of its own (a background job), committed; the
    result in words."""
    with session_scope(engine) as session:
        conf = session.get(Conference, conference_id)
        if conf is None:
            raise ConferenceError(f"Fant ikke konferanse {conference_id}.")
        s = plan(session, store, conf, progress=progress)
        return plan_text(len(s.meetings), s.objective, s.upper_bound, s.status)


# -- the stored plan ------------------------------------------------------------------------


def stored_schedule(session: Session, data: Loaded) -> Schedule:
    """The meetings in the database as a Schedule (for the output files)."""
    meetings = [
        ScheduledMeeting(
            m.slot,
            m.table_no,
            data.index[m.municipal_id][1],
            data.index[m.entrepreneur_id][1],
            m.affinity,
        )
        for m in session.exec(
            select(Meeting)
            .where(Meeting.conference_id == data.conf.id)
            .order_by(col(Meeting.slot), col(Meeting.table_no))
        )
    ]
    conf = data.conf
    return Schedule(
        meetings=meetings,
        objective=round(sum(m.affinity for m in meetings), 4),
        upper_bound=conf.upper_bound or 0.0,
        status=conf.solve_status or "feasible",
        seconds=0.0,
        notes=list(conf.notes),
    )


def stored_agenda(
    session: Session, store: IndexStore, conf: Conference, who: ParticipantRow
) -> list[dict[str, Any]]:
    """One person's meetings with times, tables, the other side and why they meet."""
    people = {r.id: p for r, p in _people(session, conf)}
    column = Meeting.municipal_id if who.side == "municipal" else Meeting.entrepreneur_id
    out = []
    for m in session.exec(
        select(Meeting)
        .where(Meeting.conference_id == conf.id, column == who.id)
        .order_by(col(Meeting.slot))
    ):
        mp, ep = people[m.municipal_id], people[m.entrepreneur_id]
        other = ep if who.side == "municipal" else mp
        out.append(
            {
                "slot": m.slot,
                "table": m.table_no,
                "municipal": mp.id,
                "entrepreneur": ep.id,
                "other": other.name,
                "other_org": other.organisation,
                "why": why(store.analyzer, mp, ep),
            }
        )
    return out


def stored_files(session: Session, store: IndexStore, conf: Conference, out: Path) -> None:
    """The organisers' files (meetings, workbook, affinities, summary, agendas) for a stored
    plan, written into ``out``."""
    data = load(session, store, conf)
    schedule = stored_schedule(session, data)
    write_outputs(
        out,
        Plan(
            schedule,
            data.municipal,
            data.entrepreneurs,
            data.affinity,
            agenda_of(conf),
            store.analyzer,
        ),
    )


def stored_file(session: Session, store: IndexStore, conf: Conference, name: str) -> bytes:
    """One of the organisers' files (by its name in ``OUTPUTS``) of a stored plan."""
    with tempfile.TemporaryDirectory() as tmp:
        stored_files(session, store, conf, Path(tmp))
        return (Path(tmp) / name).read_bytes()
