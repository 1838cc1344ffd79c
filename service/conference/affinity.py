"""How well two participants suit each other: affinities from the matcher (embeddings, shared
words, shared themes), the solver's instance built from them, and the reason two people meet
in words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlmodel import Session

from matcher.ranking import DEFAULT_WEIGHTS, key_phrases, rescale_similarity
from matcher.retrieval import BM25Index
from matcher.scheduling import Instance, Person
from models.vocabulary import THEMES
from service.conference.participants import Participant
from service.search import RECORD_ROLE, IndexStore

# The text and theme parts of the standard ranker, rescaled to [0, 1]: place, capacity and
# history say nothing about a conversation at a conference.
AFFINITY_WEIGHTS = {k: DEFAULT_WEIGHTS[k] for k in ("similarity", "lexical", "themes")}


def affinities(
    session: Session,
    store: IndexStore,
    municipal: Sequence[Participant],
    entrepreneurs: Sequence[Participant],
) -> np.ndarray:
    """Affinity of every pair, in [0, 1]: text similarity (embeddings, cached in the
    database), shared words (BM25 coverage) and shared themes, weighted as in the ranker."""
    texts = [p.text for p in municipal] + [p.text for p in entrepreneurs]
    vecs, _ = store.vectors(session, texts, RECORD_ROLE)
    vm, ve = vecs[: len(municipal)], vecs[len(municipal) :]
    cosine = vm @ ve.T
    similarity = np.vectorize(rescale_similarity, otypes=[float])(cosine)
    bm25 = BM25Index(store.analyzer).fit(
        list(range(len(entrepreneurs))), [p.text for p in entrepreneurs]
    )
    ids = list(range(len(entrepreneurs)))
    lexical = np.array([bm25.coverage(p.text, ids) for p in municipal])
    themes = np.array(
        [
            [
                (len(set(m.themes) & set(e.themes)) / len(set(m.themes))) if m.themes else 0.0
                for e in entrepreneurs
            ]
            for m in municipal
        ]
    )
    w = AFFINITY_WEIGHTS
    total = w["similarity"] * similarity + w["lexical"] * lexical + w["themes"] * themes
    return np.round(total / sum(w.values()), 4)


def instance(
    people: Sequence[Participant],
    affinity: np.ndarray,
    slots: int,
    tables: int,
    max_per_organisation: int | None,
) -> tuple[Instance, list[Participant], list[Participant]]:
    municipal = [p for p in people if p.side == "municipal"]
    entrepreneurs = [p for p in people if p.side == "entrepreneur"]
    mi = {p.id: i for i, p in enumerate(municipal)}
    ei = {p.id: j for j, p in enumerate(entrepreneurs)}

    def pairs(kind: str) -> set[tuple[int, int]]:
        out = set()
        for p in people:
            for ref in getattr(p, kind):
                i, j = (mi[p.id], ei[ref]) if p.side == "municipal" else (mi[ref], ei[p.id])
                out.add((i, j))
        return out

    def person(p: Participant) -> Person:
        return Person(p.id, p.name, p.organisation, p.max_meetings, p.min_meetings, p.unavailable)

    inst = Instance(
        municipal=[person(p) for p in municipal],
        entrepreneurs=[person(p) for p in entrepreneurs],
        affinity=affinity,
        slots=slots,
        tables=tables,
        avoid=pairs("avoid"),
        want=pairs("want") - pairs("avoid"),
        max_per_organisation=max_per_organisation,
    )
    return inst, municipal, entrepreneurs


def why(analyzer: Any, m: Participant, e: Participant) -> str:
    common = [THEMES.get(t, t) for t in m.themes if t in set(e.themes)]
    # the participants' own names are no words they share ("Skolekjøkkenet serverer …")
    own = {surface for p in (m, e) for _, surface in analyzer.terms(p.name)}
    words = key_phrases(
        [t for t in analyzer.terms(m.text) if t[1] not in own],
        [t for t in analyzer.terms(e.text) if t[1] not in own],
        limit=4,
    )
    bits = []
    if common:
        bits.append("Felles temaer: " + ", ".join(common))
    if words:
        bits.append("felles ord: " + ", ".join(words))
    return "; ".join(bits) + "." if bits else "Nærliggende tekster."
