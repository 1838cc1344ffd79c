"""Scoring and explaining candidates for a match, over plain values.

First version: a transparent weighted sum of a few features. Each feature lies in [0, 1]; the
score is ``sum(weight * feature)``, and the explanation lists every part, so a reviewer can
recompute any score by hand.

Features:
- ``similarity``: cosine similarity of the two embeddings, rescaled from the range where
  multilingual-e5 puts real text pairs (about 0.70 for unrelated, 0.95 for near-duplicates)
  to [0, 1];
- ``themes``: share of the searching record's themes that the candidate also has;
- ``area``: 1 when the candidate serves the place (bydel, kommune, Oslo for a bydel),
  0.7 when it serves the whole country, 0 otherwise. A preference, never a filter;
- ``target_groups``: share of the searching record's target groups the candidate names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

WHOLE_COUNTRY = "Hele landet"

# Where multilingual-e5 cosine similarities of real Norwegian text pairs live.
SIMILARITY_FLOOR = 0.70
SIMILARITY_CEILING = 0.95

DEFAULT_WEIGHTS: Mapping[str, float] = {
    "similarity": 0.60,
    "themes": 0.25,
    "area": 0.10,
    "target_groups": 0.05,
}

RANKER_VERSION = "standard-v1"

FEATURE_LABELS: Mapping[str, str] = {
    "similarity": "Tekstlikhet",
    "themes": "Felles temaer",
    "area": "Geografi",
    "target_groups": "Målgrupper",
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
    """One side of a match: a need or an offering, reduced to what ranking uses."""

    id: int
    themes: Sequence[str] = ()
    target_groups: Sequence[str] = ()
    service_areas: Sequence[str] = ()
    place: Place | None = None


@dataclass
class Suggestion:
    id: int
    score: float
    features: dict[str, float]
    explanation: dict[str, Any] = field(default_factory=dict)


def rescale_similarity(cosine: float) -> float:
    span = SIMILARITY_CEILING - SIMILARITY_FLOOR
    return float(np.clip((cosine - SIMILARITY_FLOOR) / span, 0.0, 1.0))


def area_fit(service_areas: Sequence[str], place: Place | None) -> tuple[float, str]:
    """Score and Norwegian wording of how well ``service_areas`` cover ``place``."""
    if place is None or not place.names():
        return 0.0, "Ukjent sted"
    areas = {a.strip() for a in service_areas}
    covered = areas & place.names()
    if covered:
        return 1.0, f"Arbeider i {sorted(covered)[0]}"
    if WHOLE_COUNTRY in areas:
        return 0.7, "Arbeider i hele landet"
    where = place.bydel or place.kommune
    if not areas:
        return 0.0, "Har ikke oppgitt område"
    return 0.0, f"Arbeider ikke i {where} ({', '.join(sorted(areas))})"


def _share(wanted: Sequence[str], offered: Sequence[str]) -> tuple[float, list[str]]:
    want = [w.strip().lower() for w in wanted if w.strip()]
    have = {o.strip().lower() for o in offered}
    if not want:
        return 0.0, []
    common = [w for w in dict.fromkeys(want) if w in have]
    return len(common) / len(set(want)), common


def score_candidates(
    source: Profile,
    candidates: Sequence[Profile],
    cosines: Sequence[float],
    *,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    theme_labels: Mapping[str, str] | None = None,
) -> list[Suggestion]:
    """Score ``candidates`` for ``source`` and return them best first, with explanations.

    Args:
        source: the record we search from (a need, or a profile when discovering needs).
        candidates: records found by retrieval.
        cosines: cosine similarity of each candidate's embedding to the source's.
        weights: feature -> weight (see module docstring).
        theme_labels: slug -> Norwegian label, for the explanation.

    Returns:
        Suggestions sorted by score, ties broken by id for a stable order.
    """
    labels = theme_labels or {}
    out: list[Suggestion] = []
    for cand, cos in zip(candidates, cosines, strict=True):
        theme_share, common_themes = _share(source.themes, cand.themes)
        target_share, common_targets = _share(source.target_groups, cand.target_groups)
        place = source.place if source.place is not None else cand.place
        areas = cand.service_areas if source.place is not None else source.service_areas
        area, area_text = area_fit(areas, place)
        features = {
            "similarity": rescale_similarity(float(cos)),
            "themes": theme_share,
            "area": area,
            "target_groups": target_share,
        }
        parts = {k: round(weights.get(k, 0.0) * v, 4) for k, v in features.items()}
        score = round(sum(parts.values()), 4)
        explanation = {
            "themes": [labels.get(t, t) for t in common_themes],
            "target_groups": common_targets,
            "area": area_text,
            "cosine": round(float(cos), 4),
            "parts": {FEATURE_LABELS[k]: v for k, v in parts.items()},
            "summary": _summary(common_themes, labels, area_text, features["similarity"]),
        }
        features["cosine"] = float(cos)
        out.append(Suggestion(id=cand.id, score=score, features=features, explanation=explanation))
    out.sort(key=lambda s: (-s.score, s.id))
    return out


def _summary(themes: list[str], labels: Mapping[str, str], area_text: str, sim: float) -> str:
    bits = []
    if themes:
        bits.append("felles temaer: " + ", ".join(labels.get(t, t) for t in themes))
    else:
        bits.append("ingen felles temaer")
    bits.append(area_text[0].lower() + area_text[1:])
    strength = "høy" if sim >= 0.6 else "middels" if sim >= 0.3 else "lav"
    bits.append(f"{strength} tekstlikhet")
    text = "; ".join(bits)
    return text[0].upper() + text[1:] + "."
