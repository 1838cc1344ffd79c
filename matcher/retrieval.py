"""Candidate retrieval: lexical (BM25 over Norwegian-aware terms), dense, and their fusion.

Fusion. Plain reciprocal-rank fusion throws the scores away and lands between its inputs when
one is much stronger (on NorQuAD: dense 0.823, BM25 0.933, RRF 0.899 nDCG@10). Which input is
stronger depends on the text: questions reuse the words of their passage, while a need and
the offer that fits it often share almost none. So the fusion asks, per query, how much the
lexical method has to go on: ``confidence`` is the idf-weighted share of the query's words
found in BM25's best hit (0.21 median on the needs of ``data/gold``, 0.90 on NorQuAD
questions). Each method's scores are standardised over the candidates (z-scores), and

    fused = (1 - c**2) * z(dense) + c**2 * z(bm25),   c = confidence.

The square keeps a few chance word matches from steering the result. Exponents 1, 2 and 3
were tried on both evaluation sets; 2 is the one that beats both inputs on both
(``docs/EVALUATION.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import CountVectorizer

METHODS = ("bm25", "dense", "hybrid")
RRF_K = 60


class BM25Index:
    """Okapi BM25 (Lucene's idf) over the terms of an analyser.

    Scores for *every* document come from one sparse matrix product, so fusion never has to
    guess a score for a document that only the other method found.
    """

    def __init__(
        self, analyzer: Callable[[str], list[str]], *, k1: float = 1.2, b: float = 0.75
    ) -> None:
        self._analyzer = analyzer
        self.k1, self.b = k1, b
        self.ids: list[Hashable] = []
        self._vectorizer: CountVectorizer | None = None
        self._weights: sparse.csr_matrix | None = None
        self._idf = np.zeros(0, dtype=np.float32)
        self._unseen_idf = 0.0
        self._row: dict[Hashable, int] = {}

    def fit(self, ids: Sequence[Hashable], texts: Sequence[str]) -> BM25Index:
        """Index ``texts`` under ``ids`` (replaces any earlier contents)."""
        self.ids = list(ids)
        if not texts:
            self._vectorizer, self._weights = None, None
            return self
        # Imported here: scikit-learn takes most of a second to import, and most commands (and
        # a server's start-up) never fit a BM25 index.
        from sklearn.feature_extraction.text import CountVectorizer

        vectorizer = CountVectorizer(analyzer=self._analyzer, lowercase=False)
        try:
            tf = vectorizer.fit_transform(texts).tocsr().astype(np.float32)
        except ValueError:  # no terms at all (every text only stop words)
            self._vectorizer, self._weights = None, None
            return self
        n_docs = tf.shape[0]
        df = np.bincount(tf.indices, minlength=tf.shape[1])
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        avg = float(lengths.mean()) or 1.0
        norm = self.k1 * (1 - self.b + self.b * lengths / avg)
        rows = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
        data = tf.data * (self.k1 + 1) / (tf.data + norm[rows]) * idf[tf.indices]
        self._weights = sparse.csr_matrix((data, tf.indices, tf.indptr), shape=tf.shape)
        self._vectorizer = vectorizer
        self._idf = idf
        self._unseen_idf = float(np.log1p((n_docs + 0.5) / 0.5))
        self._row = {doc_id: i for i, doc_id in enumerate(self.ids)}
        return self

    def __len__(self) -> int:
        return len(self.ids)

    def coverage(self, query: str, doc_ids: Sequence[Hashable]) -> np.ndarray:
        """Share of the query's terms, weighted by idf, that occur in each of ``doc_ids``.

        Bounded in [0, 1] and comparable across queries, unlike raw BM25 scores: "62 % of the
        need's (weighted) words are in the profile". Query terms that no document contains
        count too, with the idf of an unseen term: a word nobody uses is still unmatched.
        """
        out = np.zeros(len(doc_ids), dtype=np.float32)
        if self._vectorizer is None or self._weights is None:
            return out
        terms = set(self._analyzer(query))
        vocab = self._vectorizer.vocabulary_
        known = np.array(sorted(vocab[t] for t in terms if t in vocab), dtype=np.int64)
        unseen = len(terms) - len(known)
        total = float(self._idf[known].sum()) + unseen * self._unseen_idf
        if total <= 0:
            return out
        for j, doc_id in enumerate(doc_ids):
            row = self._row.get(doc_id)
            if row is None:
                continue
            start, end = self._weights.indptr[row], self._weights.indptr[row + 1]
            present = np.intersect1d(self._weights.indices[start:end], known, assume_unique=True)
            out[j] = float(self._idf[present].sum()) / total
        return out

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed document for ``query`` (0 where no term matches)."""
        if self._vectorizer is None or self._weights is None:
            return np.zeros(len(self.ids), dtype=np.float32)
        q = self._vectorizer.transform([query])
        q.data[:] = 1.0  # a repeated query word does not count twice
        return np.asarray((self._weights @ q.T).todense(), dtype=np.float32).ravel()


def standardise(scores: np.ndarray) -> np.ndarray:
    """Per-query z-scores; a constant vector becomes all zeros."""
    scores = np.asarray(scores, dtype=np.float64)
    std = scores.std()
    if std < 1e-12:
        return np.zeros_like(scores)
    return np.asarray((scores - scores.mean()) / std)


def fuse(dense: np.ndarray, lexical: np.ndarray, confidence: float) -> np.ndarray:
    """Fused scores of the same candidates; ``confidence`` in [0, 1] (see module docstring)."""
    w = float(np.clip(confidence, 0.0, 1.0)) ** 2
    return (1 - w) * standardise(dense) + w * standardise(lexical)


def lexical_confidence(index: BM25Index, query: str, lexical: np.ndarray) -> float:
    """Share of the query's words in the best lexical hit (0 when nothing matches)."""
    if len(lexical) == 0 or float(np.max(lexical)) <= 0:
        return 0.0
    return float(index.coverage(query, [index.ids[int(np.argmax(lexical))]])[0])


def rrf(*score_lists: np.ndarray, k: int = RRF_K) -> np.ndarray:
    """Reciprocal-rank fusion (kept as a reference baseline)."""
    total = np.zeros(len(score_lists[0]), dtype=np.float64)
    for scores in score_lists:
        ranks = np.empty(len(scores), dtype=np.int64)
        ranks[np.argsort(-np.asarray(scores), kind="stable")] = np.arange(1, len(scores) + 1)
        total += 1.0 / (k + ranks)
    return total


# Passages longer than the embedding model reads (multilingual-e5-small stops at 512 tokens;
# NorQuAD's passages have a median of 533) are embedded in overlapping windows of words, and
# a passage scores as its best window. One setting, chosen before measuring and not tuned:
# 150 words (about 230 tokens) every 100 words.
WINDOW_WORDS = 150
WINDOW_STEP = 100


def windows(text: str, size: int = WINDOW_WORDS, step: int = WINDOW_STEP) -> list[str]:
    """``text`` as overlapping windows of ``size`` words, ``step`` apart (one if it is short)."""
    words = text.split()
    if len(words) <= size:
        return [text]
    starts = range(0, len(words) - size + step, step)
    return [" ".join(words[s : s + size]) for s in starts]


def best_window(scores: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Per document, the best of its windows' scores: ``scores`` is (queries, windows),
    ``owner[j]`` the document of window ``j``; returns (queries, ``n``)."""
    scores = np.atleast_2d(scores)
    out = np.full((scores.shape[0], n), -np.inf, dtype=np.float64)
    for doc in range(n):
        cols = np.flatnonzero(owner == doc)
        if len(cols):
            out[:, doc] = scores[:, cols].max(axis=1)
    return out


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best scores, best first (stable for ties)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.lexsort((part, -scores[part]))]
