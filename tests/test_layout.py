"""The layout rules of docs/ARCHITECTURE.md, checked on the source: which layer may import
which, how large a module or a function of ``service/`` may grow, and that the faces (CLI, API,
web pages) leave writing to the service functions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# A longer function says why on its ``def`` line or the line above: ``# long: <reason>``.
LONG_REASON = re.compile(r"#\s*long:\s*\S")
FACES = ("service/api", "service/web", "service/cli")
WRITES = re.compile(r"\bsession\.(add|add_all|delete|merge|execute|commit|flush)\(")


def _sources(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize(
    ("floor", "forbidden"), [("matcher", {"models", "service"}), ("models", {"matcher", "service"})]
)
def test_ground_floors_import_neither_each_other_nor_the_service(
    floor: str, forbidden: set[str]
) -> None:
    bad = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & forbidden)
        for p in _sources(floor)
        if _imports(p) & forbidden
    }
    assert not bad


def test_service_modules_stay_small() -> None:
    sizes = {
        str(p.relative_to(ROOT)): n
        for p in _sources("service")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not sizes, f"over {MAX_MODULE_LINES} lines: {sizes}"


def test_service_functions_stay_short_or_say_why() -> None:
    long: dict[str, int] = {}
    for path in _sources("service"):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            said = any(LONG_REASON.search(lines[i - 1]) for i in (first - 1, node.lineno) if i)
            if length > MAX_FUNCTION_LINES and not said:
                long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = length
    assert not long, f"over {MAX_FUNCTION_LINES} lines without '# long: why': {long}"


def test_faces_leave_writing_to_the_service() -> None:
    writes = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for face in FACES
        for p in (_sources(face) if (ROOT / face).is_dir() else [ROOT / f"{face}.py"])
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if WRITES.search(line)
    ]
    assert not writes, "a face writes to the database itself:\n" + "\n".join(writes)
