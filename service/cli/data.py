"""Commands that move data in and out: backup, restore, database upgrade, import, the
search index and the demo data."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from models.db import current_revision, session_scope
from models.importing import ImportValidationError, import_rows, read_rows
from service.cli.output import (
    CliError,
    Progress,
    ensure_index,
    err,
    out,
    sync_index,
)
from service.runtime import (
    Runtime,
    is_empty,
    open_runtime,
    seed_demo,
    seed_demo_proposals,
    seed_demo_users,
)


def _backup_files(run: Callable[[Runtime, Path], dict[str, int]], path: Path) -> dict[str, int]:
    """``backup`` or ``restore`` on the home's database; rows per table."""
    from service.backup import BackupError

    try:
        return run(open_runtime(), path)
    except BackupError as exc:
        raise CliError(str(exc)) from exc


def cmd_backup(args: argparse.Namespace) -> int:
    from service.backup import backup

    counts = _backup_files(backup, Path(args.file))
    out(f"Sikkerhetskopi skrevet til {Path(args.file).resolve()}: {sum(counts.values())} rader")
    for table, n in counts.items():
        if n:
            out(f"  {table:<24} {n:>8}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from service.backup import restore

    counts = _backup_files(restore, Path(args.file))
    out(
        f"Gjenopprettet {sum(counts.values())} rader fra {args.file}; indeksene er bygd på nytt "
        "fra databasen."
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    rt = open_runtime()
    out(f"Databasen er oppdatert (versjon {current_revision(rt.engine)}).")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    rt = open_runtime()
    path = Path(args.file)
    try:
        rows = read_rows(path)
        err(f"Kontrollerer og lagrer {len(rows)} rader fra {path} ...")
        with session_scope(rt.engine) as session:
            result = import_rows(session, args.kind, rows)
    except ImportValidationError as exc:
        err(f"Filen {path} ble avvist; ingenting er importert. {len(exc.errors)} feil:")
        for e in exc.errors:
            err(f"  - {e}")
        return 1
    out(f"Importert fra {path}: {len(result.created)} nye, {len(result.updated)} oppdatert.")
    if args.kind != "contacts":
        _print_warnings(args.kind, rows)
        sync_index(rt)
    return 0


def _print_warnings(kind: str, rows: Sequence[dict[str, Any]]) -> None:
    """Advice for thin texts, shown before they are indexed (never a refusal)."""
    from matcher.text import profile_warnings

    shown = 0
    for n, row in enumerate(rows, start=1):
        text = f"{row.get('title') or row.get('name') or ''}. {row.get('description') or ''}"
        targets = row.get("target_groups") or []
        if isinstance(targets, str):
            targets = [t for t in targets.split(";") if t.strip()]
        warnings = profile_warnings(
            text, kind="need" if kind == "challenges" else "offer", target_groups=targets
        )
        if warnings:
            shown += 1
            out(f"Tips for rad {n} ({row.get('id')}): " + " ".join(warnings))
    if shown:
        out(f"{shown} tekster er tynne og kan gi svake treff; de er likevel importert.")


def cmd_reindex(args: argparse.Namespace) -> int:
    rt = open_runtime()
    sync_index(rt, rebuild=args.full)
    return 0


def cmd_index_verify(args: argparse.Namespace) -> int:
    rt = open_runtime()
    with session_scope(rt.engine) as session:
        reports = rt.store.verify(session)
    ok = True
    for r in reports:
        label = Progress.LABELS.get(r.name, r.name)
        if r.ok:
            out(f"{label}: OK ({r.count} vektorer)")
        else:
            ok = False
            out(f"{label}: AVVIK – {r.problem} (indeks {r.count}, database {r.expected})")
    if not ok:
        out("Kjør «brobygger reindex» for å bygge indeksen på nytt fra databasen.")
    return 0 if ok else 1


def cmd_demo_seed(args: argparse.Namespace) -> int:
    rt = open_runtime()
    if not is_empty(rt) and not args.force:
        err("Databasen har allerede data; hopper over demodata.")
        ensure_index(rt)
        return 0
    counts = seed_demo(rt)
    err(
        f"Demodata lastet inn: {counts['contacts']} kontaktpersoner, "
        f"{counts['entrepreneurs']} entreprenører, {counts['challenges']} behov."
    )
    seed_demo_users(rt)
    err("Bygger søkeindeksen ...")
    sync_index(rt)
    err(f"{seed_demo_proposals(rt)} forslag lagt i vurderingskøen.")
    return 0


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="databasen").add_subparsers(
        dest="db_cmd", required=True, metavar="HANDLING"
    )
    db.add_parser("upgrade", help="kjør migreringer").set_defaults(func=cmd_db_upgrade)

    s = sub.add_parser("backup", help="skriv hele databasen til én sikkerhetskopi (.zip)")
    s.add_argument("file", help="filen som skal skrives, f.eks. brobygger-2026-11-23.zip")
    s.set_defaults(func=cmd_backup)
    s = sub.add_parser("restore", help="gjenopprett en sikkerhetskopi i en tom database")
    s.add_argument("file", help="sikkerhetskopien (.zip) fra brobygger backup")
    s.set_defaults(func=cmd_restore)

    s = sub.add_parser("import", help="importer entreprenører, behov eller kontaktpersoner")
    s.add_argument("kind", choices=["entrepreneurs", "challenges", "contacts"])
    s.add_argument("file", help="JSON- eller CSV-fil")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("reindex", help="oppdater indeksen fra databasen")
    s.add_argument("--full", action="store_true", help="bygg hele indeksen på nytt")
    s.set_defaults(func=cmd_reindex)

    idx = sub.add_parser("index", help="indeksen").add_subparsers(
        dest="index_cmd", required=True, metavar="HANDLING"
    )
    idx.add_parser("verify", help="sjekk indeksen mot databasen").set_defaults(
        func=cmd_index_verify
    )

    demo = sub.add_parser("demo", help="demodata").add_subparsers(
        dest="demo_cmd", required=True, metavar="HANDLING"
    )
    s = demo.add_parser("seed", help="last inn demodata i en tom database")
    s.add_argument("--force", action="store_true", help="last inn selv om databasen har data")
    s.set_defaults(func=cmd_demo_seed)
