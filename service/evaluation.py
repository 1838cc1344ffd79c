"""Evaluation on a gold folder (entrepreneurs.json, challenges.json, qrels.tsv[, cases.tsv]).

The gold set runs through the real pipeline (import, index, suggest) in a throwaway home, so
the figures describe what users get. Baselines run on the same data in the same call.
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from matcher.evaluation import bag_of_words_rank, evaluate
from models.db import session_scope
from models.importing import import_rows, read_rows
from service.config import Settings
from service.matching import challenge_text, entrepreneur_text, find_challenge, suggest, sync_engine
from service.runtime import open_runtime


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(path, encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) >= 3 and row[2].strip().lstrip("-").isdigit():
                qrels[row[0]][row[1]] = int(row[2])
    return dict(qrels)


def read_cases(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as fh:
        return {r[0]: r[1] for r in csv.reader(fh, delimiter="\t") if len(r) >= 2}


def evaluate_gold(gold_dir: Path, *, embedder: str, k: int = 10,
                  progress: Any = None) -> dict[str, Any]:
    """Run every method on the gold set; return overall and per-case-kind metrics."""
    qrels = read_qrels(gold_dir / "qrels.tsv")
    cases = read_cases(gold_dir / "cases.tsv")
    with tempfile.TemporaryDirectory(prefix="brobygger-eval-") as tmp:
        rt = open_runtime(Settings(home=Path(tmp), embedder=embedder))
        with session_scope(rt.engine) as session:
            import_rows(session, "entrepreneurs", read_rows(gold_dir / "entrepreneurs.json"))
            import_rows(session, "challenges", read_rows(gold_dir / "challenges.json"))
        sync_engine(rt.engine, rt.store, progress=progress)
        runs: dict[str, dict[str, list[str]]] = {"full": {}, "dense": {}, "bag-of-words": {}}
        with session_scope(rt.engine) as session:
            from sqlmodel import select

            from models.tables import Challenge, Entrepreneur

            ents = list(session.exec(select(Entrepreneur)))
            chs = list(session.exec(select(Challenge)))
            for ch in chs:
                found = find_challenge(session, ch.external_id)
                assert found is not None
                result = suggest(session, rt.store, found, limit=len(ents))
                ranked = [result.rows[s.id].external_id for s in result.suggestions]
                runs["full"][ch.external_id] = ranked[:k]
                by_cos = sorted(result.suggestions, key=lambda s: -s.features["cosine"])
                runs["dense"][ch.external_id] = [result.rows[s.id].external_id for s in by_cos][:k]
            runs["bag-of-words"] = bag_of_words_rank(
                {c.external_id: challenge_text(c) for c in chs},
                {e.external_id: entrepreneur_text(e) for e in ents}, k=k,
            )
        rt.engine.dispose()
    report: dict[str, Any] = {"embedder": embedder, "k": k, "methods": {}, "by_kind": {}}
    for method, run in runs.items():
        report["methods"][method] = evaluate(run, qrels, k)
    for kind in sorted(set(cases.values())):
        sub = {q: g for q, g in qrels.items() if cases.get(q) == kind}
        report["by_kind"][kind] = {m: evaluate(run, sub, k) for m, run in runs.items()}
    report["runs"] = runs
    return report
