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
