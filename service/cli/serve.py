"""``brobygger serve``: the web app and API, in one process or several."""

from __future__ import annotations

import argparse
from typing import Any

from sqlmodel import select

from models.db import session_scope
from models.tables import Challenge, Entrepreneur
from service.cli.output import CliError, ensure_index, err, print_demo_logins
from service.runtime import (
    open_runtime,
)

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
    ensure_index(rt)
    with session_scope(rt.engine) as session:
        n_ent = len(session.exec(select(Entrepreneur.id)).all())
        n_ch = len(session.exec(select(Challenge.id)).all())
        first = session.exec(select(Challenge).where(Challenge.status == "open")).first()
    url = f"http://{args.host}:{args.port}"
    err(f"\nBrobygger kjører på {url}  ({n_ent} entreprenører, {n_ch} behov)")
    err(f"  API-dokumentasjon: {url}/docs")
    if first:
        err(
            f"  Prøv: curl -s -H 'Authorization: Bearer <token>' "
            f"{url}/api/v1/challenges/{first.id}/suggestions"
        )
    print_demo_logins(rt)
    if args.workers > 1:
        # Each worker process opens the same home (database and on-disk index) itself; a
        # worker that saves the index makes the others reload it on their next request.
        err(f"  {args.workers} arbeidsprosesser deler databasen og indeksen på disk.")
    err("  Stopp med Ctrl+C.\n")
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


def register(sub: Any) -> None:
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
