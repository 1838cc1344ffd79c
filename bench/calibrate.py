"""Calibrate the proposal threshold on a gold folder: the score with the best F2 (recall
weighs twice, see service.evaluation.calibrate_threshold) for pairs of grade >= 2 under the
default scorer. Prints the figure to put in matcher.ranking.THRESHOLD.

Usage: python bench/calibrate.py [GOLD_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from service.config import get_settings
from service.evaluation import calibrate_threshold, evaluate_gold, threshold_report


def main(argv: list[str]) -> int:
    gold = Path(argv[0] if argv else "data/gold")
    report = evaluate_gold(gold, embedder=get_settings().embedder)
    scored = report["scored_pairs"]
    best, f1 = calibrate_threshold(scored)
    print(f"{len(scored)} scored pairs, {sum(1 for _, g in scored if g >= 2)} of grade >= 2")
    print(f"best threshold {best:.2f} (F2 {f1:.3f})")
    for t in (best - 0.05, best, best + 0.05):
        r = threshold_report(scored, round(t, 2))
        print(f"  at {r['threshold']:.2f}: {r['proposed']} proposed, precision {r['precision']}, "
              f"recall {r['recall']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
