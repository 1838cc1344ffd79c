"""The retrieval layer on any ``{"id", "text"}`` corpus (``brobygger retrieve``).

Embeddings go through the home database's content-addressed cache, so the second run over the
same corpus costs seconds. Questions and passages are an asymmetric task: e5's ``query:``
prefix for the questions, ``passage:`` for the corpus (model card). A passage longer than the
model reads is embedded in overlapping windows and scores as its best window
(``matcher.retrieval.windows``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from matcher.retrieval import (
    BM25Index,
    best_window,
    fuse,
    lexical_confidence,
    rrf,
    top_k,
    windows,
)
from matcher.text import NorwegianAnalyzer
from models.db import session_scope
from service.runtime import Runtime


def read_jsonl(path: Path) -> list[dict[str, str]]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}, linje {n}: ugyldig JSON") from exc
            if not isinstance(row, dict) or "id" not in row or "text" not in row:
                raise ValueError(f"{path}, linje {n}: trenger feltene «id» og «text»")
            rows.append({"id": str(row["id"]), "text": str(row["text"])})
    return rows


def run_retrieval(
    rt: Runtime,
    corpus: list[dict[str, str]],
    queries: list[dict[str, str]],
    *,
    method: str,
    k: int,
    progress: Callable[[str, int, int], None] | None = None,
) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """Yield ``(query id, [(doc id, score), ...])`` best first, for each query."""
    doc_ids = [d["id"] for d in corpus]
    lexical = dense = None
    if method in ("bm25", "hybrid", "rrf"):
        lexical = BM25Index(NorwegianAnalyzer()).fit(doc_ids, [d["text"] for d in corpus])
    if method in ("dense", "hybrid", "rrf"):

        def tick(name: str) -> Callable[[int, int], None]:
            return lambda done, total: progress(name, done, total) if progress else None

        parts = [(i, w) for i, d in enumerate(corpus) for w in windows(d["text"])]
        owner = np.array([i for i, _ in parts])
        with session_scope(rt.engine) as session:
            doc_vecs, _ = rt.store.vectors(
                session, [w for _, w in parts], "passage", tick("korpus")
            )
            q_vecs, _ = rt.store.vectors(
                session, [q["text"] for q in queries], "query", tick("spørsmål")
            )
        dense = best_window(q_vecs @ doc_vecs.T, owner, len(corpus))
    for i, q in enumerate(queries):
        if method == "bm25":
            assert lexical is not None
            scores = lexical.scores(q["text"]).astype(np.float64)
        elif method == "dense":
            assert dense is not None
            scores = dense[i].astype(np.float64)
        elif method == "hybrid":
            assert lexical is not None and dense is not None
            lex = lexical.scores(q["text"])
            scores = fuse(dense[i], lex, lexical_confidence(lexical, q["text"], lex))
        else:
            assert lexical is not None and dense is not None
            scores = rrf(dense[i], lexical.scores(q["text"]))
        best = top_k(scores, k)
        yield q["id"], [(doc_ids[j], float(scores[j])) for j in best]
