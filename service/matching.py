"""The one place where database rows become matcher inputs, and matcher results become answers.

Index lifecycle: the FAISS indexes are derived from the database. ``IndexStore.sync`` compares
what the database holds (id and content hash of the embedded text of every record) with what
the index holds, embeds only what is new or changed (through the content-addressed
``EmbeddingCache`` table, committed batch by batch, so a killed re-index resumes where it
stopped), updates the index and saves it atomically. Readers reload when the manifest on disk
changes, so several processes share one on-disk index.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matcher.confidence import level
from matcher.embedding import Embedder, create_embedder
from matcher.errors import IndexMismatchError
from matcher.groups import groups_of
from matcher.index import APPROXIMATE_FROM, VectorIndex, hash_prefix
from matcher.learned import LearnedModel
from matcher.ranking import (
    RANKER_VERSION,
    Evidence,
    Place,
    Profile,
    Suggestion,
    best_sentence_pair,
    equal_treatment,
    for_review,
    key_phrases,
    rescore,
    score_candidates,
    with_confidence,
)
from matcher.retrieval import BM25Index, fuse, lexical_confidence, top_k
from matcher.text import NorwegianAnalyzer, content_hash, normalise, sentences
from models.db import session_scope
from models.importing import place_of
from models.tables import (
    Challenge,
    Contact,
    EmbeddingCache,
    Entrepreneur,
    Organisation,
    Proposal,
    aware,
    utcnow,
)
from models.vocabulary import THEMES
from service.locks import PriorityLock, bounded

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

ENTREPRENEURS = "entrepreneurs"
CHALLENGES = "challenges"
WAITING = "venter"  # progress phase while another process syncs: (WAITING, seconds, 0)
EMBED_BATCH = 16
# A server's background sync embeds in small batches: a request waiting for the engine waits
# for at most one batch (eight long needs take about 1.4 s on two idle cores).
BACKGROUND_BATCH = 8
MEMO_SIZE = 10_000  # sentence vectors and analysed texts kept in memory per process
MEMO_REQUEST = 200  # look-ups of at most this many texts go through that memory
# Needs and offerings are embedded once, as e5 "query:" texts (see matcher/embedding.py): the
# same vector is indexed and used to search, so a suggestion request only reads the cache.
RECORD_ROLE = "query"
# Bounds for a request (service/locks.py): the state lock is held for milliseconds; the engine
# for one embedding batch (a second or two on two cores).
STATE_SECONDS = 10.0
ENGINE_SECONDS = 8.0


def _cache_vectors(
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
    else:  # another SQLAlchemy backend: one row at a time, as before
        for row in values:
            session.merge(EmbeddingCache(**row))


def entrepreneur_text(e: Entrepreneur) -> str:
    return normalise(f"{e.name}. {e.description}")


def challenge_text(c: Challenge) -> str:
    return normalise(f"{c.title}. {c.description}")


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


@dataclass
class MatchResult:
    """Ranked suggestions plus the rows they refer to, for the faces to render.

    Every suggestion carries its calibrated confidence; ``best_confidence`` is the best
    candidate's, so a face says "no good match yet" exactly when that one is itself weak.
    """

    suggestions: list[Suggestion]
    rows: dict[int, Any] = field(default_factory=dict)
    ranker_version: str = RANKER_VERSION
    scored: int = 0  # candidates scored in all (those shown and the rest)
    best_score: float | None = None  # the best candidate's score, shown or not
    best_confidence: float | None = None

    @property
    def weak(self) -> bool:
        """No candidate better than a weak match (or none at all): "Ingen gode treff ennå"."""
        return self.best_confidence is None or level(self.best_confidence) == "svakt"


class IndexStore:
    """The two vector indexes (entrepreneurs, open challenges) of one home folder.

    Locks, in the one order they may be taken (outermost first):

    1. ``_sync_lock``: one sync at a time in this process;
    2. the file lock ``index/.lock``: one sync at a time across processes;
    3. ``_lock`` (loaded indexes, BM25 cache, memo, learned model) and ``_engine`` (the
       embedding engine): leaves. Neither is ever held while taking any other lock, while
       embedding (``_lock``) or while reading the database; both are taken with a bound, so
       a request that cannot have them answers 503 (``IndexBusy``) instead of waiting.

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
        # Vectors and analysed terms of the sentences explanations use, by content: the same
        # profiles come back request after request, and content-addressed entries never go
        # stale. Bounded (about 15 MB of vectors).
        self._memo: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
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

    def _embedding(self, urgent: bool) -> AbstractContextManager[None]:
        return self._engine.hold(
            urgent=urgent, timeout=ENGINE_SECONDS if urgent else None, what="språkmodellen"
        )

    # -- what the database says the index must hold ------------------------------------------

    @staticmethod
    def _expected(session: Session, name: str) -> dict[int, str]:
        if name == ENTREPRENEURS:
            return {
                e.id: entrepreneur_text(e)
                for e in session.exec(
                    select(Entrepreneur).where(col(Entrepreneur.erased_at).is_(None))
                )
                if e.id is not None
            }
        rows = session.exec(select(Challenge).where(Challenge.status == "open"))
        return {c.id: challenge_text(c) for c in rows if c.id is not None}

    # -- loading and syncing ---------------------------------------------------------------------

    @contextmanager
    def _file_lock(self, progress: Progress | None = None) -> Iterator[None]:
        """The index folder's lock. Another process's sync is waited for (it always ends:
        nothing holds this lock while waiting on a request), saying so through ``progress``
        every few seconds instead of hanging silently."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "w") as fh:
            tries = 0
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if progress and tries % 25 == 0:  # every 5 s
                        progress(WAITING, tries // 5, 0)
                    time.sleep(0.2)
                    tries += 1
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _manifest_mtime(self, name: str) -> float:
        try:
            return os.stat(self.folder / f"{name}.manifest.json").st_mtime_ns
        except OSError:
            return -1.0

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
            mtime = self._manifest_mtime(name)
            if name not in self._indexes or self._mtimes.get(name) != mtime:
                self._indexes[name] = self._load(name)
                self._mtimes[name] = mtime
            return self._indexes[name]

    def learned(self) -> LearnedModel | None:
        """The active learned ranker beside the index, if any (reloaded when it changes)."""
        path = self.folder / "ranker.json"
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
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
        texts = self._expected(session, name)
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
        out = np.zeros((len(texts), emb.dimension), dtype=np.float32)
        found: dict[str, np.ndarray] = {}
        memo = len(texts) <= MEMO_REQUEST  # request-sized look-ups, not re-indexing
        if memo:
            with self._state():
                for h in hashes:
                    vec = self._memo.get((role, h))
                    if vec is not None:
                        self._memo.move_to_end((role, h))
                        found[h] = vec
        unique = [h for h in dict.fromkeys(hashes) if h not in found]
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            for row in session.exec(
                select(EmbeddingCache).where(
                    EmbeddingCache.embedder == emb.id,
                    EmbeddingCache.role == role,
                    col(EmbeddingCache.content_hash).in_(chunk),
                )
            ):
                found[row.content_hash] = np.frombuffer(row.vector, dtype=np.float32)
        missing = [
            (h, t) for h, t in dict(zip(hashes, texts, strict=True)).items() if h not in found
        ]
        step = EMBED_BATCH if urgent else BACKGROUND_BATCH
        for start in range(0, len(missing), step):
            batch = missing[start : start + step]
            batch_texts = [t for _, t in batch]
            with self._embedding(urgent):
                vecs = (
                    emb.embed_queries(batch_texts)
                    if role == "query"
                    else emb.embed_passages(batch_texts)
                )
            for (h, _), v in zip(batch, vecs, strict=True):
                found[h] = v
            _cache_vectors(session, emb, role, [(h, found[h]) for h, _ in batch])
            session.commit()
            if progress:
                progress(min(start + step, len(missing)), len(missing))
        for i, h in enumerate(hashes):
            out[i] = found[h]
        if memo:
            with self._state():
                for h in hashes:
                    self._memo[(role, h)] = found[h]
                while len(self._memo) > MEMO_SIZE:
                    self._memo.popitem(last=False)
        return out, len(missing)

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
        reports = []
        with self._sync_lock, self._file_lock(progress):
            for name in (ENTREPRENEURS, CHALLENGES):
                reports.append(self._sync_one(session, name, progress, rebuild, not background))
        return reports

    def _sync_one(
        self, session: Session, name: str, progress: Progress | None, rebuild: bool, urgent: bool
    ) -> SyncReport:
        emb = self.embedder
        expected = self._expected(session, name)
        report = SyncReport(name=name, count=len(expected))
        index: VectorIndex | None = None
        if not rebuild and self._manifest_mtime(name) < 0:
            report.reason = "ny indeks"
        elif not rebuild:
            try:
                index = self._load(name)
            except IndexMismatchError as exc:
                report.rebuilt, report.reason = True, str(exc)
        else:
            report.rebuilt, report.reason = True, "full ombygging ble bedt om"
        if index is None:
            index = VectorIndex(
                embedder_id=emb.id, dimension=emb.dimension, approximate_from=self.approximate_from
            )
        want = {i: hash_prefix(content_hash(t)) for i, t in expected.items()}
        have = index.entries()
        stale = [i for i, h in have.items() if want.get(i) != h]
        fresh = sorted(i for i, h in want.items() if have.get(i) != h)
        if not stale and not fresh and not report.rebuilt and not report.reason:
            with self._state():
                self._indexes[name], self._mtimes[name] = index, self._manifest_mtime(name)
            return report
        report.removed = index.remove(stale)
        if fresh:
            texts = [expected[i] for i in fresh]

            def tick(done: int, total: int) -> None:
                if progress:
                    progress(name, done, total)

            vecs, report.embedded = self.vectors(session, texts, RECORD_ROLE, tick, urgent=urgent)
            # Sentence vectors for explanations ("this sentence of the need matches that
            # sentence of the offer"), embedded now so that a suggestion never embeds.
            parts = [p for t in texts for p in sentences(t)]

            def tick_sentences(done: int, total: int) -> None:
                if progress:
                    progress("setninger", done, total)

            self.vectors(session, parts, RECORD_ROLE, tick_sentences, urgent=urgent)
            index.upsert(fresh, vecs, [content_hash(t) for t in texts])
            report.added = len(fresh)
        index.optimise()  # exact below the threshold, a tuned approximate index above it
        index.save(self.folder, name)
        with self._state():
            self._indexes[name], self._mtimes[name] = index, self._manifest_mtime(name)
        return report

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
        for name in (ENTREPRENEURS, CHALLENGES):
            expected = self._expected(session, name)
            want = {i: hash_prefix(content_hash(t)) for i, t in expected.items()}
            try:
                index = self._load(name)
            except IndexMismatchError as exc:
                out.append(VerifyReport(name, False, 0, len(want), str(exc)))
                continue
            problem = ""
            if index.entries() != want:
                have = index.entries()
                missing = sum(1 for i, h in want.items() if have.get(i) != h)
                extra = sum(1 for i in have if i not in want)
                problem = f"{missing} mangler eller er utdatert, {extra} finnes ikke i databasen"
            out.append(VerifyReport(name, not problem, len(index), len(want), problem))
        return out

    def ensure(self, session: Session, progress: Progress | None = None) -> list[SyncReport]:
        """Verify and, where needed, sync (the start-up check)."""
        if all(r.ok for r in self.verify(session)):
            for name in (ENTREPRENEURS, CHALLENGES):
                self.index(name)
            return []
        return self.sync(session, progress=progress)

    def warm(self, session: Session) -> None:
        """Load both indexes and build their BM25 indexes now (a server calls this before it
        takes requests, so the first request is as fast as the others; building BM25 over
        10,000 profiles takes about 2 s here). A missing index is left to the next sync."""
        for name in (ENTREPRENEURS, CHALLENGES):
            try:
                self.lexical(session, name)
            except IndexMismatchError as exc:
                log.warning("indeksen «%s» ble ikke lastet ved oppstart: %s", name, exc)

    def manifests(self) -> dict[str, dict[str, Any] | None]:
        return {n: VectorIndex.read_manifest(self.folder, n) for n in (ENTREPRENEURS, CHALLENGES)}


# -- matching ----------------------------------------------------------------------------------


def _challenge_profile(session: Session, c: Challenge) -> Profile:
    org = session.get(Organisation, c.organisation_id)
    bydel, kommune = place_of(session, org) if org else (None, None)
    return Profile(
        id=c.id or 0,
        themes=c.themes,
        target_groups=groups_of(c.target_groups, challenge_text(c)),
        place=Place(bydel=bydel, kommune=kommune),
        language=c.language,
    )


ACTIVE_STATUSES = ("approved", "contacted", "in_dialogue")
APPROVED_STATUSES = ("approved", "contacted", "in_dialogue", "agreement", "closed")
EXPOSURE_DAYS = 90


@dataclass
class DecisionStats:
    """What earlier proposals say about each entrepreneur."""

    active: dict[int, int] = field(default_factory=dict)
    approved: dict[int, int] = field(default_factory=dict)
    decided: dict[int, int] = field(default_factory=dict)
    exposure: dict[int, int] = field(default_factory=dict)
    rejected_pairs: set[tuple[int, int]] = field(default_factory=set)


def decision_stats(
    session: Session, entrepreneur_ids: Sequence[int] | None = None
) -> DecisionStats:
    from datetime import UTC, datetime, timedelta

    stats = DecisionStats()
    since = datetime.now(UTC) - timedelta(days=EXPOSURE_DAYS)
    query = select(
        Proposal.entrepreneur_id, Proposal.challenge_id, Proposal.status, Proposal.created_at
    )
    if entrepreneur_ids is not None:
        query = query.where(col(Proposal.entrepreneur_id).in_(list(entrepreneur_ids)))
    for ent, ch, status, created in session.exec(query):
        if status in ACTIVE_STATUSES:
            stats.active[ent] = stats.active.get(ent, 0) + 1
        if status != "proposed":
            stats.decided[ent] = stats.decided.get(ent, 0) + 1
        if status in APPROVED_STATUSES:
            stats.approved[ent] = stats.approved.get(ent, 0) + 1
        if status == "rejected":
            stats.rejected_pairs.add((ch, ent))
        if aware(created) >= since:
            stats.exposure[ent] = stats.exposure.get(ent, 0) + 1
    return stats


def _entrepreneur_profile(e: Entrepreneur, stats: DecisionStats | None = None) -> Profile:
    eid = e.id or 0
    st = stats or DecisionStats()
    return Profile(
        id=eid,
        themes=e.themes,
        target_groups=groups_of(e.target_groups, entrepreneur_text(e)),
        service_areas=e.service_areas,
        language=e.language,
        capacity=e.capacity,
        active=st.active.get(eid, 0),
        approved=st.approved.get(eid, 0),
        decided=st.decided.get(eid, 0),
        exposure=st.exposure.get(eid, 0),
    )


def _record_vector(
    store: IndexStore,
    session: Session,
    text: str,
    name: str | None = None,
    record_id: int | None = None,
) -> np.ndarray:
    """The record's vector, embedded at index time: read from index ``name`` when it holds
    ``record_id`` made from this very text, else from the embedding cache (which embeds only
    if the record changed since the last sync)."""
    if name is not None and record_id is not None:
        index = store.index(name)
        if index.hash_of(record_id) == hash_prefix(content_hash(text)):
            vec = index.vector(record_id)
            if vec is not None:
                return vec
    return store.vectors(session, [text], RECORD_ROLE)[0][0]


def _candidates(
    session: Session,
    store: IndexStore,
    name: str,
    text: str,
    n: int,
    vec: np.ndarray | None = None,
    source: tuple[str, int | None] | None = None,
) -> tuple[list[int], dict[int, float], dict[int, float]]:
    """Dense and lexical candidates, united; cosine and lexical share for each. ``vec`` is
    the text's vector when it is not a stored record (a draft); ``source`` names the index
    and id of the stored record the text belongs to, whose vector is read from there."""
    index = store.index(name)
    if vec is None:
        vec = _record_vector(store, session, text, *(source or (None, None)))
    scores, ids = index.search(vec, n)
    cosine = {int(i): float(sc) for sc, i in zip(scores[0], ids[0], strict=True) if i >= 0}
    bm25 = store.lexical(session, name)
    lex_scores = bm25.scores(text)
    for j in np.argsort(-lex_scores)[:n]:
        doc = int(bm25.ids[j])
        if lex_scores[j] > 0 and doc not in cosine:
            other = index.vector(doc)
            if other is not None:
                cosine[doc] = float(other @ vec)
    found = list(cosine)
    share = dict(zip(found, (float(x) for x in bm25.coverage(text, found)), strict=True))
    return found, cosine, share


def _evidence(
    session: Session,
    store: IndexStore,
    source_text: str,
    cand_texts: dict[int, str],
    cosine: dict[int, float],
    share: dict[int, float],
    explain_ids: set[int],
    *,
    source_name: str | None = None,
    cand_names: dict[int, str] | None = None,
) -> dict[int, Evidence]:
    """Evidence per candidate; sentence pairs and key phrases for those in ``explain_ids``.

    An entrepreneur's text starts with its name (``entrepreneur_text``); that sentence is
    never evidence: it is left out of the sentence pairs, and a word found only in a name is
    no shared word (``source_name``, ``cand_names``: the names of the two sides, if any)."""
    out = {i: Evidence(cosine=cosine[i], lexical=share.get(i, 0.0)) for i in cand_texts}
    if not explain_ids:
        return out
    names = cand_names or {}
    src_sents = _content(source_text, source_name)
    cand_sents = {i: _content(cand_texts[i], names.get(i)) for i in explain_ids}
    flat = [x for group in [src_sents, *cand_sents.values()] for x in group]
    vecs, _ = store.vectors(session, flat, RECORD_ROLE)
    by_text = dict(zip(flat, vecs, strict=True))
    src_vecs = np.array([by_text[x] for x in src_sents])
    src_stems = [{stem for stem, _ in store.terms(x)} for x in src_sents]
    src_terms = _without_name(store, [t for x in src_sents for t in store.terms(x)], source_name)
    for i in explain_ids:
        cand_stems = [{stem for stem, _ in store.terms(x)} for x in cand_sents[i]]
        shared = np.array([[len(a & b) for b in cand_stems] for a in src_stems], dtype=float)
        cand_vecs = np.array([by_text[x] for x in cand_sents[i]])
        out[i].sentences = best_sentence_pair(
            src_sents, src_vecs, cand_sents[i], cand_vecs, shared
        )
        cand_terms = [t for x in cand_sents[i] for t in store.terms(x)]
        out[i].key_phrases = key_phrases(src_terms, _without_name(store, cand_terms, names.get(i)))
    return out


def _without_name(
    store: IndexStore, terms: list[tuple[str, str]], name: str | None
) -> list[tuple[str, str]]:
    """``terms`` without the words of ``name`` ("Skolekjøkkenet serverer …" in the profile of
    Skolekjøkkenet AS: its own name is no word it shares with a need)."""
    if not name:
        return terms
    own = {surface for _, surface in store.terms(name)}
    return [(stem, surface) for stem, surface in terms if surface not in own]


def _content(text: str, name: str | None) -> list[str]:
    """The sentences of a record's text without the leading name sentence (if it has one,
    and if anything else is left)."""
    parts = sentences(text)
    if name and len(parts) > 1 and parts[0].rstrip(".") == normalise(name).rstrip("."):
        return parts[1:]
    return parts


def candidate_pool(limit: int) -> int:
    """How many candidates a list of ``limit`` is chosen from."""
    return max(limit * 5, 50)


def _live_entrepreneurs(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """The rows of ``ids`` that are still profiles (an erased one may linger in an index
    until the next sync; it is never shown)."""
    query = select(Entrepreneur).where(
        col(Entrepreneur.id).in_(list(ids)), col(Entrepreneur.erased_at).is_(None)
    )
    return {e.id: e for e in session.exec(query) if e.id is not None}


def suggest(
    session: Session,
    store: IndexStore,
    challenge: Challenge,
    *,
    limit: int = 10,
    fair: bool = True,
    threshold: bool = False,
    exposure: dict[int, int] | None = None,
    learned: bool = True,
    pool: int | None = None,
) -> MatchResult:
    """Entrepreneurs for a challenge, best first.

    Args:
        pool: candidates to retrieve (default ``max(5 * limit, 50)``); a page that shows
            "all" asks for the same pool as its default list, so the counts agree.
        fair: apply equal treatment (exposure spreading among equally good candidates).
        threshold: only the candidates at the review cut (``matcher.confidence``), for the
            automatic step that sends proposals to review; a list people read is never cut.
        exposure: counts to use instead of the database's recent proposals (batch runs add
            what they proposed so far).
        learned: order by the active learned ranker, if there is one.
    """
    text = challenge_text(challenge)
    found, cosine, share = _candidates(
        session,
        store,
        ENTREPRENEURS,
        text,
        pool or candidate_pool(limit),
        source=(CHALLENGES, challenge.id),
    )
    rows = _live_entrepreneurs(session, found)
    stats = decision_stats(session, list(rows))
    rejected = {e for (c, e) in stats.rejected_pairs if c == challenge.id}
    ids = [i for i in found if i in rows and i not in rejected]
    cands = [_entrepreneur_profile(rows[i], stats) for i in ids]
    ev = _evidence(
        session, store, text, {i: entrepreneur_text(rows[i]) for i in ids}, cosine, share, set()
    )
    ranked = score_candidates(
        _challenge_profile(session, challenge), cands, [ev[i] for i in ids], theme_labels=THEMES
    )
    return _finish(
        session,
        store,
        text,
        ranked,
        rows,
        to_text=entrepreneur_text,
        limit=limit,
        fair=fair,
        threshold=threshold,
        exposure=exposure if exposure is not None else stats.exposure,
        learned=learned,
        from_need=True,
    )


def _finish(
    session: Session,
    store: IndexStore,
    text: str,
    ranked: list[Suggestion],
    rows: dict[int, Any],
    *,
    to_text: Callable[[Any], str],
    limit: int,
    fair: bool,
    threshold: bool,
    exposure: dict[int, int],
    learned: bool = False,
    from_need: bool,
    source_name: str | None = None,
) -> MatchResult:
    """Confidence, learned reordering, equal treatment, and the full explanation of the shown.

    ``threshold``: keep only the candidates at the review cut (the automatic step that sends
    proposals to review); lists people read are never cut, each candidate is labelled.
    ``from_need``: ``text`` is a need's and ``rows`` are entrepreneurs (else the other way
    round, when an entrepreneur discovers needs), so that "the need says" quotes the need."""
    total = len(ranked)
    best = max((s.score for s in ranked), default=None)
    # On the default score, whose scale the confidence was calibrated on: a learned model may
    # reorder candidates, never decide how sure a match is.
    ranked = with_confidence(ranked)
    best_confidence = max((s.confidence for s in ranked), default=None)
    if threshold:
        ranked = for_review(ranked)
    version = RANKER_VERSION
    model = store.learned() if learned else None
    if model is not None:
        ranked = rescore(ranked, model.score, model.version)
        version = model.version
    if fair:
        ranked = equal_treatment(ranked, exposure)
    top = ranked[:limit]
    detail = _evidence(
        session,
        store,
        text,
        {s.id: to_text(rows[s.id]) for s in top},
        {s.id: s.features["cosine"] for s in top},
        {s.id: s.features["lexical"] for s in top},
        {s.id for s in top},
        source_name=source_name,
        cand_names={s.id: rows[s.id].name for s in top} if from_need else None,
    )
    for s in top:
        ev = detail[s.id]
        s.explanation["key_phrases"] = list(ev.key_phrases)
        pair = ev.sentences if from_need or not ev.sentences else ev.sentences[::-1]
        s.explanation["sentences"] = {"need": pair[0], "offer": pair[1]} if pair else None
        if ev.key_phrases:
            s.explanation["summary"] = (
                s.explanation["summary"].rstrip(".")
                + "; felles ord: "
                + ", ".join(ev.key_phrases[:4])
                + "."
            )
    return MatchResult(
        suggestions=top,
        rows=rows,
        ranker_version=version,
        scored=total,
        best_score=best,
        best_confidence=best_confidence,
    )


def preview(
    session: Session, store: IndexStore, draft: Challenge, *, limit: int = 5
) -> MatchResult:
    """Suggestions for a need that is still being written: the draft is embedded once and
    not cached (drafts change with every keystroke), and the explanation is the short one
    (themes, area, score parts) without the sentence pairs of a saved need."""
    text = challenge_text(draft)
    found, cosine, share = _candidates(
        session, store, ENTREPRENEURS, text, 50, vec=store.embed_query(text)
    )
    rows = _live_entrepreneurs(session, found)
    ids = [i for i in found if i in rows]
    stats = decision_stats(session, ids)
    ranked = score_candidates(
        _challenge_profile(session, draft),
        [_entrepreneur_profile(rows[i], stats) for i in ids],
        [Evidence(cosine=cosine[i], lexical=share.get(i, 0.0)) for i in ids],
        theme_labels=THEMES,
    )
    ranked = with_confidence(ranked)
    return MatchResult(
        suggestions=ranked[:limit],
        rows=rows,
        scored=len(ranked),
        best_score=ranked[0].score if ranked else None,
        best_confidence=ranked[0].confidence if ranked else None,
    )


def score_pair(
    session: Session, store: IndexStore, challenge: Challenge, entrepreneur: Entrepreneur
) -> Suggestion:
    """Score and explain one given pair (e.g. when an entrepreneur expresses interest)."""
    text, other = challenge_text(challenge), entrepreneur_text(entrepreneur)
    cosine = float(_record_vector(store, session, text) @ _record_vector(store, session, other))
    eid = entrepreneur.id or 0
    share = float(store.lexical(session, ENTREPRENEURS).coverage(text, [eid])[0])
    stats = decision_stats(session, [eid])
    ranked = score_candidates(
        _challenge_profile(session, challenge),
        [_entrepreneur_profile(entrepreneur, stats)],
        [Evidence(cosine=cosine, lexical=share)],
        theme_labels=THEMES,
    )
    result = _finish(
        session,
        store,
        text,
        ranked,
        {eid: entrepreneur},
        to_text=entrepreneur_text,
        limit=1,
        fair=False,
        threshold=False,
        exposure={},
        from_need=True,
    )
    return result.suggestions[0]


def search_text(
    session: Session, store: IndexStore, name: str, query: str, limit: int = 10
) -> list[tuple[int, float]]:
    """Free text -> ``(record id, fused score)`` of index ``name``, best first.

    The text is embedded once; dense and BM25 scores of every indexed record are fused as in
    ``matcher.retrieval`` (the method evaluated on NorQuAD and the gold set).
    """
    index = store.index(name)
    if len(index) == 0:
        return []
    vec = store.embed_query(query)
    bm25 = store.lexical(session, name)
    scores, found = index.search(vec, len(index))
    ids = np.asarray(bm25.ids, dtype=np.int64)
    dense = np.zeros(len(ids))
    order = np.argsort(ids)
    pos = np.searchsorted(ids, found[0], sorter=order)
    inside = pos < len(ids)
    hit = order[pos[inside]]
    same = ids[hit] == found[0][inside]
    dense[hit[same]] = scores[0][inside][same]
    lexical = bm25.scores(query)
    fused = fuse(dense, lexical, lexical_confidence(bm25, query, lexical))
    return [(int(ids[j]), float(fused[j])) for j in top_k(fused, limit)]


def max_lists_per_entrepreneur(n_challenges: int) -> int:
    """In a batch, one entrepreneur appears in at most a quarter of the lists (at least 3),
    unless it is the clear best for a need."""
    return max(3, -(-n_challenges // 4))


def suggest_all(
    session: Session,
    store: IndexStore,
    challenges: Sequence[Challenge],
    *,
    limit: int = 10,
    fair: bool = True,
    threshold: bool = False,
) -> Iterator[tuple[Challenge, MatchResult]]:
    """Suggestions for many challenges at once, spreading exposure across the batch.

    With ``fair``, exposure counts start from the database's recent proposals and grow with
    what this batch proposes, and one entrepreneur appears in at most
    ``max_lists_per_entrepreneur`` lists unless it has the best score of a list.
    """
    exposure = dict(decision_stats(session).exposure) if fair else {}
    cap = max_lists_per_entrepreneur(len(challenges))
    shown: dict[int, int] = {}
    for ch in challenges:
        result = suggest(
            session,
            store,
            ch,
            limit=limit * 2 if fair else limit,
            fair=fair,
            threshold=threshold,
            exposure=exposure,
        )
        if fair and result.suggestions:
            best = max(s.score for s in result.suggestions)
            kept = [s for s in result.suggestions if shown.get(s.id, 0) < cap or s.score >= best]
            result.suggestions = kept[:limit]
            for s in result.suggestions:
                exposure[s.id] = exposure.get(s.id, 0) + 1
                shown[s.id] = shown.get(s.id, 0) + 1
        yield ch, result


def discover(
    session: Session,
    store: IndexStore,
    entrepreneur: Entrepreneur,
    *,
    limit: int = 10,
    threshold: bool = False,
) -> MatchResult:
    """Open challenges for an entrepreneur, best first (rows are the challenges)."""
    text = entrepreneur_text(entrepreneur)
    found, cosine, share = _candidates(
        session,
        store,
        CHALLENGES,
        text,
        max(limit * 5, 50),
        source=(ENTREPRENEURS, entrepreneur.id),
    )
    rows: dict[int, Any] = {
        c.id: c
        for c in session.exec(
            select(Challenge).where(col(Challenge.id).in_(found), Challenge.status == "open")
        )
        if c.id is not None
    }
    ids = [i for i in found if i in rows]
    cands = [_challenge_profile(session, rows[i]) for i in ids]
    ev = _evidence(
        session, store, text, {i: challenge_text(rows[i]) for i in ids}, cosine, share, set()
    )
    me = _entrepreneur_profile(entrepreneur, decision_stats(session, [entrepreneur.id or 0]))
    ranked = score_candidates(me, cands, [ev[i] for i in ids], theme_labels=THEMES)
    # Equal treatment is about exposure of entrepreneurs, not of needs: no reordering here.
    return _finish(
        session,
        store,
        text,
        ranked,
        rows,
        to_text=challenge_text,
        limit=limit,
        fair=False,
        threshold=threshold,
        exposure={},
        from_need=False,
        source_name=entrepreneur.name,
    )


def contacts_for(session: Session, challenge: Challenge) -> list[Contact]:
    """The named people for a challenge: its owner first, then public contacts of its field."""
    out: list[Contact] = []
    if challenge.owner_contact_id:
        owner = session.get(Contact, challenge.owner_contact_id)
        if owner:
            out.append(owner)
    for contact in session.exec(
        select(Contact).where(
            Contact.organisation_id == challenge.organisation_id, col(Contact.public).is_(True)
        )
    ):
        if contact not in out and set(contact.fields) & set(challenge.themes):
            out.append(contact)
    return out


def find_challenge(session: Session, key: str) -> Challenge | None:
    """By internal id (digits) or external id."""
    if key.isdigit():
        found = session.get(Challenge, int(key))
        if found:
            return found
    return session.exec(select(Challenge).where(Challenge.external_id == key)).first()


def find_entrepreneur(session: Session, key: str) -> Entrepreneur | None:
    if key.isdigit():
        found = session.get(Entrepreneur, int(key))
        if found:
            return found
    return session.exec(select(Entrepreneur).where(Entrepreneur.external_id == key)).first()


def open_challenges(session: Session) -> list[Challenge]:
    return list(
        session.exec(
            select(Challenge).where(Challenge.status == "open").order_by(col(Challenge.id))
        )
    )


def sync_engine(
    engine: Engine, store: IndexStore, progress: Progress | None = None, rebuild: bool = False
) -> list[SyncReport]:
    with session_scope(engine) as session:
        return store.sync(session, progress=progress, rebuild=rebuild)
