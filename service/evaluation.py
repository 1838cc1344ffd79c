"""Evaluation on a gold folder (entrepreneurs.json, challenges.json, qrels.tsv[, cases.tsv]).

The gold set runs through the real pipeline (import, index, suggest) in a throwaway home, so
the figures describe what users get. Every method runs on the same data in the same call:

- ``bm25``: lexical retrieval alone (Norwegian analyser, BM25);
- ``dense``: embedding cosine alone;
- ``hybrid``: the fusion of the two (``matcher.retrieval.fuse``);
- ``full``: the default scorer over all features;
- ``full+likebehandling``: the full ranking after equal treatment, in a batch over all needs;
- ``bag-of-words``: raw term-count cosine, the plain baseline.

The report also carries every scored pair and each candidate's feature values, so that an
analyst can study the score distribution and the effect of each feature
(``notebooks/matching_quality.ipynb``).
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import col, select

from matcher.evaluation import bag_of_words_rank, evaluate
from matcher.ranking import THRESHOLD, gini
from matcher.retrieval import fuse, lexical_confidence
from models.db import session_scope
from models.importing import import_rows, read_rows
from models.tables import Challenge, Entrepreneur
from service.config import Settings
from service.matching import (
    ENTREPRENEURS,
    IndexStore,
    challenge_text,
    entrepreneur_text,
    suggest,
    suggest_all,
    sync_engine,
)
from service.runtime import Runtime, open_runtime


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


def _retrieval_runs(
    session: Any, store: IndexStore, chs: list[Challenge], ents: list[Entrepreneur], k: int
) -> dict[str, dict[str, list[str]]]:
    index = store.index(ENTREPRENEURS)
    bm25 = store.lexical(session, ENTREPRENEURS)
    by_id = {e.id: e for e in ents}
    ids = [int(i) for i in bm25.ids]  # type: ignore[call-overload]
    ent_vecs = np.array([index.vector(i) for i in ids])
    runs: dict[str, dict[str, list[str]]] = {"bm25": {}, "dense": {}, "hybrid": {}}
    for ch in chs:
        text = challenge_text(ch)
        vec, _ = store.vectors(session, [text], "query")
        dense = ent_vecs @ vec[0]
        lexical = bm25.scores(text)
        hybrid = fuse(dense, lexical, lexical_confidence(bm25, text, lexical))
        for name, scores in (("bm25", lexical), ("dense", dense), ("hybrid", hybrid)):
            order = np.argsort(-np.asarray(scores), kind="stable")[:k]
            runs[name][ch.external_id] = [by_id[ids[j]].external_id for j in order]
    return runs


def exposure_report(rt: Runtime, *, limit: int = 5) -> dict[str, Any]:
    """How evenly entrepreneurs are proposed over all open challenges, without and with
    equal treatment: the Gini coefficient of the number of lists each entrepreneur appears in
    (0 is perfectly even). Reported for the top-``limit`` candidate lists before the
    threshold (where equal treatment has room to act) and for what is proposed after it."""
    out: dict[str, Any] = {"limit": limit}
    with session_scope(rt.engine) as session:
        ents = [e.id for e in session.exec(select(Entrepreneur))]
        chs = list(
            session.exec(
                select(Challenge).where(Challenge.status == "open").order_by(col(Challenge.id))
            )
        )
        for threshold in (False, True):
            for fair in (False, True):
                counts = dict.fromkeys(ents, 0)
                for _, result in suggest_all(
                    session, rt.store, chs, limit=limit, fair=fair, threshold=threshold
                ):
                    for s in result.suggestions:
                        counts[s.id] += 1
                key = ("etter_terskel" if threshold else "kandidater") + (
                    "_med" if fair else "_uten"
                )
                out[key] = {
                    "gini": round(gini(list(counts.values())), 3),
                    "max_lists": max(counts.values()) if counts else 0,
                    "never_listed": sum(1 for v in counts.values() if v == 0),
                    "listed": sum(counts.values()),
                }
        out["entrepreneurs"], out["challenges"] = len(ents), len(chs)
    return out


def evaluate_gold(
    gold_dir: Path, *, embedder: str, k: int = 10, progress: Any = None
) -> dict[str, Any]:
    """Run every method on the gold set; return overall and per-case-kind metrics."""
    qrels = read_qrels(gold_dir / "qrels.tsv")
    cases = read_cases(gold_dir / "cases.tsv")
    with tempfile.TemporaryDirectory(prefix="brobygger-eval-") as tmp:
        rt = open_runtime(Settings(home=Path(tmp), embedder=embedder))
        with session_scope(rt.engine) as session:
            import_rows(session, "entrepreneurs", read_rows(gold_dir / "entrepreneurs.json"))
            import_rows(session, "challenges", read_rows(gold_dir / "challenges.json"))
        sync_engine(rt.engine, rt.store, progress=progress)
        with session_scope(rt.engine) as session:
            ents = list(session.exec(select(Entrepreneur)))
            chs = list(session.exec(select(Challenge).order_by(col(Challenge.id))))
            by_id = {e.id: e.external_id for e in ents}
            runs = _retrieval_runs(session, rt.store, chs, ents, k)
            runs["full"] = {}
            scored: list[tuple[float, int]] = []
            candidates: dict[str, list[tuple[str, dict[str, float]]]] = {}
            for ch in chs:
                result = suggest(
                    session, rt.store, ch, limit=len(ents), fair=False, threshold=False
                )
                runs["full"][ch.external_id] = [by_id[s.id] for s in result.suggestions][:k]
                candidates[ch.external_id] = [
                    (by_id[s.id], dict(s.features)) for s in result.suggestions
                ]
                grades = qrels.get(ch.external_id, {})
                scored += [(s.score, grades.get(by_id[s.id], 0)) for s in result.suggestions]
            fair_runs: dict[str, list[str]] = {}
            for ch, result in suggest_all(
                session, rt.store, chs, limit=k, fair=True, threshold=False
            ):
                fair_runs[ch.external_id] = [by_id[s.id] for s in result.suggestions]
            runs["full+likebehandling"] = fair_runs
            runs["bag-of-words"] = bag_of_words_rank(
                {c.external_id: challenge_text(c) for c in chs},
                {e.external_id: entrepreneur_text(e) for e in ents},
                k=k,
            )
        exposure = exposure_report(rt, limit=5)
        rt.engine.dispose()
    report: dict[str, Any] = {"embedder": embedder, "k": k, "methods": {}, "by_kind": {}}
    for method, run in runs.items():
        report["methods"][method] = evaluate(run, qrels, k)
    for kind in sorted(set(cases.values())):
        sub = {q: g for q, g in qrels.items() if cases.get(q) == kind}
        report["by_kind"][kind] = {m: evaluate(run, sub, k) for m, run in runs.items()}
    report["threshold"] = threshold_report(scored, THRESHOLD)
    report["exposure"] = {
        key: {k2: v2 for k2, v2 in val.items() if not k2.startswith("_")}
        if isinstance(val, dict)
        else val
        for key, val in exposure.items()
    }
    report["runs"] = runs
    report["scored_pairs"] = scored
    # every candidate's feature values per need, for ablations (notebooks/matching_quality)
    report["candidates"] = candidates
    return report


def threshold_report(scored: list[tuple[float, int]], threshold: float) -> dict[str, float]:
    """Precision/recall of "proposed" (score >= threshold) against grade >= 2."""
    proposed = [g for s, g in scored if s >= threshold]
    relevant = sum(1 for _, g in scored if g >= 2)
    hits = sum(1 for g in proposed if g >= 2)
    return {
        "threshold": threshold,
        "proposed": len(proposed),
        "precision": round(hits / len(proposed), 3) if proposed else 0.0,
        "recall": round(hits / relevant, 3) if relevant else 0.0,
    }


def calibrate_threshold(scored: list[tuple[float, int]], beta: float = 2.0) -> tuple[float, float]:
    """The score threshold with the best F-beta for grade >= 2 pairs: (threshold, F-beta).

    beta = 2 weighs recall twice as much as precision: a reviewer can reject a weak proposal,
    but nobody sees the good entrepreneur a threshold hides (equal treatment).
    """
    best = (0.0, 0.0)
    relevant = sum(1 for _, g in scored if g >= 2)
    for t in sorted({round(s, 2) for s, _ in scored}):
        proposed = [g for s, g in scored if s >= t]
        hits = sum(1 for g in proposed if g >= 2)
        if not proposed or not relevant:
            continue
        p, r = hits / len(proposed), hits / relevant
        b2 = beta * beta
        f = (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0
        if f > best[1]:
            best = (t, f)
    return best
