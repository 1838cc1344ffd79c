"""Matching commands: suggestions for a need, needs for an entrepreneur."""

from __future__ import annotations

import argparse
from typing import Any

from models.db import session_scope
from service.cli.output import CliError, ensure_index, err, out
from service.formatting import number
from service.matching import (
    discover,
    find_challenge,
    find_entrepreneur,
    open_challenges,
    suggest,
    suggest_all,
)
from service.proposals import save_each, save_proposals
from service.runtime import (
    open_runtime,
)
from service.schemas import discoveries_public, suggestions_public


def _print_suggestions(payload: Any) -> None:
    out(f"Forslag til «{payload.challenge.title}» ({payload.challenge.external_id}):")
    if payload.message:
        out(f"  {payload.message} Det beste treffet er svakt; beskriv gjerne behovet mer.")
    for s in payload.suggestions:
        out(
            f"  {s.rank:>2}. {s.entrepreneur.name} ({s.entrepreneur.external_id}) – "
            f"{s.confidence.label.lower()}, poeng {number(s.score, 3)}"
        )
        out(f"      {s.explanation.get('summary', '')}")


def cmd_suggest(args: argparse.Namespace) -> int:
    if not args.all and not args.challenge:
        raise CliError("Oppgi et behov (id eller ekstern id), eller --all.")
    rt = open_runtime()
    ensure_index(rt)
    with session_scope(rt.engine) as session:
        if args.all:
            if not args.json:
                raise CliError("--all skriver én JSON-linje per behov; bruk --all --json.")
            lists = suggest_all(session, rt.store, open_challenges(session), limit=args.limit)
            for ch, result in save_each(session, lists) if args.save else lists:
                out(suggestions_public(ch, result).model_dump_json())
            return 0
        challenge = find_challenge(session, args.challenge)
        if challenge is None:
            raise CliError(f"Fant ikke behovet «{args.challenge}».")
        result = suggest(session, rt.store, challenge, limit=args.limit)
        if args.save:
            saved = save_proposals(session, challenge, result)
            err(f"{len(saved)} nye forslag lagret til vurdering.")
        payload = suggestions_public(challenge, result)
        if args.json:
            out(payload.model_dump_json(indent=2))
        else:
            _print_suggestions(payload)
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    rt = open_runtime()
    ensure_index(rt)
    with session_scope(rt.engine) as session:
        ent = find_entrepreneur(session, args.entrepreneur)
        if ent is None:
            raise CliError(f"Fant ikke entreprenøren «{args.entrepreneur}».")
        payload = discoveries_public(
            session, ent, discover(session, rt.store, ent, limit=args.limit)
        )
    if args.json:
        out(payload.model_dump_json(indent=2))
        return 0
    out(f"Åpne behov for {payload.entrepreneur.name}:")
    if not payload.challenges:
        out("  Ingen åpne behov ennå.")
    elif payload.message:
        out(f"  {payload.message} Det beste treffet er svakt.")
    for d in payload.challenges:
        out(
            f"  {d.rank:>2}. {d.challenge.title} – {d.organisation} "
            f"({d.confidence.label.lower()}, poeng {number(d.score, 3)})"
        )
        out(f"      {d.explanation.get('summary', '')}")
        for c in d.contacts:
            bits = [b for b in (c.role, c.email, c.phone) if b]
            out(f"      Kontakt: {c.name}" + (f" – {', '.join(bits)}" if bits else ""))
    return 0


def register(sub: Any) -> None:
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
