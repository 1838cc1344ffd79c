"""How sure a suggestion is: a calibrated probability and its Norwegian label.

A score alone means different things on different data (a thin need scores everyone low, a
rich one everyone high), so the confidence reads two things: the candidate's score and how far
it lies below the best candidate of the same list (a per-list, relative measure):

    p = 1 / (1 + exp(-(BIAS + SCORE * score + GAP * (score - best))))

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
# Fitted on data/gold and the blind set together (2026-12-02); held out, of the pairs called
# "sterkt treff" 72 % were judged good (grade >= 2), "mulig" 43 %, "svakt" 5 %.
BIAS = -12.129
SCORE = 17.979
GAP = 12.748

STRONG = 0.5
POSSIBLE = 0.2
# The lowest probability at which what is sent to review had a precision of at least 0.6 in
# the fit (held out: precision 0.60, recall 0.52 of the good pairs).
REVIEW_CUT = 0.31

LABELS: Mapping[str, str] = {
    "sterkt": "Sterkt treff",
    "mulig": "Mulig treff",
    "svakt": "Svakt treff",
}


def probability(score: float, best: float) -> float:
    """The calibrated probability that a candidate of ``score`` is a good match, in a list
    whose best candidate scores ``best`` (``best >= score``)."""
    z = BIAS + SCORE * score + GAP * (score - max(best, score))
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
