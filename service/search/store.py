"""The index store of one home folder: the two vector indexes, their BM25 twins, the embedder
and the learned ranker beside them, loaded once per process and kept in line with the database.

Index lifecycle: the FAISS indexes are derived from the database. ``IndexStore.sync`` compares
what the database holds (id and content hash of the indexed text of every record) with what
the index holds, embeds only what is new or changed (through the content-addressed embedding
cache, committed batch by batch, so a killed re-index resumes where it stopped), updates the
index and saves it atomically. Readers reload when the manifest on disk changes, so several
processes share one on-disk index.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from matcher.embedding import Embedder, create_embedder, embed
from matcher.errors import IndexMismatchError
from matcher.index import APPROXIMATE_FROM, VectorIndex, hash_prefix
from matcher.learned import LearnedModel
from matcher.retrieval import BM25Index
from matcher.text import NorwegianAnalyzer, content_hash, sentences
from models.db import session_scope
from service.locks import PriorityLock, bounded
from service.search.cache import VectorMemo, read_vectors, write_vectors
from service.search.files import Progress, file_mtime, folder_lock, manifest_mtime
from service.search.texts import INDEXES, RECORD_ROLE, indexed_texts

log = logging.getLogger(__name__)

EMBED_BATCH = 16
# A server's background sync embeds in small batches: a request waiting for the engine waits
# for at most one batch (eight long needs take about 1.4 s on two idle cores).
BACKGROUND_BATCH = 8
MEMO_SIZE = 10_000  # sentence vectors and analysed texts kept in memory per process
MEMO_REQUEST = 200  # look-ups of at most this many texts go through that memory
# Bounds for a request (service/locks.py): the state lock is held for milliseconds; the engine
# for one embedding batch (a second or two on two cores).
STATE_SECONDS = 10.0
ENGINE_SECONDS = 8.0


@dataclass
class SyncReport:
    name: str
    count: int
    added: int = 0
    removed: int = 0
    embedded: int = 0
    rebuilt: bool = False
    reason: str = ""


@dataclass
class VerifyReport:
    name: str
    ok: bool
    count: int
    expected: int
    problem: str = ""


class IndexStore:
    """The two vector indexes (entrepreneurs, open challenges) of one home folder.

    Locks, in the one order they may be taken (outermost first):

    1. ``_sync_lock``: one sync at a time in this process;
    2. the file lock ``index/.lock`` (``service/search/files.py``): one sync at a time
       across processes;
    3. ``_lock`` (loaded indexes, BM25 cache, learned model), ``_engine`` (the embedding
       engine) and the memo's own lock: leaves. None is ever held while taking any other
       lock, while embedding (``_lock``) or while reading the database; ``_lock`` and
       ``_engine`` are taken with a bound, so a request that cannot have them answers 503
       (``IndexBusy``) instead of waiting.

    A sync builds the new index on a private copy and swaps it in at the end, so requests
    keep searching the previous index while it embeds.
    """

    def __init__(
        self,
        folder: Path,
        embedder_key: str,
        *,
        search_threads: int = 1,
        approximate_from: int = APPROXIMATE_FROM,
    ) -> None:
        self.folder = folder
        self.approximate_from = approximate_from
        self.embedder_key = embedder_key
        self._embedder: Embedder | None = None
        self._indexes: dict[str, VectorIndex] = {}
        self._mtimes: dict[str, float] = {}
        self._lexical: dict[str, tuple[str, BM25Index]] = {}
        self._learned: tuple[float, LearnedModel | None] | None = None
        self.analyzer = NorwegianAnalyzer()
        self._lock = threading.RLock()
        self._sync_lock = threading.Lock()
        # One model object is shared by the server's threads; its C engine is not documented
        # as safe for concurrent calls, so embedding is serialised (it uses both cores anyway).
        # Requests go before a background sync's batches (see service/locks.py).
        self._engine = PriorityLock()
        # Vectors and analysed terms of the sentences explanations use, by content (about
        # 15 MB of vectors at most).
        self._memo = VectorMemo(MEMO_SIZE)
        self.terms = lru_cache(maxsize=MEMO_SIZE)(self.analyzer.terms)
        self.search_threads = search_threads
        faiss.omp_set_num_threads(search_threads)

    # -- embedder ------------------------------------------------------------------------------

    def _state(self) -> AbstractContextManager[None]:
        """The in-memory state lock, bounded (it is only ever held for a few milliseconds,
        or for loading an index file)."""
        return bounded(self._lock, STATE_SECONDS, "indeksen")

    @property
    def embedder(self) -> Embedder:
        with self._state():
            if self._embedder is None:
                self._embedder = create_embedder(self.embedder_key)
            return self._embedder

    def _embedding(self, *, urgent: bool) -> AbstractContextManager[None]:
        return self._engine.hold(
            urgent=urgent, timeout=ENGINE_SECONDS if urgent else None, what="språkmodellen"
        )

    # -- reading -------------------------------------------------------------------------------

    def _load(self, name: str) -> VectorIndex:
        index = VectorIndex.load(
            self.folder, name, embedder_id=self.embedder.id, dimension=self.embedder.dimension
        )
        index.approximate_from = self.approximate_from
        return index

    def index(self, name: str) -> VectorIndex:
        """The current index ``name``, reloaded if another process saved a newer one.

        Also sets FAISS's thread count for the calling thread: OpenMP keeps it per thread, so
        a server's request threads would otherwise search with every core each (slower for
        single queries, and their idle threads spin).
        """
        faiss.omp_set_num_threads(self.search_threads)
        with self._state():
            mtime = manifest_mtime(self.folder, name)
            if name not in self._indexes or self._mtimes.get(name) != mtime:
                self._indexes[name] = self._load(name)
                self._mtimes[name] = mtime
            return self._indexes[name]

    def learned(self) -> LearnedModel | None:
        """The active learned ranker beside the index, if any (reloaded when it changes)."""
        mtime = file_mtime(self.folder / "ranker.json")
        if mtime is None:
            return None
        with self._state():
            if self._learned is None or self._learned[0] != mtime:
                self._learned = (mtime, LearnedModel.load(self.folder))
            model = self._learned[1]
        return model if model is not None and model.active else None

    def embed_query(self, text: str) -> np.ndarray:
        """One free-text query, embedded once (not cached: searches are rarely repeated)."""
        emb = self.embedder  # before the engine lock: the two are never held together
        with self._embedding(urgent=True):
            return emb.embed_queries([text])[0]

    def lexical(self, session: Session, name: str) -> BM25Index:
        """BM25 over the texts of the records in vector index ``name`` (rebuilt when it
        changes; building is fast, a few ms per thousand profiles)."""
        index = self.index(name)
        key = index.fingerprint()
        with self._state():
            cached = self._lexical.get(name)
            if cached and cached[0] == key:
                return cached[1]
        texts = indexed_texts(session, name)
        ids = sorted(i for i in index.entries() if i in texts)
        bm25 = BM25Index(self.analyzer).fit(ids, [texts[i] for i in ids])
        with self._state():
            self._lexical[name] = (key, bm25)
        return bm25

    def vectors(
        self,
        session: Session,
        texts: Sequence[str],
        role: str,
        progress: Callable[[int, int], None] | None = None,
        *,
        urgent: bool = True,
    ) -> tuple[np.ndarray, int]:
        """Vectors for ``texts`` from the cache, embedding (and caching) the missing ones.

        Each batch is committed on its own, so work survives a crash. ``urgent`` is for a
        request waiting on the answer (it goes before background work and gives up with
        ``IndexBusy`` after ``ENGINE_SECONDS``); a sync passes ``False``.

        Returns:
            (vectors of shape ``(len(texts), dimension)``, how many texts had to be embedded).
        """
        emb = self.embedder
        hashes = [content_hash(t) for t in texts]
        by_hash = dict(zip(hashes, texts, strict=True))
        memo = len(texts) <= MEMO_REQUEST  # request-sized look-ups, not re-indexing
        found = self._memo.get_many(role, by_hash) if memo else {}
        found.update(read_vectors(session, emb, role, (h for h in by_hash if h not in found)))
        missing = [(h, t) for h, t in by_hash.items() if h not in found]
        step = EMBED_BATCH if urgent else BACKGROUND_BATCH
        for start in range(0, len(missing), step):
            batch = missing[start : start + step]
            with self._embedding(urgent=urgent):
                vecs = embed(emb, [t for _, t in batch], role)
            found.update((h, v) for (h, _), v in zip(batch, vecs, strict=True))
            write_vectors(session, emb, role, [(h, found[h]) for h, _ in batch])
            session.commit()
            if progress:
                progress(min(start + step, len(missing)), len(missing))
        if memo:
            self._memo.put_many(role, found)
        out = np.zeros((len(texts), emb.dimension), dtype=np.float32)
        for i, h in enumerate(hashes):
            out[i] = found[h]
        return out, len(missing)

    # -- syncing -------------------------------------------------------------------------------

    def sync(
        self,
        session: Session,
        *,
        progress: Progress | None = None,
        rebuild: bool = False,
        background: bool = False,
    ) -> list[SyncReport]:
        """Bring both indexes in line with the database and save them. ``background``: a
        server's indexer thread (its embedding gives way to requests)."""
        with self._sync_lock, folder_lock(self.folder, progress):
            return [
                self._sync_one(session, name, progress, rebuild=rebuild, urgent=not background)
                for name in INDEXES
            ]

    def _start(self, name: str, report: SyncReport, *, rebuild: bool) -> VectorIndex:
        """The index a sync of ``name`` starts from: the saved one, or a new empty one (with
        the reason in ``report``)."""
        index: VectorIndex | None = None
        if rebuild:
            report.rebuilt, report.reason = True, "full ombygging ble bedt om"
        elif manifest_mtime(self.folder, name) < 0:
            report.reason = "ny indeks"
        else:
            try:
                index = self._load(name)
            except IndexMismatchError as exc:
                report.rebuilt, report.reason = True, str(exc)
        if index is None:
            emb = self.embedder
            index = VectorIndex(
                embedder_id=emb.id, dimension=emb.dimension, approximate_from=self.approximate_from
            )
        return index

    def _sync_one(
        self,
        session: Session,
        name: str,
        progress: Progress | None,
        *,
        rebuild: bool,
        urgent: bool,
    ) -> SyncReport:
        expected = indexed_texts(session, name)
        report = SyncReport(name=name, count=len(expected))
        index = self._start(name, report, rebuild=rebuild)
        want = {i: hash_prefix(content_hash(t)) for i, t in expected.items()}
        have = index.entries()
        stale = [i for i, h in have.items() if want.get(i) != h]
        fresh = sorted(i for i, h in want.items() if have.get(i) != h)
        if stale or fresh or report.rebuilt or report.reason:
            report.removed = index.remove(stale)
            if fresh:
                texts = [expected[i] for i in fresh]
                vecs, report.embedded = self._embed_records(session, name, texts, progress, urgent)
                index.upsert(fresh, vecs, [content_hash(t) for t in texts])
                report.added = len(fresh)
            index.optimise()  # exact below the threshold, a tuned approximate index above it
            index.save(self.folder, name)
        with self._state():
            self._indexes[name] = index
            self._mtimes[name] = manifest_mtime(self.folder, name)
        return report

    def _embed_records(
        self,
        session: Session,
        name: str,
        texts: list[str],
        progress: Progress | None,
        urgent: bool,
    ) -> tuple[np.ndarray, int]:
        """Vectors of the records' texts, and of their sentences for explanations ("this
        sentence of the need matches that sentence of the offer"), embedded now so that a
        suggestion never embeds."""

        def tick(phase: str) -> Callable[[int, int], None]:
            return lambda done, total: progress(phase, done, total) if progress else None

        out = self.vectors(session, texts, RECORD_ROLE, tick(name), urgent=urgent)
        parts = [p for t in texts for p in sentences(t)]
        self.vectors(session, parts, RECORD_ROLE, tick("setninger"), urgent=urgent)
        return out

    def holds(self, name: str, record_id: int | None, text: str) -> bool:
        """Whether index ``name`` holds ``record_id`` made from this very ``text`` (a saved
        record is searchable, and its sentence vectors are cached, once this is true)."""
        if record_id is None:
            return False
        try:
            index = self.index(name)
        except IndexMismatchError:
            return False
        return index.hash_of(record_id) == hash_prefix(content_hash(text))

    def verify(self, session: Session) -> list[VerifyReport]:
        """Check both indexes against the database without changing anything."""
        out = []
        for name in INDEXES:
            texts = indexed_texts(session, name)
            want = {i: hash_prefix(content_hash(t)) for i, t in texts.items()}
            try:
                index = self._load(name)
            except IndexMismatchError as exc:
                out.append(VerifyReport(name, False, 0, len(want), str(exc)))
                continue
            problem = ""
            have = index.entries()
            if have != want:
                missing = sum(1 for i, h in want.items() if have.get(i) != h)
                extra = sum(1 for i in have if i not in want)
                problem = f"{missing} mangler eller er utdatert, {extra} finnes ikke i databasen"
            out.append(VerifyReport(name, not problem, len(index), len(want), problem))
        return out

    def ensure(self, session: Session, progress: Progress | None = None) -> list[SyncReport]:
        """Verify and, where needed, sync (the start-up check)."""
        if all(r.ok for r in self.verify(session)):
            for name in INDEXES:
                self.index(name)
            return []
        return self.sync(session, progress=progress)

    def warm(self, session: Session) -> None:
        """Load both indexes and build their BM25 indexes now (a server calls this before it
        takes requests, so the first request is as fast as the others; building BM25 over
        10,000 profiles takes about 2 s here). A missing index is left to the next sync."""
        for name in INDEXES:
            try:
                self.lexical(session, name)
            except IndexMismatchError as exc:
                log.warning("indeksen «%s» ble ikke lastet ved oppstart: %s", name, exc)

    def manifests(self) -> dict[str, dict[str, Any] | None]:
        return {n: VectorIndex.read_manifest(self.folder, n) for n in INDEXES}


def sync_engine(
    engine: Engine, store: IndexStore, progress: Progress | None = None, *, rebuild: bool = False
) -> list[SyncReport]:
    with session_scope(engine) as session:
        return store.sync(session, progress=progress, rebuild=rebuild)
