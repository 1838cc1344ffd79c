"""Scoring, explaining and fairly ordering candidates for a match, over plain values.

The default scorer is a transparent weighted sum. Each feature lies in [0, 1]; the score is
``sum(weight * feature)`` and the explanation lists every part, so a reviewer can recompute
any score by hand.

Features (weight) and meaning:

- ``similarity`` (0.676): cosine of the two e5 embeddings, rescaled from where real text pairs
  lie (0.70 unrelated ... 0.95 near-identical) to [0, 1];
- ``lexical`` (0.105): share of the searching text's words (Norwegian stems, compounds split,
  weighted by idf) found in the candidate;
- ``themes`` (0.085): share of the searching record's themes the candidate also has;
- ``area`` (0.04): 1 if the candidate works where the need is (bydel, kommune, Oslo for a
  bydel, any bydel for a need of Oslo as a whole), 0.7 for the whole country, else 0. A
  preference, never a filter, and never strong enough to bury an excellent offer from a
  neighbouring kommune;
- ``target_groups`` (0.054): share of the searching record's target groups the candidate
  serves too; the groups are read from each text and its target-group field
  (``matcher.groups``: "over 80 år" is ``eldre``); 0.5 when one side names none;
- ``capacity`` (0.02): room for another partnership, 1 - active / capacity; 0.5 if unknown;
- ``history`` (0.02): reviewers' earlier decisions on this candidate,
  (approved + 1) / (decided + 2); 0.5 without history.

The first five weights are learned (``bench/fit_ranking.py``: a pairwise logistic regression
with scikit-learn over both gold sets, the area's share capped at 0.04); the last two are
fixed nudges the gold sets have nothing to learn from, small so that a new entrepreneur
without history is not pushed out by established ones. Held-out figures: docs/EVALUATION.md.

After scoring, ``equal_treatment`` spreads exposure: among candidates within ``TOLERANCE`` of
each other, the one proposed least often recently goes first. ``with_confidence`` labels each
candidate with a calibrated confidence (``matcher.confidence``); no list is cut by a score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher import confidence

WHOLE_COUNTRY = "Hele landet"
# The place-name convention of the import format (SPEC §6): "Bydel <name>" is one of Oslo's
# bydeler, so it lies in Oslo.
OSLO = "Oslo"
BYDEL_PREFIX = "Bydel "

SIMILARITY_FLOOR = 0.70
SIMILARITY_CEILING = 0.95

DEFAULT_WEIGHTS: Mapping[str, float] = {
    "similarity": 0.676,
    "lexical": 0.105,
    "themes": 0.085,
    "area": 0.04,
    "target_groups": 0.054,
    "capacity": 0.02,
    "history": 0.02,
}
FEATURES: tuple[str, ...] = tuple(DEFAULT_WEIGHTS)

RANKER_VERSION = "standard-v3"

# Scores within this distance count as equally good for equal treatment (about the gap that a
# single differing target group or a capacity nudge makes).
TOLERANCE = 0.03


FEATURE_LABELS: Mapping[str, str] = {
    "similarity": "Tekstlikhet",
    "lexical": "Felles ord",
    "themes": "Felles temaer",
    "area": "Geografi",
    "target_groups": "Målgrupper",
    "capacity": "Kapasitet",
    "history": "Tidligere vurderinger",
}


@dataclass(frozen=True)
class Place:
    """Where a need is: its bydel (if any) and its kommune."""

    bydel: str | None = None
    kommune: str | None = None

    def names(self) -> set[str]:
        return {n for n in (self.bydel, self.kommune) if n}


@dataclass(frozen=True)
class Profile:
    """One side of a match, reduced to what ranking uses.

    ``capacity``/``active`` and ``approved``/``decided`` only matter for candidates that can
    take on partnerships (entrepreneurs); ``exposure`` counts recent proposals.
    """

    id: int
    themes: Sequence[str] = ()
    target_groups: Sequence[str] = ()
    service_areas: Sequence[str] = ()
    place: Place | None = None
    language: str = "nb"
    capacity: int | None = None
    active: int = 0
    approved: int = 0
    decided: int = 0
    exposure: int = 0


@dataclass
class Evidence:
    """Text evidence for one candidate, found by the caller (retrieval and embeddings)."""

    cosine: float
    lexical: float = 0.0
    sentences: tuple[str, str] | None = None
    key_phrases: Sequence[str] = ()


@dataclass
class Suggestion:
    id: int
    score: float
    features: dict[str, float]
    explanation: dict[str, Any] = field(default_factory=dict)
    # calibrated probability of a good match (``matcher.confidence``), set by ``with_confidence``
    confidence: float = 0.0


Scorer = Callable[[Mapping[str, float]], float]


def _unit(x: float) -> float:
    """``x`` clamped to [0, 1] (plain floats: np.clip costs microseconds per call, and the
    ranker calls this for every candidate of every request)."""
    return min(max(float(x), 0.0), 1.0)


def rescale_similarity(cosine: float) -> float:
    span = SIMILARITY_CEILING - SIMILARITY_FLOOR
    return _unit((cosine - SIMILARITY_FLOOR) / span)


def area_fit(service_areas: Sequence[str], place: Place | None) -> tuple[float, str]:
    """Score and Norwegian wording of how well ``service_areas`` cover ``place``."""
    if place is None or not place.names():
        return 0.0, "Ukjent sted"
    areas = {a.strip() for a in service_areas}
    covered = areas & place.names()
    if covered:
        return 1.0, f"Arbeider i {sorted(covered)[0]}"
    if place.kommune == OSLO and place.bydel is None:
        # A need of Oslo as a whole (an etat, the city): a bydel of Oslo is in Oslo.
        bydeler = sorted(a for a in areas if a.startswith(BYDEL_PREFIX))
        if bydeler:
            more = f" og {len(bydeler) - 2} til" if len(bydeler) > 2 else ""
            return 1.0, f"Arbeider i Oslo ({', '.join(bydeler[:2])}{more})"
    if WHOLE_COUNTRY in areas:
        return 0.7, "Arbeider i hele landet"
    where = place.bydel or place.kommune
    if not areas:
        return 0.0, "Har ikke oppgitt område"
    return 0.0, f"Arbeider ikke i {where} ({', '.join(sorted(areas))})"


UNKNOWN_GROUPS = 0.5


def _share(wanted: Sequence[str], offered: Sequence[str]) -> tuple[float, list[str]]:
    want = [w.strip().lower() for w in wanted if w.strip()]
    have = {o.strip().lower() for o in offered}
    if not want:
        return 0.0, []
    common = [w for w in dict.fromkeys(want) if w in have]
    return len(common) / len(set(want)), common


def capacity_left(capacity: int | None, active: int) -> float:
    if capacity is None:
        return 0.5
    if capacity <= 0:
        return 0.0
    return _unit(1.0 - active / capacity)


def approval_rate(approved: int, decided: int) -> float:
    return (approved + 1) / (decided + 2)


def features_for(
    source: Profile, cand: Profile, ev: Evidence
) -> tuple[dict[str, float], dict[str, Any]]:
    """Feature values and the raw facts behind them, for one candidate."""
    theme_share, common_themes = _share(source.themes, cand.themes)
    target_share, common_targets = _share(source.target_groups, cand.target_groups)
    if not source.target_groups or not cand.target_groups:
        target_share = UNKNOWN_GROUPS  # one side names no group: neither a match nor a miss
    # The place is the need's; the service areas are the entrepreneur's, whichever searches.
    need, offer = (source, cand) if source.place is not None else (cand, source)
    area, area_text = area_fit(offer.service_areas, need.place)
    similarity = rescale_similarity(ev.cosine)
    lexical = _unit(ev.lexical)
    cross_language = (source.language == "en") != (cand.language == "en")
    if cross_language:
        # Shared words cannot exist across languages: the text evidence is the embedding's.
        lexical = similarity
    features = {
        "similarity": similarity,
        "lexical": lexical,
        "themes": theme_share,
        "area": area,
        "target_groups": target_share,
        "capacity": capacity_left(offer.capacity, offer.active),
        "history": approval_rate(offer.approved, offer.decided),
    }
    facts = {
        "themes": common_themes,
        "target_groups": common_targets,
        "area": area_text,
        "cross_language": cross_language,
        "capacity": (offer.capacity, offer.active),
        "history": (offer.approved, offer.decided),
    }
    return features, facts


def linear_scorer(weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> Scorer:
    return lambda f: sum(weights.get(k, 0.0) * v for k, v in f.items())


def score_candidates(
    source: Profile,
    candidates: Sequence[Profile],
    evidence: Sequence[Evidence],
    *,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    theme_labels: Mapping[str, str] | None = None,
) -> list[Suggestion]:
    """Score ``candidates`` for ``source`` with the transparent default scorer.

    Args:
        source: the record we search from (a need, or a profile when discovering needs).
        candidates: records found by retrieval.
        evidence: text evidence per candidate (same order).
        weights: feature -> weight (see module docstring).
        theme_labels: slug -> Norwegian label, for the explanation.

    Returns:
        Suggestions sorted by score (ties by id), each with its features and explanation.
    """
    labels = theme_labels or {}
    out: list[Suggestion] = []
    for cand, ev in zip(candidates, evidence, strict=True):
        features, facts = features_for(source, cand, ev)
        parts = {k: round(weights.get(k, 0.0) * v, 4) for k, v in features.items()}
        score = round(sum(parts.values()), 4)
        out.append(
            Suggestion(
                id=cand.id,
                score=score,
                features={**features, "cosine": float(ev.cosine)},
                explanation=explain(facts, features, parts, ev, labels, cand.exposure),
            )
        )
    out.sort(key=lambda s: (-s.score, s.id))
    return out


def explain(
    facts: Mapping[str, Any],
    features: Mapping[str, float],
    parts: Mapping[str, float],
    ev: Evidence,
    labels: Mapping[str, str],
    exposure: int,
) -> dict[str, Any]:
    """The Norwegian explanation a reviewer reads; stored with each proposal."""
    themes = [labels.get(t, t) for t in facts["themes"]]
    capacity, active = facts["capacity"]
    approved, decided = facts["history"]
    explanation: dict[str, Any] = {
        "summary": _summary(themes, facts["area"], features["similarity"], list(ev.key_phrases)),
        "themes": themes,
        "target_groups": facts["target_groups"],
        "area": facts["area"],
        "key_phrases": list(ev.key_phrases),
        "sentences": (
            {"need": ev.sentences[0], "offer": ev.sentences[1]} if ev.sentences else None
        ),
        "cosine": round(float(ev.cosine), 4),
        "lexical_share": round(features["lexical"], 3),
        "language_note": (
            "Skrevet på ulike språk: felles ord telles ikke, tekstlikheten avgjør."
            if facts["cross_language"]
            else None
        ),
        "capacity": (
            "ukjent" if capacity is None else f"{active} aktive samarbeid av {capacity} mulige"
        ),
        "history": (
            f"{approved} av {decided} tidligere forslag godkjent"
            if decided
            else "ingen tidligere vurderinger"
        ),
        "exposure": exposure,
        "parts": {FEATURE_LABELS[k]: v for k, v in parts.items()},
    }
    return explanation


def _summary(themes: list[str], area_text: str, sim: float, phrases: list[str]) -> str:
    bits = ["felles temaer: " + ", ".join(themes) if themes else "ingen felles temaer"]
    bits.append(area_text[0].lower() + area_text[1:])
    strength = "høy" if sim >= 0.6 else "middels" if sim >= 0.3 else "lav"
    bits.append(f"{strength} tekstlikhet")
    if phrases:
        bits.append("felles ord: " + ", ".join(phrases[:4]))
    text = "; ".join(bits)
    return text[0].upper() + text[1:] + "."


def rescore(suggestions: list[Suggestion], scorer: Scorer, version: str) -> list[Suggestion]:
    """Replace the scores with another scorer's (a learned model), keeping the explanations."""
    for s in suggestions:
        s.score = round(float(scorer({k: s.features[k] for k in FEATURES})), 4)
        s.explanation["scorer"] = version
    suggestions.sort(key=lambda s: (-s.score, s.id))
    return suggestions


