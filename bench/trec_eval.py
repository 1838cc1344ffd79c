"""Score TREC runs (``query Q0 doc rank score tag``) against qrels (``query doc grade``).

Usage: python bench/trec_eval.py QRELS RUN [RUN ...]   -> nDCG@10, Recall@10, MRR@10 per run
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from matcher.evaluation import evaluate
from service.evaluation import read_qrels


def read_run(path: Path) -> dict[str, list[str]]:
    ranked: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 6:
            ranked[parts[0]].append((int(parts[3]), parts[2]))
    return {q: [d for _, d in sorted(hits)] for q, hits in ranked.items()}


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    qrels = read_qrels(Path(argv[0]))
    print(f"{'run':<28}{'nDCG@10':>9}{'Recall@10':>11}{'MRR@10':>8}{'queries':>9}")
    for name in argv[1:]:
        run = {q: docs[:10] for q, docs in read_run(Path(name)).items()}
        m = evaluate(run, qrels, 10)
        print(
            f"{Path(name).name:<28}{m['ndcg@10']:>9.3f}{m['recall@10']:>11.3f}"
            f"{m['mrr']:>8.3f}{m['queries']:>9}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
