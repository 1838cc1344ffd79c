"""Database rows -> matcher inputs: profiles, decision history and the candidates of a list.

Everything a ranking needs is gathered here, in one step per request, before the matcher is
called (``service.matching.lists``); the matcher never waits on the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from matcher.groups import groups_of
from matcher.index import hash_prefix
from matcher.ranking import Evidence, Place, Profile
from matcher.text import content_hash
from models.organisations import place_of
from models.tables import Challenge, Entrepreneur, Organisation, Proposal, aware
from service.search import (
    CHALLENGES,
    ENTREPRENEURS,
    RECORD_ROLE,
    IndexStore,
    challenge_text,
    entrepreneur_text,
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


def _count(counts: dict[int, int], key: int) -> None:
    counts[key] = counts.get(key, 0) + 1


def decision_stats(
    session: Session, entrepreneur_ids: Sequence[int] | None = None
) -> DecisionStats:
    stats = DecisionStats()
    since = datetime.now(UTC) - timedelta(days=EXPOSURE_DAYS)
    query = select(
        Proposal.entrepreneur_id, Proposal.challenge_id, Proposal.status, Proposal.created_at
    )
    if entrepreneur_ids is not None:
        query = query.where(col(Proposal.entrepreneur_id).in_(list(entrepreneur_ids)))
    for ent, ch, status, created in session.exec(query):
        if status in ACTIVE_STATUSES:
            _count(stats.active, ent)
        if status != "proposed":
            _count(stats.decided, ent)
        if status in APPROVED_STATUSES:
            _count(stats.approved, ent)
        if status == "rejected":
            stats.rejected_pairs.add((ch, ent))
        if aware(created) >= since:
            _count(stats.exposure, ent)
    return stats


def challenge_profile(session: Session, c: Challenge) -> Profile:
    org = session.get(Organisation, c.organisation_id)
    bydel, kommune = place_of(session, org) if org else (None, None)
    return Profile(
        id=c.id or 0,
        themes=c.themes,
        target_groups=groups_of(c.target_groups, challenge_text(c)),
        place=Place(bydel=bydel, kommune=kommune),
        language=c.language,
    )


def entrepreneur_profile(e: Entrepreneur, stats: DecisionStats | None = None) -> Profile:
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


def live_entrepreneurs(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """The rows of ``ids`` that are still profiles (an erased one may linger in an index
    until the next sync; it is never shown)."""
    query = select(Entrepreneur).where(
        col(Entrepreneur.id).in_(list(ids)), col(Entrepreneur.erased_at).is_(None)
    )
    return {e.id: e for e in session.exec(query) if e.id is not None}


def open_needs(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """The rows of ``ids`` that are open needs."""
    query = select(Challenge).where(col(Challenge.id).in_(list(ids)), Challenge.status == "open")
    return {c.id: c for c in session.exec(query) if c.id is not None}


def candidate_pool(limit: int) -> int:
    """How many candidates a list of ``limit`` is chosen from."""
    return max(limit * 5, 50)


def record_vector(
    store: IndexStore,
    session: Session,
    text: str,
    source: tuple[str, int | None] | None = None,
) -> np.ndarray:
    """The record's vector, embedded at index time: read from index ``source[0]`` when it
    holds record ``source[1]`` made from this very text, else from the embedding cache (which
    embeds only if the record changed since the last sync)."""
    name, record_id = source or (None, None)
    if name is not None and record_id is not None:
        index = store.index(name)
        if index.hash_of(record_id) == hash_prefix(content_hash(text)):
            vec = index.vector(record_id)
            if vec is not None:
                return vec
    return store.vectors(session, [text], RECORD_ROLE)[0][0]


@dataclass
class Candidates:
    """Dense and lexical candidates of a text, united: the cosine and the lexical share of
    each, in retrieval order."""

    ids: list[int]
    cosine: dict[int, float]
    share: dict[int, float]

    def evidence(self, ids: Sequence[int]) -> list[Evidence]:
        return [Evidence(cosine=self.cosine[i], lexical=self.share.get(i, 0.0)) for i in ids]


def candidates(
    session: Session,
    store: IndexStore,
    name: str,
    text: str,
    n: int,
    *,
    vec: np.ndarray | None = None,
    source: tuple[str, int | None] | None = None,
) -> Candidates:
    """The ``n`` best of index ``name`` by vector and by BM25. ``vec`` is the text's vector
    when it is not a stored record (a draft); ``source`` names the index and id of the stored
    record the text belongs to, whose vector is read from there."""
    index = store.index(name)
    if vec is None:
        vec = record_vector(store, session, text, source)
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
    return Candidates(found, cosine, share)


@dataclass
class Gathered:
    """Everything one list is ranked from, read from the database in one step."""

    text: str  # the source record's indexed text
    source: Profile
    rows: dict[int, Any]  # candidate id -> row (entrepreneurs for a need, needs for one)
    ids: list[int]  # the candidates to rank, in retrieval order
    profiles: list[Profile]
    evidence: list[Evidence]
    exposure: dict[int, int] = field(default_factory=dict)


def _entrepreneurs(
    session: Session, text: str, source: Profile, found: Candidates, *, need_id: int | None
) -> Gathered:
    """The live entrepreneurs among ``found`` with their history, without those rejected
    for need ``need_id`` (a stored need; a draft has none)."""
    rows = live_entrepreneurs(session, found.ids)
    stats = decision_stats(session, list(rows))
    rejected = {e for (c, e) in stats.rejected_pairs if need_id is not None and c == need_id}
    ids = [i for i in found.ids if i in rows and i not in rejected]
    return Gathered(
        text=text,
        source=source,
        rows=rows,
        ids=ids,
        profiles=[entrepreneur_profile(rows[i], stats) for i in ids],
        evidence=found.evidence(ids),
        exposure=stats.exposure,
    )


def for_need(session: Session, store: IndexStore, challenge: Challenge, pool: int) -> Gathered:
    """The entrepreneurs a need's list is ranked from (without those rejected for it)."""
    text = challenge_text(challenge)
    found = candidates(session, store, ENTREPRENEURS, text, pool, source=(CHALLENGES, challenge.id))
    source = challenge_profile(session, challenge)
    return _entrepreneurs(session, text, source, found, need_id=challenge.id)