def equal_treatment(
    suggestions: Sequence[Suggestion], exposure: Mapping[int, int], *, tolerance: float = TOLERANCE
) -> list[Suggestion]:
    """Among candidates within ``tolerance`` of each other, the least exposed go first.

    Bands are built greedily from the top: a band holds every candidate whose score is within
    ``tolerance`` of the band's best. Order between bands never changes, so no candidate is
    ever moved ahead of a clearly better one.
    """
    ordered = sorted(suggestions, key=lambda s: (-s.score, s.id))
    out: list[Suggestion] = []
    i = 0
    while i < len(ordered):
        top = ordered[i].score
        band = [s for s in ordered[i:] if s.score >= top - tolerance]
        band.sort(key=lambda s: (exposure.get(s.id, 0), -s.score, s.id))
        for pos, s in enumerate(band):
            s.explanation["exposure"] = exposure.get(s.id, 0)
            if s is not ordered[i + pos]:
                s.explanation["equal_treatment"] = (
                    "Like god som andre forslag; flyttet etter hvor ofte hver er foreslått "
                    "nylig (likebehandling)."
                )
        out.extend(band)
        i += len(band)
    return out


def with_confidence(suggestions: Sequence[Suggestion]) -> list[Suggestion]:
    """Each suggestion's calibrated confidence and its Norwegian label, read from its score,
    its distance to the best of the list and its area fit (``matcher.confidence``); the list
    is unchanged.
    Called on the whole scored list, before anything is cut or reordered."""
    best = max((s.score for s in suggestions), default=0.0)
    for s in suggestions:
        area = s.features.get("area", 1.0)
        s.confidence = round(confidence.probability(s.score, best, area), 4)
        lvl = confidence.level(s.confidence)
        s.explanation["confidence"] = {
            "level": lvl,
            "label": confidence.LABELS[lvl],
            "probability": s.confidence,
        }
    return list(suggestions)


