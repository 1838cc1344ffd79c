"""Accounts and mail: users, API tokens and the outbox."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from sqlmodel import select

from models.db import session_scope
from service.cli.output import CliError, out
from service.runtime import (
    open_runtime,
)


def cmd_users_create(args: argparse.Namespace) -> int:
    from service.conflicts import Conflict
    from service.security import NewUser, UserError, new_api_token, register_user

    rt = open_runtime()
    new = NewUser(
        email=args.email,
        role=args.role,
        name=args.name or "",
        password=args.password,
        organisation=args.organisation,
        entrepreneur=args.entrepreneur,
    )
    option = {"organisation": "--organisation", "entrepreneur": "--entrepreneur ID"}
    with session_scope(rt.engine) as session:
        try:
            user = register_user(session, new)
        except (UserError, Conflict) as exc:
            flag = option.get(exc.field)
            text = f"{str(exc).rstrip('.')} ({flag})." if flag else str(exc)
            raise CliError(text) from exc
        token = new_api_token(session, user, "cli")
        out(f"Bruker {user.email} ({user.role}) er opprettet.")
    out(f"API-token (vises bare nå): {token}")
    return 0


def cmd_users_token(args: argparse.Namespace) -> int:
    from models.tables import User
    from service.security import new_api_token, withdraw_tokens

    rt = open_runtime()
    with session_scope(rt.engine) as session:
        user = session.exec(select(User).where(User.email == args.email.strip().lower())).first()
        if user is None:
            raise CliError(f"Fant ingen bruker med e-post {args.email}.")
        if args.revoke:
            n = withdraw_tokens(session, user)
            out(f"{n} token(s) for {user.email} er tilbakekalt.")
            return 0
        token = new_api_token(session, user, "cli")
    out(f"Nytt API-token for {args.email} (vises bare nå): {token}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from models.tables import User

    rt = open_runtime()
    with session_scope(rt.engine) as session:
        for u in session.exec(select(User).order_by(User.id)):  # type: ignore[arg-type]
            out(f"{u.id:>4}  {u.role:<12} {u.email}" + ("" if u.active else "  (deaktivert)"))
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from models.tables import OutboxMessage
    from service.mail import Journal, deliver_due, smtp_sender

    rt = open_runtime()
    if args.outbox_cmd == "status":
        with session_scope(rt.engine) as session:
            rows = session.exec(select(OutboxMessage)).all()
        for status in ("pending", "sending", "sent", "failed"):
            out(f"{status:<8} {sum(1 for r in rows if r.status == status)}")
        return 0
    if not rt.settings.smtp_host:
        raise CliError("BROBYGGER_SMTP_HOST er ikke satt; e-post venter i utboksen.")
    counts = deliver_due(
        rt.engine,
        smtp_sender(rt.settings),
        Journal(rt.settings.home / "outbox-sent.log"),
        stale_after=timedelta(seconds=rt.settings.outbox_stale_seconds),
    )
    out(
        f"Sendt {counts['sent']}, gjenopprettet {counts['recovered']}, prøves igjen "
        f"{counts['retry']}, feilet {counts['failed']}."
    )
    return 0


def register(sub: Any) -> None:
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
