"""What every command shares: talking to the user (stdout for results, stderr for progress and
errors, Norwegian) and bringing the search index up to date with progress shown."""

from __future__ import annotations

import sys
import time

from models.db import session_scope
from service.formatting import seconds
from service.runtime import DEMO_PASSWORD, Runtime
from service.search import WAITING, sync_engine


class CliError(Exception):
    """An error to show the user (exit code 1)."""


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    sys.stderr.write(text + "\n")


class Progress:
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
            err(f"  Venter på at en annen prosess blir ferdig med søkeindeksen ({done} s) …")
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
            err(f"  Lager vektorer – {label}: {done}/{total} ({pct} %)")


def sync_index(rt: Runtime, *, rebuild: bool = False) -> None:
    started = time.monotonic()
    reports = sync_engine(rt.engine, rt.store, progress=Progress(), rebuild=rebuild)
    for r in reports:
        label = Progress.LABELS.get(r.name, r.name)
        extra = (
            f" (bygget på nytt: {r.reason})" if r.rebuilt else f" ({r.reason})" if r.reason else ""
        )
        err(
            f"  Indeks {label.lower()}: {r.count} poster, {r.added} lagt til, "
            f"{r.removed} fjernet, {r.embedded} nye vektorer{extra}"
        )
    err(f"  Indeksen er oppdatert ({seconds(time.monotonic() - started)}).")


def ensure_index(rt: Runtime) -> None:
    with session_scope(rt.engine) as session:
        if all(r.ok for r in rt.store.verify(session)):
            return
    err("Indeksen mangler eller er utdatert; bygger den fra databasen ...")
    sync_index(rt)


def print_demo_logins(rt: Runtime) -> None:
    path = rt.settings.home / "demo-innlogging.txt"
    if path.exists():
        err(f"  Demo-innlogginger (passord «{DEMO_PASSWORD}»; API: Authorization: Bearer <token>):")
        for line in path.read_text(encoding="utf-8").splitlines():
            err(f"    {line}")