def for_review(suggestions: Sequence[Suggestion]) -> list[Suggestion]:
    """The suggestions the automatic step sends to review (confidence at the review cut)."""
    return [s for s in suggestions if s.confidence >= confidence.REVIEW_CUT]


def gini(counts: Sequence[float]) -> float:
    """Gini coefficient of non-negative counts (0 = equal exposure, 1 = one gets everything)."""
    values = np.sort(np.asarray(counts, dtype=np.float64))
    n = len(values)
    if n == 0 or values.sum() == 0:
        return 0.0
    cum = np.cumsum(values)
    return float((n + 1 - 2 * (cum / cum[-1]).sum()) / n)


def best_sentence_pair(
    source_sentences: Sequence[str],
    source_vectors: np.ndarray,
    cand_sentences: Sequence[str],
    cand_vectors: np.ndarray,
    shared_words: np.ndarray | None = None,
) -> tuple[str, str] | None:
    """The sentence of each text that connects them best.

    Pairs are ranked by cosine plus a small bonus per shared word (``shared_words[i, j]``), so
    that of two similar pairs the one a reviewer can check by eye wins.
    """
    if not source_sentences or not cand_sentences:
        return None
    sims = np.asarray(source_vectors) @ np.asarray(cand_vectors).T
    if shared_words is not None:
        sims = sims + SENTENCE_WORD_BONUS * shared_words
    i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
    return source_sentences[int(i)], cand_sentences[int(j)]


