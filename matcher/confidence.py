"""How sure a suggestion is: a calibrated probability and its Norwegian label.

A score alone means different things on different data (a thin need scores everyone low, a
rich one everyone high), so the confidence reads the candidate's score, how far it lies below
the best candidate of the same list (a per-list, relative measure) and whether it works where
the need is (an offer from far away is a good match less often, although the ranking lets it
compete):

    p = 1 / (1 + exp(-(BIAS + SCORE * score + GAP * (score - best) + AREA * area)))

``p`` estimates the probability that a reviewer would call the pair a good match (grade >= 2
in the gold sets' terms). The coefficients are fitted with scikit-learn's logistic regression
(Platt scaling) by ``bench/fit_ranking.py`` on the gold sets; its held-out reliability table
(of the pairs called "sterkt treff", the share that is grade >= 2, measured on needs the fit
never saw) is in ``docs/EVALUATION.md``.

The labels cut ``p`` at fixed probabilities, so "sterkt treff" means the same on any data:
"sterkt" from ``STRONG``, "mulig" from ``POSSIBLE``, else "svakt". Only the automatic step that
sends proposals to review keeps a cut (``REVIEW_CUT``), chosen in the same script for a stated
precision and recall on held-out data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

# Fitted by bench/fit_ranking.py (see docs/EVALUATION.md for the data and the held-out table).
# Fitted on data/gold and the blind set together (2026-12-02); held out (cross-validated by
# need), of the pairs called "sterkt treff" 74 % were judged good (grade >= 2), "mulig" 33 %,
# "svakt" 6 % of those shown.
BIAS = -9.702
SCORE = 12.555
GAP = 15.169
AREA = 1.583

STRONG = 0.5
POSSIBLE = 0.2
# The lowest probability at which what is sent to review had a precision of at least 0.6 in
# the fit (held out: precision 0.61, recall 0.43 of the good pairs).
REVIEW_CUT = 0.36

LABELS: Mapping[str, str] = {
    "sterkt": "Sterkt treff",
    "mulig": "Mulig treff",
    "svakt": "Svakt treff",
}


def probability(score: float, best: float, area: float = 1.0) -> float:
    """The calibrated probability that a candidate of ``score`` is a good match, in a list
    whose best candidate scores ``best`` (``best >= score``); ``area`` is its area fit (the
    ranking feature: 1 where the need is, 0.7 the whole country, 0 elsewhere)."""
    z = BIAS + SCORE * score + GAP * (score - max(best, score)) + AREA * area
    if z < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


def level(p: float) -> str:
    """``"sterkt"``, ``"mulig"`` or ``"svakt"`` for a probability."""
    if p >= STRONG:
        return "sterkt"
    if p >= POSSIBLE:
        return "mulig"
    return "svakt"
