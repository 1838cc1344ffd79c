"""A ranking model learned from reviewers' decisions, used only when it beats the default.

Training data: the feature values stored with each decided proposal, labelled 1 when a reviewer
approved it (or it went further) and 0 when rejected. The model is a logistic regression on
standardised features: few parameters (one weight per feature), so it cannot memorise a
handful of decisions, and its weights can be read and explained like the default scorer's.

Evaluation never trains on the challenge it scores: folds are grouped by challenge
(GroupKFold). On each held-out challenge, quality is the share of (approved, rejected) pairs
that a scorer orders correctly (the per-challenge AUC). The learned model is activated only if
it beats the default scorer on exactly the same held-out pairs by ``MIN_GAIN`` on average *and*
the gain holds up when the challenges are resampled (bootstrap over challenges, 5th
percentile above zero): decisions within one challenge are not independent, and a margin
alone lets noise through (labels drawn at random gained 0.036 over 640 pairs in a test).

The model is stored as JSON (weights, scaling, metrics, version) rather than a pickle: it can
be read by a person, diffed, and loaded without executing anything.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MIN_DECISIONS = 30
MIN_CHALLENGES = 5
MIN_PER_CLASS = 5
MIN_GAIN = 0.01
MAX_FOLDS = 5


@dataclass(frozen=True)
class Decision:
    group: int  # the challenge
    features: Mapping[str, float]
    label: int  # 1 approved (or further), 0 rejected


@dataclass
class LearnedModel:
    version: str
    features: list[str]
    weights: list[float]
    intercept: float
    mean: list[float]
    scale: list[float]
    trained_at: str
    decisions: int
    challenges: int
    heldout: dict[str, float] = field(default_factory=dict)
    active: bool = False

    def score(self, features: Mapping[str, float]) -> float:
        """Probability that a reviewer approves, for one candidate's features."""
        x = (np.array([features.get(f, 0.0) for f in self.features]) - self.mean) / self.scale
        z = float(np.dot(self.weights, x) + self.intercept)
        return float(1.0 / (1.0 + np.exp(-z)))

    def save(self, folder: Path) -> Path:
        """Write ``ranker-<version>.json`` and point ``ranker.json`` at it (atomically)."""
        folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps(asdict(self), indent=2, ensure_ascii=False)
        path = folder / f"ranker-{self.version}.json"
        path.write_text(data, encoding="utf-8")
        tmp = folder / "ranker.json.tmp"
        tmp.write_text(data, encoding="utf-8")
        tmp.replace(folder / "ranker.json")
        return path

    @classmethod
    def load(cls, folder: Path) -> LearnedModel | None:
        try:
            return cls(**json.loads((folder / "ranker.json").read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            return None


@dataclass
class TrainResult:
    model: LearnedModel | None
    reason: str
    heldout: dict[str, float] = field(default_factory=dict)


def _group_pairs(
    groups: np.ndarray, labels: np.ndarray, scores: np.ndarray
) -> dict[Any, tuple[int, float]]:
    """Per group: (number of (approved, rejected) pairs, number ordered correctly)."""
    out: dict[Any, tuple[int, float]] = {}
    for g in np.unique(groups):
        m = groups == g
        pos, neg = scores[m][labels[m] == 1], scores[m][labels[m] == 0]
        if len(pos) == 0 or len(neg) == 0:
            continue
        diff = pos[:, None] - neg[None, :]
        out[g] = (diff.size, float((diff > 0).sum() + 0.5 * (diff == 0).sum()))
    return out


def _accuracy(per_group: Mapping[Any, tuple[int, float]], keys: Sequence[Any]) -> float:
    pairs = sum(per_group[k][0] for k in keys)
    return sum(per_group[k][1] for k in keys) / pairs if pairs else 0.0


def _gain_lower_bound(
    learned: Mapping[Any, tuple[int, float]],
    default: Mapping[Any, tuple[int, float]],
    *,
    seed: int,
    rounds: int = 1000,
) -> float:
    """5th percentile of the accuracy gain when the held-out challenges are resampled."""
    keys = np.array(sorted(learned, key=str), dtype=object)
    if len(keys) == 0:
        return 0.0
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(rounds):
        sample = list(rng.choice(keys, size=len(keys), replace=True))
        gains.append(_accuracy(learned, sample) - _accuracy(default, sample))
    return float(np.percentile(gains, 5))


def train(
    decisions: Sequence[Decision],
    features: Sequence[str],
    default_scorer: Callable[[Mapping[str, float]], float],
    *,
    seed: int = 0,
) -> TrainResult:
    """Train on ``decisions`` and compare with ``default_scorer`` on held-out challenges.

    Returns a model (``active`` only if it beats the default by ``MIN_GAIN``), or None with the
    reason in Norwegian when there are too few decisions to learn from.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    labels = np.array([d.label for d in decisions], dtype=int)
    groups = np.array([d.group for d in decisions])
    n_pos, n_neg = int(labels.sum()), int(len(labels) - labels.sum())
    n_groups = len(set(groups.tolist()))
    if (
        len(decisions) < MIN_DECISIONS
        or n_groups < MIN_CHALLENGES
        or min(n_pos, n_neg) < MIN_PER_CLASS
    ):
        return TrainResult(
            None,
            (
                f"For få vurderinger å lære av: {len(decisions)} vurderinger ({n_pos} godkjent, "
                f"{n_neg} avvist) på {n_groups} behov. Trenger minst {MIN_DECISIONS} vurderinger, "
                f"{MIN_CHALLENGES} behov og {MIN_PER_CLASS} av hver sort."
            ),
        )
    X = np.array([[d.features.get(f, 0.0) for f in features] for d in decisions], dtype=float)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    Xs = (X - mean) / scale
    learned = np.zeros(len(decisions))
    for train_idx, test_idx in GroupKFold(n_splits=min(MAX_FOLDS, n_groups)).split(
        Xs, labels, groups
    ):
        if len(set(labels[train_idx].tolist())) < 2:
            learned[test_idx] = 0.5
            continue
        clf = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
        clf.fit(Xs[train_idx], labels[train_idx])
        learned[test_idx] = clf.predict_proba(Xs[test_idx])[:, 1]
    default = np.array([default_scorer(d.features) for d in decisions])
    learned_groups = _group_pairs(groups, labels, learned)
    default_groups = _group_pairs(groups, labels, default)
    keys = list(learned_groups)
    pairs = sum(n for n, _ in learned_groups.values())
    learned_acc, default_acc = _accuracy(learned_groups, keys), _accuracy(default_groups, keys)
    lower = _gain_lower_bound(learned_groups, default_groups, seed=seed)
    heldout = {
        "pairs": pairs,
        "challenges": len(keys),
        "learned": round(learned_acc, 4),
        "default": round(default_acc, 4),
        "gain_p05": round(lower, 4),
    }
    clf = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(Xs, labels)
    weights = [round(float(w), 6) for w in clf.coef_[0]]
    digest = hashlib.sha256(json.dumps([weights, float(clf.intercept_[0])]).encode()).hexdigest()
    model = LearnedModel(
        version=f"learned-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{digest[:8]}",
        features=list(features),
        weights=weights,
        intercept=float(clf.intercept_[0]),
        mean=mean.tolist(),
        scale=scale.tolist(),
        trained_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        decisions=len(decisions),
        challenges=n_groups,
        heldout=heldout,
        active=pairs > 0 and learned_acc >= default_acc + MIN_GAIN and lower > 0,
    )
    reason = (
        "Den lærte modellen rangerer bedre enn standardmodellen på behov den ikke er "
        "trent på, og tas i bruk."
        if model.active
        else "Den lærte modellen er ikke bedre enn standardmodellen på behov den ikke er "
        "trent på; standardmodellen brukes fortsatt."
    )
    return TrainResult(model, reason, heldout)


def describe(model: LearnedModel) -> dict[str, Any]:
    return {
        "version": model.version,
        "active": model.active,
        "trained_at": model.trained_at,
        "decisions": model.decisions,
        "challenges": model.challenges,
        "heldout": model.heldout,
        "weights": dict(zip(model.features, model.weights, strict=True)),
    }
