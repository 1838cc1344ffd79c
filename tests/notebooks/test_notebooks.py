"""The notebooks run top to bottom on the demo and gold data (executed, not just opened), and
are committed without outputs."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_both_notebooks_are_there() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"matching_quality.ipynb", "landscape.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        f"{path.name} is committed with outputs; clear them"
    )
    started = time.monotonic()
    NotebookClient(
        nb,
        timeout=300,  # per cell; the whole notebook is meant to take under two minutes
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    took = time.monotonic() - started
    print(f"{path.name}: {took:.0f} s")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # every figure and table was drawn
    kinds = [k for o in outputs for k in o.get("data", {})]
    assert kinds.count("image/png") >= (4 if path.stem == "matching_quality" else 2)
    assert kinds.count("text/markdown") >= (6 if path.stem == "matching_quality" else 2)
    nbformat.write(nb, tmp_path / path.name)  # the executed copy, for a look when it fails
