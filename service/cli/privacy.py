"""Privacy commands: what is stored about a person, erasure, retention."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from models.db import session_scope
from service.cli.output import CliError, out
from service.runtime import (
    open_runtime,
)
from service.search import sync_engine


def _subject(session: Any, kind: str, ref: str) -> Any:
    from service.privacy import SUBJECTS, PrivacyError

    try:
        return SUBJECTS[kind].find(session, ref)
    except PrivacyError as exc:
        raise CliError(str(exc)) from exc


def cmd_privacy_export(args: argparse.Namespace) -> int:
    from service.privacy import SUBJECTS

    rt = open_runtime()
    with session_scope(rt.engine) as session:
        data = SUBJECTS[args.kind].export(session, _subject(session, args.kind, args.ref))
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        out(f"Alt som er lagret om {args.ref} er skrevet til {Path(args.out).resolve()}.")
    else:
        out(text)
    return 0


def cmd_privacy_erase(args: argparse.Namespace) -> int:
    from service.privacy import SUBJECTS

    rt = open_runtime()
    with session_scope(rt.engine) as session:
        row = _subject(session, args.kind, args.ref)
        if not args.yes:
            raise CliError(
                f"Sletting av «{args.ref}» kan ikke angres. Kjør på nytt med --yes for å slette."
            )
        report = SUBJECTS[args.kind].erase(session, row)
    sync_engine(rt.engine, rt.store)
    out(f"Slettet «{args.ref}». Revisjonsloggen er beholdt med pseudonym.")
    for key, n in report.items():
        out(f"  {key.replace('_', ' '):<44} {n:>6}")
    return 0


def cmd_privacy_retention(args: argparse.Namespace) -> int:
    from service.privacy import retention

    rt = open_runtime()
    days = args.days if args.days is not None else rt.settings.retention_days
    with session_scope(rt.engine) as session:
        report = retention(session, days, apply=args.apply)
    verb = "Fjernet" if args.apply else "Ville fjernet (kjør med --apply for å utføre)"
    out(
        f"Lukkede behov uendret siden {report.cutoff.isoformat()} ({days} dager): "
        f"{report.closed_needs}. {verb}: {report.owner_links} koblinger til "
        f"eiere og {report.mails} e-postkopier."
    )
    return 0


def register(sub: Any) -> None:
    pv = sub.add_parser(
        "privacy", help="personvern: innsyn, sletting og lagringstid"
    ).add_subparsers(dest="privacy_cmd", required=True, metavar="HANDLING")
    s = pv.add_parser("export", help="alt som er lagret om en person (innsyn)")
    s.add_argument("kind", choices=["contact", "entrepreneur"])
    s.add_argument("ref", help="id, e-post (kontakt) eller ekstern id/org.nr. (entreprenør)")
    s.add_argument("--out", help="skriv JSON til denne filen i stedet for til skjermen")
    s.set_defaults(func=cmd_privacy_export)
    s = pv.add_parser("erase", help="slett en person; revisjonsloggen beholdes med pseudonym")
    s.add_argument("kind", choices=["contact", "entrepreneur"])
    s.add_argument("ref", help="id, e-post (kontakt) eller ekstern id/org.nr. (entreprenør)")
    s.add_argument("--yes", action="store_true", help="bekreft slettingen")
    s.set_defaults(func=cmd_privacy_erase)
    s = pv.add_parser("retention", help="fjern personkoblinger fra gamle, lukkede behov")
    s.add_argument(
        "--days", type=int, help="lagringstid i dager (standard: BROBYGGER_RETENTION_DAYS, 730)"
    )
    s.add_argument("--apply", action="store_true", help="utfør (uten: vis bare hva som fjernes)")
    s.set_defaults(func=cmd_privacy_retention)
