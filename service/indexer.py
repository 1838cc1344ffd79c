"""Re-indexing after a save, outside the request that saved.

A saved need or profile is in the database at once; making it searchable (embedding the
record and its sentences, updating the FAISS index) takes seconds and runs here, in one
background thread per server process. Requests coalesce: ten saves while a sync runs cause one
more sync, not ten. A face that wants the result waits with a bound (``wait``), or shows
"being prepared" and asks again (``IndexStore.holds``).
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.engine import Engine

from models.db import session_scope
from service.search import IndexStore

log = logging.getLogger(__name__)


class Indexer:
    """A background sync of ``store`` with the database of ``engine``, on request."""

    def __init__(self, engine: Engine, store: IndexStore) -> None:
        self.engine, self.store = engine, store
        self._cond = threading.Condition()
        self._wanted = 0  # tickets handed out
        self._done = 0  # every ticket up to this one is synced
        self._thread: threading.Thread | None = None
        self.error = ""  # the last sync's failure, shown by pages that wait ("" when fine)

    def request(self) -> int:
        """Ask for a sync that sees everything committed before this call; returns a ticket
        for ``wait``."""
        with self._cond:
            self._wanted += 1
            ticket = self._wanted
            if self._thread is None or not self._thread.is_alive():
                # daemon: a stopping server does not wait for a sync; what a sync writes is
                # committed batch by batch and the index is swapped in by atomic renames.
                self._thread = threading.Thread(
                    target=self._run, name="brobygger-indexer", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
            return ticket

    def wait(self, ticket: int, timeout: float) -> bool:
        """Whether the sync of ``ticket`` finished within ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: self._done >= ticket, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._wanted > self._done, timeout=60):
                    self._thread = None  # idle for a minute: the next request starts one
                    return
                target = self._wanted
            try:
                with session_scope(self.engine) as session:
                    self.store.sync(session, background=True)
                    self.store.warm(session)  # BM25 rebuilt here, not in the next request
                self.error = ""
            except Exception as exc:  # logged and shown; the next request tries again
                log.exception("background re-index failed")
                self.error = type(exc).__name__
                time.sleep(1)  # a database that is away is not hammered
            with self._cond:
                self._done = max(self._done, target)
                self._cond.notify_all()
