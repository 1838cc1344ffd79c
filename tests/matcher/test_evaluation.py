import math

import pytest

from matcher.evaluation import (
    bag_of_words_rank,
    evaluate,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)


def test_ndcg_perfect_and_reversed() -> None:
    grades = {"a": 3, "b": 1}
    assert ndcg_at_k(["a", "b", "c"], grades) == pytest.approx(1.0)
    worse = ndcg_at_k(["b", "a"], grades)
    expected = (1 + 7 / math.log2(3)) / (7 + 1 / math.log2(3))
    assert worse == pytest.approx(expected)


def test_recall_mrr_and_zero_grades() -> None:
    grades = {"a": 2, "b": 0, "c": 1}
    assert recall_at_k(["x", "c"], grades, k=2) == 0.5
    assert reciprocal_rank(["b", "x", "a"], grades) == pytest.approx(1 / 3)
    assert ndcg_at_k(["b"], {"b": 0}) == 0.0


def test_evaluate_skips_queries_without_relevant_docs() -> None:
    out = evaluate({"q1": ["a"], "q2": ["x"]}, {"q1": {"a": 1}, "q2": {"x": 0}})
    assert out["queries"] == 1 and out["ndcg@10"] == 1.0


def test_bag_of_words_finds_shared_words() -> None:
    run = bag_of_words_rank(
        {"q": "eldre trenger besøk"}, {"d1": "besøk til eldre", "d2": "sykkelverksted"}
    )
    assert run["q"][0] == "d1"
