from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO


def generated_entrepreneurs(n: int, prefix: str = "gen") -> list[dict]:
    """Distinct, valid profiles built from the demo data (each text unique, so each embeds)."""
    from models.validation import with_check_digit

    base = json.loads((REPO / "data" / "demo" / "entrepreneurs.json").read_text("utf-8"))
    out = []
    for i in range(n):
        b = base[i % len(base)]
        nr = None
        k = i
        while nr is None:
            nr = with_check_digit(f"{91000000 + k:08d}")
            k += 7919
        out.append(
            {
                "id": f"{prefix}-{i}",
                "name": f"{b['name']} avdeling {i}",
                "org_nr": nr,
                "description": f"{b['description']} Avdeling nummer {i} har egne folk.",
                "themes": b["themes"],
                "service_areas": b["service_areas"],
                "language": "nb",
            }
        )
    return out


@pytest.fixture
def gen_file(tmp_path: Path):
    def make(n: int, prefix: str = "gen") -> Path:
        path = tmp_path / f"{prefix}-{n}.json"
        path.write_text(
            json.dumps(generated_entrepreneurs(n, prefix), ensure_ascii=False), encoding="utf-8"
        )
        return path

    return make