def for_draft(session: Session, store: IndexStore, draft: Challenge, pool: int) -> Gathered:
    """The entrepreneurs a need still being written is previewed against: the draft is
    embedded once and not cached (drafts change with every keystroke)."""
    text = challenge_text(draft)
    found = candidates(session, store, ENTREPRENEURS, text, pool, vec=store.embed_query(text))
    return _entrepreneurs(session, text, challenge_profile(session, draft), found, need_id=None)


def for_entrepreneur(
    session: Session, store: IndexStore, entrepreneur: Entrepreneur, pool: int
) -> Gathered:
    """The open needs an entrepreneur's list ("Behov for deg") is ranked from."""
    text = entrepreneur_text(entrepreneur)
    found = candidates(
        session, store, CHALLENGES, text, pool, source=(ENTREPRENEURS, entrepreneur.id)
    )
    rows = open_needs(session, found.ids)
    ids = [i for i in found.ids if i in rows]
    stats = decision_stats(session, [entrepreneur.id or 0])
    return Gathered(
        text=text,
        source=entrepreneur_profile(entrepreneur, stats),
        rows=rows,
        ids=ids,
        profiles=[challenge_profile(session, rows[i]) for i in ids],
        evidence=found.evidence(ids),
    )


def for_pair(
    session: Session, store: IndexStore, challenge: Challenge, entrepreneur: Entrepreneur
) -> Gathered:
    """One given pair (e.g. when an entrepreneur expresses interest in a need)."""
    text, other = challenge_text(challenge), entrepreneur_text(entrepreneur)
    cosine = float(record_vector(store, session, text) @ record_vector(store, session, other))
    eid = entrepreneur.id or 0
    share = float(store.lexical(session, ENTREPRENEURS).coverage(text, [eid])[0])
    stats = decision_stats(session, [eid])
    return Gathered(
        text=text,
        source=challenge_profile(session, challenge),
        rows={eid: entrepreneur},
        ids=[eid],
        profiles=[entrepreneur_profile(entrepreneur, stats)],
        evidence=[Evidence(cosine=cosine, lexical=share)],
    )
