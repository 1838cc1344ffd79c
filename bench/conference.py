"""Conference scheduling at SosEnt scale: 400 municipal staff × 200 entrepreneurs × 12 slots.

Participants are generated from the demo data (each description joins sentences of two demo
needs or two demo offers, so the affinities come from real embeddings of Norwegian text),
with 12 organisations of about 33 people, unavailable slots, wishes, conflicts of interest,
a minimum of meetings for every entrepreneur and a cap per organisation and entrepreneur.
The solver and the greedy baseline run on the same instance, several times; medians of the
time are reported with the objective, the proven upper bound and the gap of each.

Usage: python bench/conference.py [--municipal 400 --entrepreneurs 200 --slots 12]
       [--tables 160] [--runs 3] [--quick] [--json docs/perf/conference.json]
The embeddings are cached in a home folder under var/bench-conference (first run embeds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from common import standard_options, write_json

from matcher.scheduling import greedy, solve, violations
from matcher.text import sentences
from models.db import session_scope
from service.conference import Participant, affinities, instance
from service.config import Settings
from service.runtime import open_runtime

REPO = Path(__file__).resolve().parents[1]


def participants(n_m: int, n_e: int, slots: int, seed: int = 7) -> list[Participant]:
    rng = np.random.default_rng(seed)
    needs = json.loads((REPO / "data/demo/challenges.json").read_text("utf-8"))
    offers = json.loads((REPO / "data/demo/entrepreneurs.json").read_text("utf-8"))
    orgs = sorted({n["organisation"] for n in needs})[:12]

    def text(records: list[dict], k: int) -> tuple[str, list[str]]:
        a, b = (records[i] for i in rng.choice(len(records), 2, replace=False))
        parts = sentences(a["description"])[: 1 + k % 2] + sentences(b["description"])[:1]
        return " ".join(parts), sorted(set(a["themes"]) | set(b["themes"][:1]))

    def busy() -> frozenset[int]:
        return frozenset(s for s in range(1, slots + 1) if rng.random() < 0.1)

    people = []
    for i in range(n_m):
        desc, themes = text(needs, i)
        people.append(
            Participant(
                id=f"k{i}",
                side="municipal",
                name=f"Ansatt {i}",
                organisation=orgs[i % len(orgs)],
                text=desc,
                themes=themes,
                max_meetings=int(rng.integers(3, 7)),
                min_meetings=0,
                unavailable=busy(),
            )
        )
    for j in range(n_e):
        desc, themes = text(offers, j)
        people.append(
            Participant(
                id=f"e{j}",
                side="entrepreneur",
                name=f"Entreprenør {j}",
                organisation="",
                text=desc,
                themes=themes,
                max_meetings=slots,
                min_meetings=4,
                unavailable=busy(),
            )
        )
    municipal = people[:n_m]
    for k in range(n_m // 7):  # wishes and conflicts of interest
        m = municipal[int(rng.integers(n_m))]
        (m.want if k % 2 else m.avoid).append(f"e{int(rng.integers(n_e))}")
    for m in municipal:
        m.avoid[:] = [a for a in dict.fromkeys(m.avoid) if a not in m.want]
        m.want[:] = list(dict.fromkeys(m.want))
    return people


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--municipal", type=int, default=400)
    parser.add_argument("--entrepreneurs", type=int, default=200)
    parser.add_argument("--slots", type=int, default=12)
    parser.add_argument("--tables", type=int, default=160)
    parser.add_argument("--max-per-organisation", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=120.0)
    standard_options(parser, "100 × 50 × 8, one run", plot=False)
    args = parser.parse_args()
    if args.quick:
        args.municipal, args.entrepreneurs, args.slots, args.tables, args.runs = 100, 50, 8, 40, 1
    people = participants(args.municipal, args.entrepreneurs, args.slots)
    rt = open_runtime(Settings(home=REPO / "var" / "bench-conference"))
    municipal = [p for p in people if p.side == "municipal"]
    entrepreneurs = [p for p in people if p.side == "entrepreneur"]
    t0 = time.monotonic()
    with session_scope(rt.engine) as session:
        aff = affinities(session, rt.store, municipal, entrepreneurs)
    affinity_seconds = time.monotonic() - t0
    inst, _, _ = instance(people, aff, args.slots, args.tables, args.max_per_organisation)
    results: dict[str, dict[str, float | int | str]] = {}
    for name, run in (
        ("greedy", lambda: greedy(inst)),
        ("solver", lambda: solve(inst, time_limit=args.time_limit)),
    ):
        times, last = [], None
        for _ in range(args.runs):
            last = run()
            times.append(last.seconds)
        assert last is not None
        broken = violations(inst, last.meetings)
        results[name] = {
            "seconds_median": round(statistics.median(times), 2),
            "seconds_runs": ", ".join(f"{t:.1f}" for t in times),
            "meetings": len(last.meetings),
            "objective": last.objective,
            "upper_bound": last.upper_bound,
            "gap": round(last.gap, 5),
            "status": last.status,
            "unmet_minimums_or_wishes": len(last.notes),
            "violations": len(broken),
        }
    size = f"{args.municipal} × {args.entrepreneurs} × {args.slots} slots, {args.tables} tables"
    print(f"Conference scheduling, {size}; affinities {affinity_seconds:.1f} s")
    print(
        f"{'method':<8} {'median s':>9} {'meetings':>9} {'objective':>10} {'bound':>10} "
        f"{'gap':>7} {'unmet':>6} {'broken':>7}"
    )
    for name, r in results.items():
        print(
            f"{name:<8} {r['seconds_median']:>9} {r['meetings']:>9} {r['objective']:>10} "
            f"{r['upper_bound']:>10} {float(r['gap']):>7.2%} "
            f"{r['unmet_minimums_or_wishes']:>6} {r['violations']:>7}"
        )
    write_json(
        args.json,
        {
            "size": size,
            "affinity_seconds": round(affinity_seconds, 1),
            "runs": args.runs,
            "results": results,
        },
        ensure_ascii=False,
    )
    rt.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
