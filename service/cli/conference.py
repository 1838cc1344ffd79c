"""``brobygger conference schedule``: a meeting plan from a participants file."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from models.importing import ImportValidationError
from service.cli.output import CliError, err, out
from service.formatting import percent, seconds
from service.runtime import (
    open_runtime,
)


def cmd_conference_schedule(args: argparse.Namespace) -> int:
    """Plan the 1:1 meetings of a conference from a participants file."""
    from datetime import date

    from service.conference import (
        OUTPUTS,
        ConferenceError,
        FileSchedule,
        SettingsError,
        plan_text,
        schedule_file,
        schedule_settings,
    )

    keys = ("slots", "slot_minutes", "start", "tables", "max_per_organisation")
    try:
        settings = schedule_settings({k: getattr(args, k) for k in keys})
    except SettingsError as exc:
        flag = {k: "--" + k.replace("_", "-") for k in keys}
        raise CliError(" ".join(f"{flag.get(k, k)}: {m}" for k, m in exc.problems.items())) from exc
    try:
        day = date.fromisoformat(args.date) if args.date else date.today()
    except ValueError as exc:
        raise CliError(f"--date «{args.date}» er ikke en dato på formen ÅÅÅÅ-MM-DD.") from exc
    job = FileSchedule(
        Path(args.participants), settings, Path(args.out), day, args.name, args.time_limit
    )
    started = time.monotonic()

    def progress(step: str, share: float) -> None:
        err(f"  {percent(share):>5}  {step} ({seconds(time.monotonic() - started)})")

    try:
        schedule = schedule_file(open_runtime(), job, progress=progress, say=err)
    except ImportValidationError as exc:
        err(f"Filen {job.participants} ble avvist. {len(exc.errors)} feil:")
        for e in exc.errors:
            err(f"  - {e}")
        return 1
    except ConferenceError as exc:
        err(str(exc))
        return 2
    out(
        plan_text(len(schedule.meetings), schedule.objective, schedule.upper_bound, schedule.status)
        + f" Tok {seconds(schedule.seconds)}."
    )
    for note in schedule.notes:
        out(f"  Merk: {note}")
    out(f"Filer i {job.out}: {', '.join(OUTPUTS)}/ (HTML, PDF og .ics per person)")
    return 0


def register(sub: Any) -> None:
    conf = sub.add_parser("conference", help="møteplan for konferanser").add_subparsers(
        dest="conf_cmd", required=True, metavar="HANDLING"
    )
    s = conf.add_parser("schedule", help="planlegg 1:1-møter fra en deltakerliste (CSV)")
    s.add_argument("participants", help="CSV med deltakerne (se README)")
    s.add_argument("--slots", type=int, required=True, help="antall tidsluker")
    s.add_argument("--slot-minutes", type=int, required=True, help="minutter per tidsluke")
    s.add_argument("--start", required=True, help="starttid TT:MM")
    s.add_argument("--tables", type=int, required=True, help="antall bord")
    s.add_argument(
        "--max-per-organisation",
        type=int,
        default=None,
        help="høyst så mange fra samme organisasjon møter samme entreprenør (uten ønske)",
    )
    s.add_argument("--out", required=True, help="mappe for resultatet")
    s.add_argument("--date", default=None, help="dato ÅÅÅÅ-MM-DD (i kalenderfilene)")
    s.add_argument("--name", default="Konferanse", help="navn på arrangementet")
    s.add_argument("--time-limit", type=float, default=120.0, help="sekunder for løseren")
    s.set_defaults(func=cmd_conference_schedule)
