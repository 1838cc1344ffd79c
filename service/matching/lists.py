"""The ranked lists of matching: entrepreneurs for a need, needs for an entrepreneur, a draft's
preview, one given pair, a batch, and free-text search.

Each request gathers its inputs (``service.matching.inputs``), ranks them with ``matcher``
in one call over plain values, and explains the shown candidates; writing proposals is
``service.proposals``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlmodel import Session

from matcher.confidence import level
from matcher.learned import LearnedModel
from matcher.ranking import (
    RANKER_VERSION,
    Suggestion,
    equal_treatment,
    for_review,
    rescore,
    score_candidates,
    with_confidence,
)
from matcher.retrieval import fuse, lexical_confidence, top_k
from models.tables import Challenge, Entrepreneur
from models.vocabulary import THEMES
from service.matching import inputs
from service.matching.explain import explain
from service.search import IndexStore, challenge_text, entrepreneur_text

DRAFT_POOL = 50  # candidates a draft's preview is chosen from


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


@dataclass(frozen=True)
class ListOptions:
    """How a ranked list is cut and ordered.

    ``threshold``: keep only the candidates at the review cut (``matcher.confidence``), for
    the automatic step that sends proposals to review; a list people read is never cut.
    ``fair``: equal treatment (exposure spread among equally good candidates), with
    ``exposure`` counts. ``model``: a learned ranker that reorders (never decides how sure a
    match is: the confidence is calibrated on the default score).
    """

    limit: int = 10
    fair: bool = False
    threshold: bool = False
    exposure: dict[int, int] = field(default_factory=dict)
    model: LearnedModel | None = None


def rank(gathered: inputs.Gathered, options: ListOptions) -> MatchResult:
    """Score, label, reorder and cut one list: plain values in, no database."""
    ranked = score_candidates(
        gathered.source, gathered.profiles, gathered.evidence, theme_labels=THEMES
    )
    total = len(ranked)
    best = max((s.score for s in ranked), default=None)
    ranked = with_confidence(ranked)
    best_confidence = max((s.confidence for s in ranked), default=None)
    if options.threshold:
        ranked = for_review(ranked)
    version = RANKER_VERSION
    if options.model is not None:
        ranked = rescore(ranked, options.model.score, options.model.version)
        version = options.model.version
    if options.fair:
        ranked = equal_treatment(ranked, options.exposure)
    return MatchResult(
        suggestions=ranked[: options.limit],
        rows=gathered.rows,
        ranker_version=version,
        scored=total,
        best_score=best,
        best_confidence=best_confidence,
    )


def _explained(
    session: Session,
    store: IndexStore,
    gathered: inputs.Gathered,
    result: MatchResult,
    *,
    to_text: Callable[[Any], str],
    source_name: str | None = None,
) -> MatchResult:
    explain(session, store, gathered, result.suggestions, to_text=to_text, source_name=source_name)
    return result


def suggest(  # noqa: PLR0913 - the keyword options of a need's list, one ListOptions inside
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
    gathered = inputs.for_need(session, store, challenge, pool or inputs.candidate_pool(limit))
    options = ListOptions(
        limit=limit,
        fair=fair,
        threshold=threshold,
        exposure=exposure if exposure is not None else gathered.exposure,
        model=store.learned() if learned else None,
    )
    return _explained(session, store, gathered, rank(gathered, options), to_text=entrepreneur_text)


def preview(
    session: Session, store: IndexStore, draft: Challenge, *, limit: int = 5
) -> MatchResult:
    """Suggestions for a need that is still being written; the explanation is the short one
    (themes, area, score parts) without the sentence pairs of a saved need."""
    gathered = inputs.for_draft(session, store, draft, DRAFT_POOL)
    return rank(gathered, ListOptions(limit=limit))


def score_pair(
    session: Session, store: IndexStore, challenge: Challenge, entrepreneur: Entrepreneur
) -> Suggestion:
    """Score and explain one given pair (e.g. when an entrepreneur expresses interest)."""
    gathered = inputs.for_pair(session, store, challenge, entrepreneur)
    result = rank(gathered, ListOptions(limit=1))
    return _explained(session, store, gathered, result, to_text=entrepreneur_text).suggestions[0]


def discover(
    session: Session,
    store: IndexStore,
    entrepreneur: Entrepreneur,
    *,
    limit: int = 10,
    threshold: bool = False,
) -> MatchResult:
    """Open challenges for an entrepreneur, best first (rows are the challenges). Equal
    treatment is about the exposure of entrepreneurs, not of needs: no reordering here."""
    gathered = inputs.for_entrepreneur(session, store, entrepreneur, inputs.candidate_pool(limit))
    result = rank(gathered, ListOptions(limit=limit, threshold=threshold))
    return _explained(
        session, store, gathered, result, to_text=challenge_text, source_name=entrepreneur.name
    )


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
    exposure = dict(inputs.decision_stats(session).exposure) if fair else {}
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
