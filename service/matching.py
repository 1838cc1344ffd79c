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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matcher.embedding import Embedder, create_embedder
from matcher.errors import IndexMismatchError
from matcher.index import VectorIndex, hash_prefix
from matcher.ranking import RANKER_VERSION, Place, Profile, Suggestion, score_candidates
from matcher.text import content_hash, normalise
from models.db import session_scope
from models.importing import place_of
from models.tables import Challenge, Contact, EmbeddingCache, Entrepreneur, Organisation
from models.vocabulary import THEMES

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

ENTREPRENEURS = "entrepreneurs"
CHALLENGES = "challenges"
EMBED_BATCH = 16
# Needs and offerings are embedded once, as e5 "query:" texts (see matcher/embedding.py): the
# same vector is indexed and used to search, so a suggestion request only reads the cache.
RECORD_ROLE = "query"


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
    """Ranked suggestions plus the rows they refer to, for the faces to render."""

    suggestions: list[Suggestion]
    rows: dict[int, Any] = field(default_factory=dict)
    ranker_version: str = RANKER_VERSION


class IndexStore:
    """The two vector indexes (entrepreneurs, open challenges) of one home folder."""

    def __init__(self, folder: Path, embedder_key: str, *, search_threads: int = 1) -> None:
        self.folder = folder
        self.embedder_key = embedder_key
        self._embedder: Embedder | None = None
        self._indexes: dict[str, VectorIndex] = {}
        self._mtimes: dict[str, float] = {}
        self._lock = threading.RLock()
        faiss.omp_set_num_threads(search_threads)

    # -- embedder ------------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = create_embedder(self.embedder_key)
            return self._embedder

    # -- what the database says the index must hold ------------------------------------------

    @staticmethod
    def _expected(session: Session, name: str) -> dict[int, str]:
        if name == ENTREPRENEURS:
            return {e.id: entrepreneur_text(e) for e in session.exec(select(Entrepreneur))
                    if e.id is not None}
        rows = session.exec(select(Challenge).where(Challenge.status == "open"))
        return {c.id: challenge_text(c) for c in rows if c.id is not None}

    # -- loading and syncing ---------------------------------------------------------------------

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
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
        return VectorIndex.load(
            self.folder, name, embedder_id=self.embedder.id, dimension=self.embedder.dimension
        )

    def index(self, name: str) -> VectorIndex:
        """The current index ``name``, reloaded if another process saved a newer one."""
        with self._lock:
            mtime = self._manifest_mtime(name)
            if name not in self._indexes or self._mtimes.get(name) != mtime:
                self._indexes[name] = self._load(name)
                self._mtimes[name] = mtime
            return self._indexes[name]

    def vectors(self, session: Session, texts: Sequence[str], role: str,
                progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, int]:
        """Vectors for ``texts`` from the cache, embedding (and caching) the missing ones.

        Each batch is committed on its own, so work survives a crash.

        Returns:
            (vectors of shape ``(len(texts), dimension)``, how many texts had to be embedded).
        """
        emb = self.embedder
        hashes = [content_hash(t) for t in texts]
        out = np.zeros((len(texts), emb.dimension), dtype=np.float32)
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
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
        missing = [(h, t) for h, t in dict(zip(hashes, texts, strict=True)).items()
                   if h not in found]
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            batch_texts = [t for _, t in batch]
            vecs = (emb.embed_queries(batch_texts) if role == "query"
                    else emb.embed_passages(batch_texts))
            for (h, _), v in zip(batch, vecs, strict=True):
                found[h] = v
                session.merge(EmbeddingCache(embedder=emb.id, role=role, content_hash=h,
                                             dimension=emb.dimension, vector=v.tobytes()))
            session.commit()
            if progress:
                progress(min(start + EMBED_BATCH, len(missing)), len(missing))
        for i, h in enumerate(hashes):
            out[i] = found[h]
        return out, len(missing)

    def sync(self, session: Session, *, progress: Progress | None = None,
             rebuild: bool = False) -> list[SyncReport]:
        """Bring both indexes in line with the database and save them."""
        reports = []
        with self._file_lock(), self._lock:
            for name in (ENTREPRENEURS, CHALLENGES):
                reports.append(self._sync_one(session, name, progress, rebuild))
        return reports

    def _sync_one(self, session: Session, name: str, progress: Progress | None,
                  rebuild: bool) -> SyncReport:
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
            index = VectorIndex(embedder_id=emb.id, dimension=emb.dimension)
        want = {i: hash_prefix(content_hash(t)) for i, t in expected.items()}
        have = index.entries()
        stale = [i for i, h in have.items() if want.get(i) != h]
        fresh = sorted(i for i, h in want.items() if have.get(i) != h)
        if not stale and not fresh and not report.rebuilt and not report.reason:
            self._indexes[name], self._mtimes[name] = index, self._manifest_mtime(name)
            return report
        report.removed = index.remove(stale)
        if fresh:
            texts = [expected[i] for i in fresh]

            def tick(done: int, total: int) -> None:
                if progress:
                    progress(name, done, total)

            vecs, report.embedded = self.vectors(session, texts, RECORD_ROLE, tick)
            index.upsert(fresh, vecs, [content_hash(t) for t in texts])
            report.added = len(fresh)
        index.save(self.folder, name)
        self._indexes[name], self._mtimes[name] = index, self._manifest_mtime(name)
        return report

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

    def manifests(self) -> dict[str, dict[str, Any] | None]:
        return {n: VectorIndex.read_manifest(self.folder, n) for n in (ENTREPRENEURS, CHALLENGES)}


