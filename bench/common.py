"""What the benchmark scripts share: the options `make bench` passes to each of them and the
JSON file of their results."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def standard_options(parser: argparse.ArgumentParser, quick: str, *, plot: bool = True) -> None:
    """``--runs``, ``--quick`` (``quick`` says what it measures then), ``--json`` and, for a
    script that draws its results, ``--plot``."""
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--json", type=Path, default=None)
    if plot:
        parser.add_argument("--plot", type=Path, default=None)


def write_json(path: Path | None, results: Any, *, ensure_ascii: bool = True) -> None:
    """The results as indented JSON at ``path`` (its folder made), when one was asked for."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=ensure_ascii) + "\n")
