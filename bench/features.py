"""Dump every candidate's feature values for a gold folder, both directions, as JSON.

    python bench/features.py data/gold /tmp/gold-features.json

Need -> entrepreneurs (``suggest``) and entrepreneur -> needs (``discover``) run through the
real pipeline in a throwaway home, with no cut, no learned model and no equal treatment, so
that weights and confidence can be studied (and fitted, ``bench/fit_ranking.py``) offline.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from service.config import get_settings
from service.evaluation import feature_tables


def main(argv: list[str]) -> int:
    gold, out = Path(argv[0]), Path(argv[1])
    tables = feature_tables(gold, embedder=get_settings().embedder)
    out.write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
    print(f"{out}: {len(tables['suggest'])} behov, {len(tables['discover'])} entreprenører")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