# -- matching ----------------------------------------------------------------------------------


def _challenge_profile(session: Session, c: Challenge) -> Profile:
    org = session.get(Organisation, c.organisation_id)
    bydel, kommune = place_of(session, org) if org else (None, None)
    return Profile(id=c.id or 0, themes=c.themes, target_groups=c.target_groups,
                   place=Place(bydel=bydel, kommune=kommune))


def _entrepreneur_profile(e: Entrepreneur) -> Profile:
    return Profile(id=e.id or 0, themes=e.themes, target_groups=e.target_groups,
                   service_areas=e.service_areas)


def _record_vector(store: IndexStore, session: Session, text: str) -> np.ndarray:
    """The record's vector: read from the cache (embedded at index time), never recomputed
    unless the record changed since the last sync."""
    return store.vectors(session, [text], RECORD_ROLE)[0][0]


def suggest(session: Session, store: IndexStore, challenge: Challenge, *,
            limit: int = 10) -> MatchResult:
    """Entrepreneurs for a challenge, best first."""
    index = store.index(ENTREPRENEURS)
    query = _record_vector(store, session, challenge_text(challenge))
    scores, ids = index.search(query, max(limit * 5, 50))
    found = [int(i) for i in ids[0] if i >= 0]
    rows: dict[int, Any] = {
        e.id: e for e in session.exec(select(Entrepreneur).where(col(Entrepreneur.id).in_(found)))
        if e.id is not None
    }
    cands = [_entrepreneur_profile(rows[i]) for i in found if i in rows]
    cos = [float(s) for s, i in zip(scores[0], ids[0], strict=True) if int(i) in rows]
    ranked = score_candidates(_challenge_profile(session, challenge), cands, cos,
                              theme_labels=THEMES)
    return MatchResult(suggestions=ranked[:limit], rows=rows)


def discover(session: Session, store: IndexStore, entrepreneur: Entrepreneur, *,
             limit: int = 10) -> MatchResult:
    """Open challenges for an entrepreneur, best first (rows are the challenges)."""
    index = store.index(CHALLENGES)
    query = _record_vector(store, session, entrepreneur_text(entrepreneur))
    scores, ids = index.search(query, max(limit * 5, 50))
    found = [int(i) for i in ids[0] if i >= 0]
    rows: dict[int, Any] = {
        c.id: c for c in session.exec(
            select(Challenge).where(col(Challenge.id).in_(found), Challenge.status == "open"))
        if c.id is not None
    }
    cands = [_challenge_profile(session, rows[i]) for i in found if i in rows]
    cos = [float(s) for s, i in zip(scores[0], ids[0], strict=True) if int(i) in rows]
    ranked = score_candidates(_entrepreneur_profile(entrepreneur), cands, cos,
                              theme_labels=THEMES)
    return MatchResult(suggestions=ranked[:limit], rows=rows)


def contacts_for(session: Session, challenge: Challenge) -> list[Contact]:
    """The named people for a challenge: its owner first, then public contacts of its field."""
    out: list[Contact] = []
    if challenge.owner_contact_id:
        owner = session.get(Contact, challenge.owner_contact_id)
        if owner:
            out.append(owner)
    for contact in session.exec(
        select(Contact).where(Contact.organisation_id == challenge.organisation_id,
                              Contact.public == True)  # noqa: E712
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
    return list(session.exec(select(Challenge).where(Challenge.status == "open")
                             .order_by(col(Challenge.id))))


def sync_engine(engine: Engine, store: IndexStore, progress: Progress | None = None,
                rebuild: bool = False) -> list[SyncReport]:
    with session_scope(engine) as session:
        return store.sync(session, progress=progress, rebuild=rebuild)
