"""The embedding cache: vectors by (embedder, role, content hash), in the database and in memory.

The table is content-addressed, so an entry never goes stale and two processes that embed the
same text write the same row (the second write is dropped). The in-memory memo keeps the
vectors of request-sized look-ups (the sentences explanations use come back request after
request).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from matcher.embedding import Embedder
from models.tables import EmbeddingCache, utcnow

READ_CHUNK = 500  # content hashes per IN (...) query


def write_vectors(
    session: Session, emb: Embedder, role: str, rows: Sequence[tuple[str, np.ndarray]]
) -> None:
    """Write vectors to the embedding cache; a row another thread or process wrote first is
    kept (same content hash, same vector), so two syncs embedding one text never collide."""
    if not rows:
        return
    now = utcnow()
    values: list[dict[str, Any]] = [
        {
            "embedder": emb.id,
            "role": role,
            "content_hash": h,
            "dimension": emb.dimension,
            "vector": v.tobytes(),
            "created_at": now,
            "updated_at": now,
        }
        for h, v in rows
    ]
    table = EmbeddingCache.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(sqlite_insert(table).values(values).on_conflict_do_nothing())
    elif dialect == "postgresql":
        session.execute(pg_insert(table).values(values).on_conflict_do_nothing())
    else:  # another SQLAlchemy backend: one row at a time
        for row in values:
            session.merge(EmbeddingCache(**row))


def read_vectors(
    session: Session, emb: Embedder, role: str, hashes: Iterable[str]
) -> dict[str, np.ndarray]:
    """The cached vectors of ``hashes`` (those the cache has)."""
    wanted = list(hashes)
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(wanted), READ_CHUNK):
        chunk = wanted[start : start + READ_CHUNK]
        for row in session.exec(
            select(EmbeddingCache).where(
                EmbeddingCache.embedder == emb.id,
                EmbeddingCache.role == role,
                col(EmbeddingCache.content_hash).in_(chunk),
            )
        ):
            found[row.content_hash] = np.frombuffer(row.vector, dtype=np.float32)
    return found


class VectorMemo:
    """A bounded least-recently-used memory of vectors by (role, content hash).

    Its lock is a leaf (service/search/store.py's lock order): held only for dictionary
    operations, never while taking another lock.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, role: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for h in hashes:
                vec = self._items.get((role, h))
                if vec is not None:
                    self._items.move_to_end((role, h))
                    found[h] = vec
        return found

    def put_many(self, role: str, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            for h, vec in vectors.items():
                self._items[(role, h)] = vec
            while len(self._items) > self.size:
                self._items.popitem(last=False)
