"""The ``brobygger`` command line: a thin face over the service functions.

Messages to the user are Norwegian; errors go to stderr with exit code 1 (2 for usage errors).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from matcher.errors import MatcherError
from models.db import current_revision, session_scope
from models.importing import ImportValidationError, import_rows, read_rows
from models.tables import Challenge, Entrepreneur
from service.formatting import number, percent, seconds
from service.matching import (
    WAITING,
    discover,
    find_challenge,
    find_entrepreneur,
    open_challenges,
    suggest,
    suggest_all,
    sync_engine,
)
from service.ranker import save_proposals
from service.runtime import (
    DEMO_PASSWORD,
    Runtime,
    is_empty,
    open_runtime,
    seed_demo,
    seed_demo_proposals,
    seed_demo_users,
)
from service.schemas import discoveries_public, suggestions_public


class CliError(Exception):
    """An error to show the user (exit code 1)."""


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


class _Progress:
    """Progress on stderr: one updating line on a terminal, a line per 25 % otherwise."""

    LABELS = {
        "entrepreneurs": "Entreprenører",
        "challenges": "Behov",
        "korpus": "Korpus",
        "spørsmål": "Spørsmål",
        "setninger": "Setninger",
    }

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._last: dict[str, int] = {}

    def __call__(self, name: str, done: int, total: int) -> None:
        if name == WAITING:
            _err(f"  Venter på at en annen prosess blir ferdig med søkeindeksen ({done} s) …")
            return
        label = self.LABELS.get(name, name)
        pct = int(100 * done / total) if total else 100
        if self._tty:
            sys.stderr.write(f"\r  Lager vektorer – {label}: {done}/{total} ({pct} %)")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif pct // 25 != self._last.get(name, -1):
            self._last[name] = pct // 25
            _err(f"  Lager vektorer – {label}: {done}/{total} ({pct} %)")


def _sync(rt: Runtime, *, rebuild: bool = False) -> None:
    started = time.monotonic()
    reports = sync_engine(rt.engine, rt.store, progress=_Progress(), rebuild=rebuild)
    for r in reports:
        label = _Progress.LABELS.get(r.name, r.name)
        extra = (
            f" (bygget på nytt: {r.reason})" if r.rebuilt else f" ({r.reason})" if r.reason else ""
        )
        _err(
            f"  Indeks {label.lower()}: {r.count} poster, {r.added} lagt til, "
            f"{r.removed} fjernet, {r.embedded} nye vektorer{extra}"
        )
    _err(f"  Indeksen er oppdatert ({seconds(time.monotonic() - started)}).")


# -- commands ------------------------------------------------------------------------------------


def cmd_backup(args: argparse.Namespace) -> int:
    from service.backup import BackupError, backup

    rt = open_runtime()
    try:
        counts = backup(rt, Path(args.file))
    except BackupError as exc:
        raise CliError(str(exc)) from exc
    _out(f"Sikkerhetskopi skrevet til {Path(args.file).resolve()}: {sum(counts.values())} rader")
    for table, n in counts.items():
        if n:
            _out(f"  {table:<24} {n:>8}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from service.backup import BackupError, restore

    rt = open_runtime()
    try:
        counts = restore(rt, Path(args.file))
    except BackupError as exc:
        raise CliError(str(exc)) from exc
    _out(
        f"Gjenopprettet {sum(counts.values())} rader fra {args.file}; indeksene er bygd på nytt "
        "fra databasen."
    )
    return 0


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
        _out(f"Alt som er lagret om {args.ref} er skrevet til {Path(args.out).resolve()}.")
    else:
        _out(text)
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
    _out(f"Slettet «{args.ref}». Revisjonsloggen er beholdt med pseudonym.")
    for key, n in report.items():
        _out(f"  {key.replace('_', ' '):<44} {n:>6}")
    return 0


def cmd_privacy_retention(args: argparse.Namespace) -> int:
    from service.privacy import retention

    rt = open_runtime()
    days = args.days if args.days is not None else rt.settings.retention_days
    with session_scope(rt.engine) as session:
        report = retention(session, days, apply=args.apply)
    verb = "Fjernet" if args.apply else "Ville fjernet (kjør med --apply for å utføre)"
    _out(
        f"Lukkede behov uendret siden {report['grense']} ({days} dager): "
        f"{report['lukkede_behov']}. {verb}: {report['eierkoblinger']} koblinger til "
        f"eiere og {report['e-poster']} e-postkopier."
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    rt = open_runtime()
    _out(f"Databasen er oppdatert (versjon {current_revision(rt.engine)}).")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    rt = open_runtime()
    path = Path(args.file)
    try:
        rows = read_rows(path)
        _err(f"Kontrollerer og lagrer {len(rows)} rader fra {path} ...")
        with session_scope(rt.engine) as session:
            result = import_rows(session, args.kind, rows)
    except ImportValidationError as exc:
        _err(f"Filen {path} ble avvist; ingenting er importert. {len(exc.errors)} feil:")
        for e in exc.errors:
            _err(f"  - {e}")
        return 1
    _out(f"Importert fra {path}: {len(result.created)} nye, {len(result.updated)} oppdatert.")
    if args.kind != "contacts":
        _print_warnings(args.kind, rows)
        _sync(rt)
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
            _out(f"Tips for rad {n} ({row.get('id')}): " + " ".join(warnings))
    if shown:
        _out(f"{shown} tekster er tynne og kan gi svake treff; de er likevel importert.")


def cmd_reindex(args: argparse.Namespace) -> int:
    rt = open_runtime()
    _sync(rt, rebuild=args.full)
    return 0


def cmd_index_verify(args: argparse.Namespace) -> int:
    rt = open_runtime()
    with session_scope(rt.engine) as session:
        reports = rt.store.verify(session)
    ok = True
    for r in reports:
        label = _Progress.LABELS.get(r.name, r.name)
        if r.ok:
            _out(f"{label}: OK ({r.count} vektorer)")
        else:
            ok = False
            _out(f"{label}: AVVIK – {r.problem} (indeks {r.count}, database {r.expected})")
    if not ok:
        _out("Kjør «brobygger reindex» for å bygge indeksen på nytt fra databasen.")
    return 0 if ok else 1


def _ensure_index(rt: Runtime) -> None:
    with session_scope(rt.engine) as session:
        if all(r.ok for r in rt.store.verify(session)):
            return
    _err("Indeksen mangler eller er utdatert; bygger den fra databasen ...")
    _sync(rt)


def _print_suggestions(payload: Any) -> None:
    _out(f"Forslag til «{payload.challenge.title}» ({payload.challenge.external_id}):")
    if payload.message:
        _out(f"  {payload.message} Det beste treffet er svakt; beskriv gjerne behovet mer.")
    for s in payload.suggestions:
        _out(
            f"  {s.rank:>2}. {s.entrepreneur.name} ({s.entrepreneur.external_id}) – "
            f"{s.confidence.label.lower()}, poeng {number(s.score, 3)}"
        )
        _out(f"      {s.explanation.get('summary', '')}")


def cmd_suggest(args: argparse.Namespace) -> int:
    if not args.all and not args.challenge:
        raise CliError("Oppgi et behov (id eller ekstern id), eller --all.")
    rt = open_runtime()
    _ensure_index(rt)
    with session_scope(rt.engine) as session:
        if args.all:
            if not args.json:
                raise CliError("--all skriver én JSON-linje per behov; bruk --all --json.")
            for ch, result in suggest_all(
                session, rt.store, open_challenges(session), limit=args.limit
            ):
                if args.save:
                    # one need at a time: a crash keeps what is done (proposal and audit line
                    # together), and running again adds only what is missing
                    save_proposals(session, ch, result)
                    session.commit()
                _out(suggestions_public(ch, result).model_dump_json())
            return 0
        challenge = find_challenge(session, args.challenge)
        if challenge is None:
            raise CliError(f"Fant ikke behovet «{args.challenge}».")
        result = suggest(session, rt.store, challenge, limit=args.limit)
        if args.save:
            saved = save_proposals(session, challenge, result)
            _err(f"{len(saved)} nye forslag lagret til vurdering.")
        payload = suggestions_public(challenge, result)
        if args.json:
            _out(payload.model_dump_json(indent=2))
        else:
            _print_suggestions(payload)
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    rt = open_runtime()
    _ensure_index(rt)
    with session_scope(rt.engine) as session:
        ent = find_entrepreneur(session, args.entrepreneur)
        if ent is None:
            raise CliError(f"Fant ikke entreprenøren «{args.entrepreneur}».")
        payload = discoveries_public(
            session, ent, discover(session, rt.store, ent, limit=args.limit)
        )
    if args.json:
        _out(payload.model_dump_json(indent=2))
        return 0
    _out(f"Åpne behov for {payload.entrepreneur.name}:")
    if not payload.challenges:
        _out("  Ingen åpne behov ennå.")
    elif payload.message:
        _out(f"  {payload.message} Det beste treffet er svakt.")
    for d in payload.challenges:
        _out(
            f"  {d.rank:>2}. {d.challenge.title} – {d.organisation} "
            f"({d.confidence.label.lower()}, poeng {number(d.score, 3)})"
        )
        _out(f"      {d.explanation.get('summary', '')}")
        for c in d.contacts:
            bits = [b for b in (c.role, c.email, c.phone) if b]
            _out(f"      Kontakt: {c.name}" + (f" – {', '.join(bits)}" if bits else ""))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from matcher.confidence import LABELS
    from service.config import get_settings
    from service.evaluation import evaluate_gold

    gold = Path(args.gold_dir)
    missing = [
        n for n in ("entrepreneurs.json", "challenges.json", "qrels.tsv") if not (gold / n).exists()
    ]
    if missing:
        raise CliError(f"Mappen {gold} mangler: {', '.join(missing)}.")
    report = evaluate_gold(gold, embedder=get_settings().embedder, progress=_Progress())
    if args.json:
        hidden = ("runs", "runs_discover", "scored_pairs", "candidates")
        _out(json.dumps({k: v for k, v in report.items() if k not in hidden}, indent=2))
        return 0
    _out(
        f"Evaluering på {gold} (embedder {report['embedder']}, "
        f"{report['methods']['full']['queries']} behov med relevante treff)"
    )
    _out(f"{'metode':<22}{'nDCG@10':>9}{'Recall@10':>11}{'MRR':>8}")
    for method, m in report["methods"].items():
        _out(
            f"{method:<22}{number(m['ndcg@10'], 3):>9}{number(m['recall@10'], 3):>11}"
            f"{number(m['mrr'], 3):>8}"
        )
    if report["by_kind"]:
        _out("\nnDCG@10 per type vanskelig tilfelle:")
        methods = list(report["methods"])
        _out(f"{'type':<12}{'behov':>6}" + "".join(f"{m:>14}" for m in methods))
        for kind, per in report["by_kind"].items():
            n = per["full"]["queries"]
            cells = "".join(f"{number(per[m]['ndcg@10'], 3):>14}" for m in methods)
            _out(f"{kind:<12}{n:>6}{cells}")
    d = report["discover"]
    _out(
        f"\nMotsatt vei (entreprenør -> behov, «brobygger discover»): nDCG@10 "
        f"{number(d['ndcg@10'], 3)} over {d['queries']} entreprenører med vurderte behov; "
        f"{d['empty']} av {d['judged']} fikk en tom liste"
    )
    _out("\nTreffsikkerhet per merke (andel par vurdert 2–3, mot forventet sannsynlighet):")
    for lvl, r in report["reliability"].items():
        _out(
            f"  {LABELS[lvl]:<14}{r['pairs']:>6} par  andel gode {number(r['good'], 3):>6}  "
            f"forventet {number(r['predicted'], 3)}"
        )
    if report["traps"]["needs"]:
        tr = report["traps"]
        _out(
            f"\nFeller: i {tr['trap_above_best']} av {tr['needs']} behov står en profil som "
            "bare ligner over det beste treffet"
        )
    t = report["review_cut"]
    _out(
        f"\nTil vurdering automatisk (sikkerhet minst {number(t['cut'], 2)}): {t['sent']} "
        f"par, presisjon {number(t['precision'], 3)}, dekning {number(t['recall'], 3)} "
        "(relevant = karakter 2–3)"
    )
    e = report["exposure"]
    _out(f"Eksponering, Gini over {e['entrepreneurs']} entreprenører (0 = helt jevnt):")
    for key, label in (
        ("kandidater", f"topp {e['limit']} som vises"),
        ("til_vurdering", "det som foreslås"),
    ):
        before, after = e[f"{key}_uten"], e[f"{key}_med"]
        _out(
            f"  {label:<22} uten likebehandling {number(before['gini'], 3)} "
            f"(maks {before['max_lists']} lister), med {number(after['gini'], 3)} "
            f"(maks {after['max_lists']} lister)"
        )
    return 0


def cmd_retrieve(args: argparse.Namespace) -> int:
    from service.benchmark import read_jsonl, run_retrieval

    try:
        corpus, queries = read_jsonl(Path(args.corpus)), read_jsonl(Path(args.queries))
    except (OSError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    rt = open_runtime()
    started = time.monotonic()
    for qid, hits in run_retrieval(
        rt, corpus, queries, method=args.method, k=args.k, progress=_Progress()
    ):
        for rank, (doc, score) in enumerate(hits, start=1):
            _out(f"{qid} Q0 {doc} {rank} {score:.6f} {args.method}")
    _err(
        f"{len(queries)} spørsmål mot {len(corpus)} dokumenter med {args.method} "
        f"på {seconds(time.monotonic() - started)}."
    )
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from models.tables import OutboxMessage
    from service.mail import Journal, deliver_due, smtp_sender

    rt = open_runtime()
    if args.outbox_cmd == "status":
        with session_scope(rt.engine) as session:
            rows = session.exec(select(OutboxMessage)).all()
        for status in ("pending", "sending", "sent", "failed"):
            _out(f"{status:<8} {sum(1 for r in rows if r.status == status)}")
        return 0
    if not rt.settings.smtp_host:
        raise CliError("BROBYGGER_SMTP_HOST er ikke satt; e-post venter i utboksen.")
    counts = deliver_due(
        rt.engine,
        smtp_sender(rt.settings),
        Journal(rt.settings.home / "outbox-sent.log"),
        stale_after=timedelta(seconds=rt.settings.outbox_stale_seconds),
    )
    _out(
        f"Sendt {counts['sent']}, gjenopprettet {counts['recovered']}, prøves igjen "
        f"{counts['retry']}, feilet {counts['failed']}."
    )
    return 0


def cmd_ranker_train(args: argparse.Namespace) -> int:
    from service.ranker import train_ranker

    rt = open_runtime()
    with session_scope(rt.engine) as session:
        result = train_ranker(session, rt.settings.index_dir)
    _out(result.reason)
    if result.model is not None:
        h = result.heldout
        _out(
            f"Versjon {result.model.version}: {result.model.decisions} vurderinger på "
            f"{result.model.challenges} behov."
        )
        _out(
            f"På behov modellen ikke er trent på ({h['pairs']} par godkjent/avvist): "
            f"lært {number(h['learned'], 3)}, standard {number(h['default'], 3)} riktig ordnet."
        )
    return 0


def cmd_ranker_status(args: argparse.Namespace) -> int:
    from matcher.learned import describe
    from matcher.ranking import DEFAULT_WEIGHTS, RANKER_VERSION
    from service.ranker import collect_decisions, current_model

    rt = open_runtime()
    with session_scope(rt.engine) as session:
        n = len(collect_decisions(session))
    model = current_model(rt.settings.index_dir)
    in_use = model.version if model is not None and model.active else RANKER_VERSION
    _out(f"I bruk: {in_use}. Vurderinger å lære av: {n}.")
    _out("Standardvekter: " + ", ".join(f"{k} {number(v, 2)}" for k, v in DEFAULT_WEIGHTS.items()))
    if model is not None:
        info = describe(model)
        state = "aktiv" if model.active else "ikke aktiv (ikke bedre enn standard)"
        _out(f"Siste lærte modell: {model.version}, {state}, trent {model.trained_at}.")
        _out("  Vekter: " + ", ".join(f"{k} {v:+.3f}" for k, v in info["weights"].items()))
    return 0


def cmd_users_create(args: argparse.Namespace) -> int:
    from service.security import UserError, create_user, issue_token

    rt = open_runtime()
    try:
        with session_scope(rt.engine) as session:
            user = create_user(
                session,
                email=args.email,
                role=args.role,
                name=args.name or "",
                password=args.password,
                organisation=args.organisation,
                entrepreneur=args.entrepreneur,
            )
            token = issue_token(session, user, label="cli")
    except UserError as exc:
        raise CliError(str(exc)) from exc
    _out(f"Bruker {user.email} ({user.role}) er opprettet.")
    _out(f"API-token (vises bare nå): {token}")
    return 0


def cmd_users_token(args: argparse.Namespace) -> int:
    from models.tables import User
    from service.security import issue_token, revoke_tokens

    rt = open_runtime()
    with session_scope(rt.engine) as session:
        user = session.exec(select(User).where(User.email == args.email.strip().lower())).first()
        if user is None:
            raise CliError(f"Fant ingen bruker med e-post {args.email}.")
        if args.revoke:
            n = revoke_tokens(session, user)
            _out(f"{n} token(s) for {user.email} er tilbakekalt.")
            return 0
        token = issue_token(session, user, label="cli")
    _out(f"Nytt API-token for {args.email} (vises bare nå): {token}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from models.tables import User

    rt = open_runtime()
    with session_scope(rt.engine) as session:
        for u in session.exec(select(User).order_by(User.id)):  # type: ignore[arg-type]
            _out(f"{u.id:>4}  {u.role:<12} {u.email}" + ("" if u.active else "  (deaktivert)"))
    return 0


def _print_demo_logins(rt: Runtime) -> None:
    path = rt.settings.home / "demo-innlogging.txt"
    if path.exists():
        _err(
            f"  Demo-innlogginger (passord «{DEMO_PASSWORD}»; API: Authorization: Bearer <token>):"
        )
        for line in path.read_text(encoding="utf-8").splitlines():
            _err(f"    {line}")


def cmd_demo_seed(args: argparse.Namespace) -> int:
    rt = open_runtime()
    if not is_empty(rt) and not args.force:
        _err("Databasen har allerede data; hopper over demodata.")
        _ensure_index(rt)
        return 0
    counts = seed_demo(rt)
    _err(
        f"Demodata lastet inn: {counts['contacts']} kontaktpersoner, "
        f"{counts['entrepreneurs']} entreprenører, {counts['challenges']} behov."
    )
    seed_demo_users(rt)
    _err("Bygger søkeindeksen ...")
    _sync(rt)
    _err(f"{seed_demo_proposals(rt)} forslag lagt i vurderingskøen.")
    return 0


# On SIGTERM or Ctrl+C, requests in flight get this many seconds to finish; then connections
# are closed. No request can take longer than its bounds (service/locks.py), so the process
# is gone seconds later.
GRACEFUL_SHUTDOWN_S = 5


def _serve_workers(host: str, port: int, workers: int) -> None:
    """uvicorn's supervisor with ``workers`` processes on one listening socket.

    The socket is made here rather than by uvicorn: uvicorn 0.54 creates it without a
    protocol number, so asyncio does not set TCP_NODELAY on the connections, and every
    response whose headers and body go out in two writes then waits ~40 ms for a delayed ACK
    (measured: 21 requests/s on one connection instead of ~470).
    """
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        raise CliError(f"Kan ikke lytte på {host}:{port}: {exc.strerror}.") from exc
    sock.set_inheritable(True)
    config = uvicorn.Config(
        "service.app:create_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    Multiprocess(config, sockets=[sock]).run()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    if args.workers < 1:
        raise CliError("--workers må være minst 1.")
    rt = open_runtime()
    _ensure_index(rt)
    with session_scope(rt.engine) as session:
        n_ent = len(session.exec(select(Entrepreneur.id)).all())
        n_ch = len(session.exec(select(Challenge.id)).all())
        first = session.exec(select(Challenge).where(Challenge.status == "open")).first()
    url = f"http://{args.host}:{args.port}"
    _err(f"\nBrobygger kjører på {url}  ({n_ent} entreprenører, {n_ch} behov)")
    _err(f"  API-dokumentasjon: {url}/docs")
    if first:
        _err(
            f"  Prøv: curl -s -H 'Authorization: Bearer <token>' "
            f"{url}/api/v1/challenges/{first.id}/suggestions"
        )
    _print_demo_logins(rt)
    if args.workers > 1:
        # Each worker process opens the same home (database and on-disk index) itself; a
        # worker that saves the index makes the others reload it on their next request.
        _err(f"  {args.workers} arbeidsprosesser deler databasen og indeksen på disk.")
    _err("  Stopp med Ctrl+C.\n")
    if args.workers > 1:
        _serve_workers(args.host, args.port, args.workers)
    else:
        uvicorn.run(
            create_app(rt),
            host=args.host,
            port=args.port,
            log_level="warning",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
    return 0


# -- parser --------------------------------------------------------------------------------------


def cmd_conference_schedule(args: argparse.Namespace) -> int:
    """Plan the 1:1 meetings of a conference from a participants file."""
    import re
    from datetime import date

    from matcher.scheduling import InfeasibleError, solve
    from service.conference import (
        OUTPUTS,
        Agenda,
        affinities,
        instance,
        plan_text,
        read_participants,
        write_outputs,
    )

    if args.slots < 1 or args.tables < 1 or args.slot_minutes < 1:
        raise CliError("--slots, --tables og --slot-minutes må være minst 1.")
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", args.start):
        raise CliError(f"--start «{args.start}» er ikke et klokkeslett på formen TT:MM.")
    try:
        day = date.fromisoformat(args.date) if args.date else date.today()
    except ValueError as exc:
        raise CliError(f"--date «{args.date}» er ikke en dato på formen ÅÅÅÅ-MM-DD.") from exc
    if args.max_per_organisation is not None and args.max_per_organisation < 1:
        raise CliError("--max-per-organisation må være minst 1.")
    rt = open_runtime()
    path = Path(args.participants)
    with session_scope(rt.engine) as session:
        try:
            people = read_participants(path, session, args.slots)
        except ImportValidationError as exc:
            _err(f"Filen {path} ble avvist. {len(exc.errors)} feil:")
            for e in exc.errors:
                _err(f"  - {e}")
            return 1
        municipal = [p for p in people if p.side == "municipal"]
        entrepreneurs = [p for p in people if p.side == "entrepreneur"]
        if not municipal or not entrepreneurs:
            _err(
                "Ingen møteplan er mulig: Det trengs deltakere fra både kommunene og "
                "entreprenørene."
            )
            return 2
        _err(
            f"{len(municipal)} fra kommunene, {len(entrepreneurs)} entreprenører. "
            "Regner ut hvor godt hvert par passer ..."
        )
        aff = affinities(session, rt.store, municipal, entrepreneurs)
    inst, municipal, entrepreneurs = instance(
        people, aff, args.slots, args.tables, args.max_per_organisation
    )
    started = time.monotonic()

    def progress(step: str, share: float) -> None:
        _err(f"  {percent(share):>5}  {step} ({seconds(time.monotonic() - started)})")

    try:
        schedule = solve(inst, time_limit=args.time_limit, progress=progress)
    except InfeasibleError as exc:
        _err(f"Ingen møteplan er mulig: {exc}")
        return 2
    out = Path(args.out)
    write_outputs(
        out,
        schedule,
        municipal,
        entrepreneurs,
        aff,
        Agenda(args.start, args.slot_minutes, day, args.name),
        rt.store.analyzer,
    )
    _out(
        plan_text(len(schedule.meetings), schedule.objective, schedule.upper_bound, schedule.status)
        + f" Tok {seconds(schedule.seconds)}."
    )
    for note in schedule.notes:
        _out(f"  Merk: {note}")
    _out(f"Filer i {out}: {', '.join(OUTPUTS)}/ (HTML, PDF og .ics per person)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="brobygger",
        description="Brobygger kobler behov i kommuner og bydeler med sosiale entreprenører.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="vis mer logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="KOMMANDO")

    s = sub.add_parser("serve", help="start web-API-et")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument(
        "--workers",
        type=int,
        default=1,
        help="antall arbeidsprosesser (de deler database og indeks på disk; standard 1)",
    )
    s.set_defaults(func=cmd_serve)

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

    s = sub.add_parser("suggest", help="foreslå entreprenører for et behov")
    s.add_argument("challenge", nargs="?", help="behovets id eller eksterne id")
    s.add_argument("--all", action="store_true", help="alle åpne behov (med --json)")
    s.add_argument(
        "--save",
        action="store_true",
        help="lagre forslagene (med forklaring og modellversjon) til vurdering",
    )
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_suggest)

    s = sub.add_parser("discover", help="åpne behov og kontaktpersoner for en entreprenør")
    s.add_argument("entrepreneur", help="entreprenørens id eller eksterne id")
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_discover)

    s = sub.add_parser("eval", help="mål treffkvalitet på et gullsett")
    s.add_argument("gold_dir")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_eval)

    users = sub.add_parser("users", help="brukere og tokens").add_subparsers(
        dest="users_cmd", required=True, metavar="HANDLING"
    )
    s = users.add_parser("create", help="opprett en bruker og skriv ut et API-token")
    s.add_argument(
        "--role",
        required=True,
        choices=["admin", "reviewer", "municipal", "entrepreneur", "organiser"],
    )
    s.add_argument("--email", required=True)
    s.add_argument("--name")
    s.add_argument("--password", help="for innlogging i nettleseren")
    s.add_argument("--organisation", help="for kommunebrukere, f.eks. «Bydel Grorud»")
    s.add_argument("--entrepreneur", help="for entreprenørbrukere: profilens eksterne id")
    s.set_defaults(func=cmd_users_create)
    s = users.add_parser("token", help="nytt token, eller --revoke for å tilbakekalle alle")
    s.add_argument("--email", required=True)
    s.add_argument("--revoke", action="store_true")
    s.set_defaults(func=cmd_users_token)
    users.add_parser("list", help="list brukere").set_defaults(func=cmd_users_list)

    outbox = sub.add_parser("outbox", help="utgående e-post").add_subparsers(
        dest="outbox_cmd", required=True, metavar="HANDLING"
    )
    outbox.add_parser("run", help="send det som venter (én runde)").set_defaults(func=cmd_outbox)
    outbox.add_parser("status", help="antall e-poster per status").set_defaults(func=cmd_outbox)

    ranker = sub.add_parser("ranker", help="rangeringsmodellen").add_subparsers(
        dest="ranker_cmd", required=True, metavar="HANDLING"
    )
    ranker.add_parser("train", help="lær av saksbehandlernes vurderinger").set_defaults(
        func=cmd_ranker_train
    )
    ranker.add_parser("status", help="hvilken modell som brukes").set_defaults(
        func=cmd_ranker_status
    )

    s = sub.add_parser("retrieve", help="kjør søkelaget på et korpus og skriv en TREC-kjøring")
    s.add_argument("corpus", help='JSONL med {"id", "text"} per linje')
    s.add_argument("queries", help='JSONL med {"id", "text"} per linje')
    s.add_argument("--method", choices=["bm25", "dense", "hybrid", "rrf"], default="hybrid")
    s.add_argument("--k", type=int, default=10)
    s.set_defaults(func=cmd_retrieve)

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

    demo = sub.add_parser("demo", help="demodata").add_subparsers(
        dest="demo_cmd", required=True, metavar="HANDLING"
    )
    s = demo.add_parser("seed", help="last inn demodata i en tom database")
    s.add_argument("--force", action="store_true", help="last inn selv om databasen har data")
    s.set_defaults(func=cmd_demo_seed)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except CliError as exc:
        _err(f"Feil: {exc}")
        return 1
    except MatcherError as exc:
        _err(f"Feil: {exc}")
        return 1
    except KeyboardInterrupt:
        _err("Avbrutt.")
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
