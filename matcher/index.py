"""A FAISS vector index keyed by database ids, persisted with a manifest.

The index is a derivative of the database: besides each vector it remembers the content hash of
the text the vector was made from, so the caller can see which records changed and which are
missing, and the manifest fingerprints the whole (id, hash) set so that one comparison tells
whether the index still matches the database.

Files in the index folder, for an index called ``name``:
``name.faiss`` (the FAISS index), ``name.entries.npy`` (ids and hash prefixes) and
``name.manifest.json`` (embedder, dimension, count, checksums, fingerprint). The manifest is
written last, so a crash mid-save leaves a manifest whose checksums do not match: the load
fails loudly and the caller rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from matcher.errors import IndexMismatchError

MANIFEST_VERSION = 1


def hash_prefix(content_hash: str) -> int:
    """The first 63 bits of a hex content hash, as a signed int64 that FAISS-side arrays hold."""
    return int(content_hash[:16], 16) >> 1


def fingerprint(entries: Iterable[tuple[int, int]]) -> str:
    """sha256 over the sorted (id, hash prefix) pairs: equal iff the two sets are equal."""
    arr = np.array(sorted(entries), dtype=np.int64).reshape(-1, 2)
    return hashlib.sha256(arr.tobytes()).hexdigest()


def _write_atomic(path: Path, data: bytes) -> str:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


APPROXIMATE_FROM = 100_000  # vectors; below this exact search is fast enough (~16 ms at 100k)
TARGET_RECALL = 0.98  # recall@10 against exact search that an approximate index must reach


class VectorIndex:
    """Inner-product search (cosine on normalised vectors) over vectors with int64 ids.

    Exact (``IndexIDMap2(IndexFlatIP)``) up to ``approximate_from`` vectors. From there,
    ``optimise`` switches to an inverted-file index (``IndexIVFFlat``, sqrt-scaled number of
    lists, ids stored natively, removals and reconstruction supported) and tunes ``nprobe``
    until recall@10 against exact search reaches ``TARGET_RECALL`` on a sample of the index's
    own vectors; the measured recall and the settings go into the manifest.
    """

    def __init__(
        self, *, embedder_id: str, dimension: int, approximate_from: int = APPROXIMATE_FROM
    ) -> None:
        self.embedder_id = embedder_id
        self.dimension = dimension
        self.approximate_from = approximate_from
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._hashes: dict[int, int] = {}
        self._fingerprint: str | None = None  # computed once per change, read per request
        self.tuning: dict[str, Any] = {}

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        return "ivf-flat-ip" if self.tuning else "flat-ip"

    def _all(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (id, vector) in the index."""
        ids = np.array(sorted(self._hashes), dtype=np.int64)
        if self.tuning:
            vecs = (
                np.vstack([self._index.reconstruct(int(i)) for i in ids])
                if len(ids)
                else (np.empty((0, self.dimension), dtype=np.float32))
            )
            return ids, vecs.astype(np.float32)
        flat: Any = faiss.downcast_index(self._index.index)
        vecs = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * self.dimension)
        vecs = np.array(vecs, dtype=np.float32).reshape(-1, self.dimension)
        order = faiss.vector_to_array(self._index.id_map)
        pos = {int(v): k for k, v in enumerate(order)}
        return ids, vecs[[pos[int(i)] for i in ids]]

    def optimise(self, *, seed: int = 0) -> dict[str, Any]:
        """Switch between exact and approximate search by size; returns the tuning (empty
        when exact). Call after large changes (the store does so before saving)."""
        n = len(self)
        if n < self.approximate_from:
            if self.tuning:  # shrunk well below the threshold: back to exact
                ids, vecs = self._all()
                self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))
                self.tuning = {}
                if len(ids):
                    self._index.add_with_ids(vecs, ids)
            return {}
        if self.tuning and n < 2 * int(self.tuning.get("trained_on", n)):
            return self.tuning  # still close to the size it was trained for
        started = time.monotonic()
        ids, vecs = self._all()
        rng = np.random.default_rng(seed)
        # about 4·sqrt(n) lists, but k-means wants ~39 training points per list
        nlist = int(max(16, min(65536, 4 * np.sqrt(n), n // 39)))
        sample = vecs[rng.choice(n, size=min(n, max(40 * nlist, 50_000)), replace=False)]
        quantizer = faiss.IndexFlatIP(self.dimension)
        ivf = faiss.IndexIVFFlat(quantizer, self.dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.train(sample)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
        ivf.add_with_ids(vecs, ids)
        # recall@10 on queries near the index's own vectors (a stored vector plus noise of the
        # size that separates two texts about the same thing), against exact search
        picks = rng.choice(n, size=min(n, 300), replace=False)
        queries = vecs[picks] + rng.normal(0, 0.02, (len(picks), self.dimension)).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        exact = faiss.IndexFlatIP(self.dimension)
        exact.add(vecs)
        _, truth = exact.search(queries, 10)
        truth_ids = ids[truth]
        nprobe, recall = 1, 0.0
        while True:
            ivf.nprobe = nprobe
            _, found = ivf.search(queries, 10)
            recall = float(
                np.mean(
                    [
                        len(set(a) & set(b)) / 10
                        for a, b in zip(found.tolist(), truth_ids.tolist(), strict=True)
                    ]
                )
            )
            if recall >= TARGET_RECALL or nprobe >= nlist:
                break
            nprobe = min(nlist, nprobe * 2)
        self._index = ivf
        self.tuning = {
            "nlist": nlist,
            "nprobe": nprobe,
            "recall_at_10": round(recall, 4),
            "trained_on": n,
            "built_seconds": round(time.monotonic() - started, 2),
        }
        return self.tuning

    def entries(self) -> dict[int, int]:
        """id -> hash prefix of the text each vector was made from."""
        return dict(self._hashes)

    def hash_of(self, record_id: int) -> int | None:
        """The hash prefix stored with ``record_id``'s vector (None when it has none)."""
        return self._hashes.get(record_id)

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self._hashes.items())
        return self._fingerprint

    def upsert(
        self, ids: Sequence[int], vectors: np.ndarray, content_hashes: Sequence[str]
    ) -> None:
        """Add vectors, replacing any existing vector with the same id."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.dimension):
            raise ValueError(
                f"expected vectors of shape ({len(ids)}, {self.dimension}), got {vectors.shape}"
            )
        id_arr = np.asarray(ids, dtype=np.int64)
        self.remove(id_arr.tolist())
        self._index.add_with_ids(vectors, id_arr)
        self._fingerprint = None
        for i, h in zip(id_arr.tolist(), content_hashes, strict=True):
            self._hashes[i] = hash_prefix(h)

    def remove(self, ids: Iterable[int]) -> int:
        present = [i for i in ids if i in self._hashes]
        if not present:
            return 0
        arr = np.asarray(present, dtype=np.int64)
        # an inverted file with a hashtable direct map only takes an IDSelectorArray
        selector = (
            faiss.IDSelectorArray(len(arr), faiss.swig_ptr(arr))
            if self.tuning
            else faiss.IDSelectorBatch(arr)
        )
        removed = int(self._index.remove_ids(selector))
        self._fingerprint = None
        for i in present:
            del self._hashes[i]
        return removed

    def vector(self, record_id: int) -> np.ndarray | None:
        if record_id not in self._hashes:
            return None
        return np.asarray(self._index.reconstruct(int(record_id)), dtype=np.float32)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` neighbours per query row.

        Returns:
            (scores, ids), each of shape ``(len(queries), k')`` with ``k' = min(k, len(self))``,
            best first.
        """
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self))
        if k <= 0:
            empty = np.empty((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        scores, ids = self._index.search(queries, k)
        return scores, ids

    # -- persistence -------------------------------------------------------------------------

    def save(
        self, folder: Path, name: str, *, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Write the index, its entries and (last) its manifest into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        index_bytes = faiss.serialize_index(self._index).tobytes()
        pairs = np.array(sorted(self._hashes.items()), dtype=np.int64).reshape(-1, 2)
        index_sum = _write_atomic(folder / f"{name}.faiss", index_bytes)
        entries_sum = _write_atomic(folder / f"{name}.entries.npy", pairs.tobytes())
        manifest = {
            "version": MANIFEST_VERSION,
            "name": name,
            "embedder": self.embedder_id,
            "dimension": self.dimension,
            "count": len(self),
            "index_type": self.kind,
            "approximate": self.tuning or None,
            "checksum": {"faiss": index_sum, "entries": entries_sum},
            "fingerprint": self.fingerprint(),
            "faiss_version": faiss.__version__,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **(extra or {}),
        }
        _write_atomic(
            folder / f"{name}.manifest.json",
            json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"),
        )
        return manifest

    @staticmethod
    def read_manifest(folder: Path, name: str) -> dict[str, Any] | None:
        path = folder / f"{name}.manifest.json"
        try:
            return dict(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError):
            return None

    @classmethod
    def load(cls, folder: Path, name: str, *, embedder_id: str, dimension: int) -> VectorIndex:
        """Load and verify an index.

        Raises:
            IndexMismatchError: missing or damaged files, another embedder or dimension, or
                contents that disagree with the manifest.
        """
        manifest = cls.read_manifest(folder, name)
        if manifest is None:
            raise IndexMismatchError(f"Indeksen «{name}» mangler manifest.")
        if manifest.get("embedder") != embedder_id or manifest.get("dimension") != dimension:
            raise IndexMismatchError(
                f"Indeksen «{name}» er laget med {manifest.get('embedder')} "
                f"({manifest.get('dimension')} dim.), ikke {embedder_id} ({dimension} dim.)."
            )
        try:
            index_bytes = (folder / f"{name}.faiss").read_bytes()
            entries_bytes = (folder / f"{name}.entries.npy").read_bytes()
        except OSError as exc:
            raise IndexMismatchError(f"Indeksfilene for «{name}» mangler.") from exc
        checks = manifest.get("checksum", {})
        if hashlib.sha256(index_bytes).hexdigest() != checks.get("faiss") or hashlib.sha256(
            entries_bytes
        ).hexdigest() != checks.get("entries"):
            raise IndexMismatchError(f"Indeksfilene for «{name}» er skadet (feil sjekksum).")
        self = cls(embedder_id=embedder_id, dimension=dimension)
        self._index = faiss.deserialize_index(np.frombuffer(index_bytes, dtype=np.uint8))
        self.tuning = dict(manifest.get("approximate") or {})
        if self.tuning:
            self._index.nprobe = int(self.tuning["nprobe"])
            self._index.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
        pairs = np.frombuffer(entries_bytes, dtype=np.int64).reshape(-1, 2)
        self._hashes = {int(i): int(h) for i, h in pairs}
        if len(self) != manifest.get("count") or len(self._hashes) != len(self):
            raise IndexMismatchError(f"Indeksen «{name}» har feil antall vektorer.")
        return self
