"""Exposure over the demo data: how evenly entrepreneurs are proposed over all open needs,
before and after equal treatment (Gini of the number of lists each one appears in).

Usage: python bench/exposure.py [--limit 5]   (seeds the demo data into a throwaway home)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from service.config import Settings
from service.evaluation import exposure_report
from service.runtime import open_runtime, seed_demo
from service.search import sync_engine


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rt = open_runtime(Settings(home=Path(tmp)))
        seed_demo(rt)
        sync_engine(rt.engine, rt.store)
        report = exposure_report(rt, limit=args.limit)
        rt.engine.dispose()
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