SENTENCE_WORD_BONUS = 0.02


def key_phrases(
    source_terms: Sequence[tuple[str, str]], cand_terms: Sequence[tuple[str, str]], limit: int = 6
) -> list[str]:
    """Words of the source whose stems also occur in the candidate, in source order.

    Each is written as a reviewer finds it in the two texts: ``"eldre"`` when both use the
    same word, ``"besøksvenner / besøker"`` when they share a stem in different words (here
    the compound part "besøk"), so no word is claimed for a text that does not contain it.

    Args:
        source_terms, cand_terms: ``(stem, word)`` pairs of each text (``NorwegianAnalyzer``).
        limit: at most this many.

    Returns:
        Display strings, the source's word first.
    """
    cand_words: dict[str, str] = {}
    for stem, surface in cand_terms:
        cand_words.setdefault(stem, surface)
    cand_surfaces = {surface for _, surface in cand_terms}
    out: list[str] = []
    for stem, surface in source_terms:
        if stem not in cand_words or len(stem) < 3:
            continue
        other = surface if surface in cand_surfaces else cand_words[stem]
        phrase = surface if other == surface else f"{surface} / {other}"
        if phrase not in out and not any(p.split(" / ")[0] == surface for p in out):
            out.append(phrase)
        if len(out) >= limit:
            break
    return out


def phrase_words(phrases: Sequence[str]) -> list[str]:
    """Every word named in ``key_phrases`` output (both sides of ``"a / b"``), to highlight."""
    return [w for p in phrases for w in p.split(" / ") if w]
