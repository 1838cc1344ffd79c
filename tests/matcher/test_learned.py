from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matcher.learned import MIN_DECISIONS, Decision, LearnedModel, train
from matcher.ranking import FEATURES, linear_scorer


def _decisions(rule, n_groups: int = 12, per_group: int = 8, seed: int = 1) -> list[Decision]:
    rng = np.random.default_rng(seed)
    out = []
    for g in range(n_groups):
        for _ in range(per_group):
            f = {k: float(rng.uniform()) for k in FEATURES}
            f["area"] = float(rng.choice([0.0, 0.7, 1.0]))
            out.append(Decision(group=g, features=f, label=int(rule(f, rng))))
    return out


def test_a_preference_the_default_underrates_is_learned_and_used() -> None:
    # Reviewers here approve local entrepreneurs almost regardless of the rest.
    decisions = _decisions(lambda f, rng: f["area"] == 1.0 and f["similarity"] > 0.2)
    result = train(decisions, FEATURES, linear_scorer())
    assert result.model is not None and result.model.active
    assert result.heldout["learned"] > result.heldout["default"] + 0.05
    weights = dict(zip(result.model.features, result.model.weights, strict=True))
    assert max(weights, key=weights.get) == "area"


def test_no_better_than_default_means_not_used() -> None:
    default = linear_scorer()
    decisions = _decisions(lambda f, rng: default(f) > 0.5)  # reviewers agree with the default
    result = train(decisions, FEATURES, default)
    assert result.model is not None and not result.model.active
    assert "standardmodellen brukes fortsatt" in result.reason


def test_pure_noise_is_not_used() -> None:
    decisions = _decisions(lambda f, rng: rng.uniform() < 0.5, seed=3)
    result = train(decisions, FEATURES, linear_scorer())
    assert result.model is not None and not result.model.active


def test_too_few_decisions_are_refused_with_a_reason() -> None:
    few = _decisions(lambda f, rng: f["area"] == 1.0, n_groups=3, per_group=5)
    assert len(few) < MIN_DECISIONS
    result = train(few, FEATURES, linear_scorer())
    assert result.model is None and "For få vurderinger" in result.reason


def test_model_round_trips_as_json(tmp_path: Path) -> None:
    result = train(_decisions(lambda f, rng: f["area"] == 1.0), FEATURES, linear_scorer())
    assert result.model is not None
    path = result.model.save(tmp_path)
    assert path.name == f"ranker-{result.model.version}.json"
    loaded = LearnedModel.load(tmp_path)
    assert loaded is not None and loaded.version == result.model.version
    f = dict.fromkeys(FEATURES, 0.5)
    assert loaded.score(f) == pytest.approx(result.model.score(f))
    assert LearnedModel.load(tmp_path / "nothing") is None
