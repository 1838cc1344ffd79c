"""Ranking metrics (nDCG@k, Recall@k, MRR) over graded relevance judgements, and a baseline."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

from matcher.text import tokens

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]


def ndcg_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with gains ``2**grade - 1``; 0 when the query has no relevant document."""
    gains = [(2 ** grades.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranked[:k])]
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return sum(gains) / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    relevant = {d for d, g in grades.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def reciprocal_rank(
    ranked: Sequence[str], grades: Mapping[str, int], k: int | None = None
) -> float:
    for i, doc in enumerate(ranked[:k] if k else ranked):
        if grades.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def evaluate(run: Run, qrels: Qrels, k: int = 10) -> dict[str, float]:
    """Mean nDCG@k, Recall@k and MRR over the queries that have at least one relevant doc."""
    queries = [q for q, g in qrels.items() if any(v > 0 for v in g.values())]
    if not queries:
        return {"ndcg@10": 0.0, "recall@10": 0.0, "mrr": 0.0, "queries": 0}
    n = len(queries)
    return {
        f"ndcg@{k}": sum(ndcg_at_k(run.get(q, []), qrels[q], k) for q in queries) / n,
        f"recall@{k}": sum(recall_at_k(run.get(q, []), qrels[q], k) for q in queries) / n,
        "mrr": sum(reciprocal_rank(run.get(q, []), qrels[q]) for q in queries) / n,
        "queries": n,
    }


def bag_of_words_rank(
    queries: Mapping[str, str], docs: Mapping[str, str], k: int = 10
) -> dict[str, list[str]]:
    """Baseline: cosine of raw term-count vectors, no stemming, no weighting."""
    doc_vecs = {d: Counter(tokens(t)) for d, t in docs.items()}
    doc_norms = {d: math.sqrt(sum(c * c for c in v.values())) or 1.0 for d, v in doc_vecs.items()}
    run: dict[str, list[str]] = {}
    for q, text in queries.items():
        qv = Counter(tokens(text))
        qn = math.sqrt(sum(c * c for c in qv.values())) or 1.0
        scored = [
            (sum(c * dv.get(t, 0) for t, c in qv.items()) / (qn * doc_norms[d]), d)
            for d, dv in doc_vecs.items()
        ]
        scored.sort(key=lambda x: (-x[0], x[1]))
        run[q] = [d for _, d in scored[:k]]
    return run
