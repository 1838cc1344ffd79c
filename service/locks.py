"""Bounded locks for the index store: no request waits for a resource forever.

``IndexBusy`` is what a request gets when the index or the embedding engine stays taken past
its bound; the app answers it with a Norwegian 503 and ``Retry-After`` instead of hanging.

``PriorityLock`` guards the embedding engine. Python's own locks are not fair: a background
re-index that embeds batch after batch could take the engine again and again while a
request's preview waits. Here waiting requests (``urgent``) go before background work, in the
order they came, and background work gets its turn after half a second of waiting, so neither side
can starve the other. No library on PyPI offers a priority mutex with timeouts for threads,
and this is a few lines over ``threading.Condition``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

BUSY_MESSAGE = "Søket er opptatt akkurat nå. Prøv igjen om noen sekunder."


class IndexBusy(RuntimeError):
    """The index or the embedding engine could not be had within its bound."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{BUSY_MESSAGE} ({what})")
        self.what = what


@dataclass(eq=False)
class _Waiter:
    urgent: bool
    since: float


class PriorityLock:
    """A mutex with a timeout: urgent waiters go first, in the order they came; a background
    waiter that has waited ``patience`` seconds counts as urgent, so re-indexing under a
    steady stream of requests is slowed, never stopped."""

    def __init__(self, patience: float = 0.5) -> None:
        self.patience = patience
        self._cond = threading.Condition()
        self._held = False
        self._queue: list[_Waiter] = []

    def _first(self, now: float) -> _Waiter:
        for w in self._queue:
            if w.urgent or now - w.since >= self.patience:
                return w
        return self._queue[0]

    @contextmanager
    def hold(self, *, urgent: bool, timeout: float | None, what: str) -> Iterator[None]:
        """Hold the lock; ``IndexBusy(what)`` if it cannot be had within ``timeout`` s."""
        me = _Waiter(urgent, time.monotonic())
        with self._cond:
            self._queue.append(me)
            try:
                while self._held or self._first(time.monotonic()) is not me:
                    left = None if timeout is None else me.since + timeout - time.monotonic()
                    if left is not None and left <= 0:
                        raise IndexBusy(what)
                    # wake up now and then: a background waiter's patience runs out by time
                    self._cond.wait(self.patience / 4 if left is None else min(left, 0.25))
            finally:
                self._queue.remove(me)
                self._cond.notify_all()
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()


@contextmanager
def bounded(lock: threading.RLock | threading.Lock, timeout: float, what: str) -> Iterator[None]:
    """``with lock`` that gives up with ``IndexBusy(what)`` after ``timeout`` seconds."""
    if not lock.acquire(timeout=timeout):
        raise IndexBusy(what)
    try:
        yield
    finally:
        lock.release()
