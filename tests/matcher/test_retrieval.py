import numpy as np
import pytest

from matcher.retrieval import BM25Index, fuse, lexical_confidence, rrf, standardise, top_k
from matcher.text import NorwegianAnalyzer

DOCS = {
    "a": "Arbeidstrening for unge voksne i et sykkelverksted.",
    "b": "Besøksvenner for ensomme eldre som bor hjemme.",
    "c": "Leksehjelp for elever på ungdomstrinnet.",
}


@pytest.fixture(scope="module")
def bm25() -> BM25Index:
    return BM25Index(NorwegianAnalyzer()).fit(list(DOCS), list(DOCS.values()))


def test_bm25_finds_stems_and_compound_parts(bm25: BM25Index) -> None:
    scores = bm25.scores("trening og arbeid for ungdom")
    assert bm25.ids[int(np.argmax(scores))] == "a"
    assert bm25.scores("eldre")[1] > 0 and bm25.scores("eldre")[0] == 0


def test_coverage_counts_unseen_words(bm25: BM25Index) -> None:
    full = bm25.coverage("ensomme eldre", ["b", "a"])
    assert full[0] == pytest.approx(1.0) and full[1] == 0.0
    partial = bm25.coverage("ensomme eldre trenger telefonvenn", ["b"])[0]
    assert 0.2 < partial < 0.8  # the words no profile has still count as unmatched


def test_empty_index_and_stop_word_only_corpus() -> None:
    empty = BM25Index(NorwegianAnalyzer()).fit([], [])
    assert empty.scores("eldre").shape == (0,)
    only_stop = BM25Index(NorwegianAnalyzer()).fit(["x"], ["og det er"])
    assert only_stop.scores("eldre").tolist() == [0.0]


def test_fusion_follows_lexical_confidence() -> None:
    dense = np.array([0.9, 0.8, 0.7])
    lexical = np.array([0.0, 0.0, 5.0])
    assert int(np.argmax(fuse(dense, lexical, 0.0))) == 0  # no lexical evidence: dense decides
    assert int(np.argmax(fuse(dense, lexical, 1.0))) == 2  # full coverage: lexical decides
    assert np.allclose(standardise(np.ones(3)), 0.0)


def test_lexical_confidence(bm25: BM25Index) -> None:
    q = "leksehjelp for elever"
    assert lexical_confidence(bm25, q, bm25.scores(q)) == pytest.approx(1.0)
    assert lexical_confidence(bm25, "xyz", bm25.scores("xyz")) == 0.0


def test_rrf_and_top_k() -> None:
    fused = rrf(np.array([3.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0]))
    assert fused[1] == pytest.approx(2 / 62)
    assert top_k(np.array([0.1, 0.9, 0.5, 0.9]), 3).tolist() == [1, 3, 2]
    assert top_k(np.array([]), 3).tolist() == []


def test_long_passages_are_read_in_overlapping_windows() -> None:
    from matcher.retrieval import best_window, windows

    short = "ett to tre"
    assert windows(short, size=5, step=3) == [short]
    text = " ".join(f"o{i}" for i in range(12))
    parts = windows(text, size=5, step=3)
    assert parts[0].split() == ["o0", "o1", "o2", "o3", "o4"]
    assert parts[-1].split()[-1] == "o11"  # the end is never left out
    assert all(len(p.split()) <= 5 for p in parts)
    # a document scores as its best window
    scores = np.array([[0.1, 0.9, 0.3, 0.2]])
    owner = np.array([0, 0, 1, 1])
    assert best_window(scores, owner, 2).tolist() == [[0.9, 0.3]]
