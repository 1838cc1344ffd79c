"""Evaluation on a gold folder (entrepreneurs.json, challenges.json, qrels.tsv[, cases.tsv]).

The gold set runs through the real pipeline (import, index, suggest) in a throwaway home, so
the figures describe what users get. Every method runs on the same data in the same call:

- ``bm25``: lexical retrieval alone (Norwegian analyser, BM25);
- ``dense``: embedding cosine alone;
- ``hybrid``: the fusion of the two (``matcher.retrieval.fuse``);
- ``full``: the default scorer over all features, one need at a time;
- ``shown``: what users are shown, exactly as ``brobygger suggest --all --limit 10 --json``
  returns it (the full ranking with equal treatment over the batch; nothing is cut);
- ``bag-of-words``: raw term-count cosine, the plain baseline.

The report also carries every scored pair and each candidate's feature values, so that an
analyst can study the score distribution and the effect of each feature
(``notebooks/matching_quality.ipynb``).
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from matcher.confidence import LABELS, REVIEW_CUT, level
from matcher.evaluation import bag_of_words_rank, evaluate
from matcher.ranking import gini
from matcher.retrieval import fuse, lexical_confidence
from models.db import session_scope
from models.importing import import_rows, read_rows
from models.tables import Challenge, Entrepreneur
from service.config import Settings
from service.matching import discover, suggest, suggest_all
from service.runtime import Runtime, open_runtime
from service.search import ENTREPRENEURS, IndexStore, challenge_text, entrepreneur_text, sync_engine


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
    (0 is perfectly even). Reported for the top-``limit`` lists people see (where equal
    treatment has room to act) and for what the automatic step sends to review (the cut)."""
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
                key = ("til_vurdering" if threshold else "kandidater") + (
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


@contextmanager
def gold_home(
    gold_dir: Path, embedder: str, progress: Any = None
) -> Iterator[tuple[Runtime, list[Entrepreneur], list[Challenge]]]:
    """A throwaway home with a gold folder imported and indexed through the normal pipeline:
    the runtime, its entrepreneurs and its challenges (by id)."""
    with tempfile.TemporaryDirectory(prefix="brobygger-eval-") as tmp:
        rt = open_runtime(Settings(home=Path(tmp), embedder=embedder))
        try:
            with session_scope(rt.engine) as session:
                import_rows(session, "entrepreneurs", read_rows(gold_dir / "entrepreneurs.json"))
                import_rows(session, "challenges", read_rows(gold_dir / "challenges.json"))
            sync_engine(rt.engine, rt.store, progress=progress)
            with session_scope(rt.engine) as session:
                ents = list(session.exec(select(Entrepreneur)))
                chs = list(session.exec(select(Challenge).order_by(col(Challenge.id))))
                session.expunge_all()
            yield rt, ents, chs
        finally:
            rt.engine.dispose()


def _full_ranking(
    session: Session,
    store: Any,
    chs: list[Any],
    ents: list[Any],
    qrels: dict[str, dict[str, int]],
    k: int,
) -> tuple[dict[str, list[str]], list[tuple[float, int, float]], dict[str, Any]]:
    """Every need's whole ranked list: its top ``k`` (the run), every candidate's (score,
    grade, confidence), and every candidate's features (for ablations)."""
    by_id = {e.id: e.external_id for e in ents}
    run: dict[str, list[str]] = {}
    scored: list[tuple[float, int, float]] = []
    candidates: dict[str, list[tuple[str, dict[str, float]]]] = {}
    for ch in chs:
        result = suggest(session, store, ch, limit=len(ents), fair=False, threshold=False)
        run[ch.external_id] = [by_id[s.id] for s in result.suggestions][:k]
        candidates[ch.external_id] = [(by_id[s.id], dict(s.features)) for s in result.suggestions]
        grades = qrels.get(ch.external_id, {})
        scored += [(s.score, grades.get(by_id[s.id], 0), s.confidence) for s in result.suggestions]
    return run, scored, candidates


def evaluate_gold(
    gold_dir: Path, *, embedder: str, k: int = 10, progress: Any = None
) -> dict[str, Any]:
    """Run every method on the gold set; return overall and per-case-kind metrics."""
    qrels = read_qrels(gold_dir / "qrels.tsv")
    cases = read_cases(gold_dir / "cases.tsv")
    with gold_home(gold_dir, embedder, progress) as (rt, ents, chs):
        with session_scope(rt.engine) as session:
            by_id = {e.id: e.external_id for e in ents}
            runs = _retrieval_runs(session, rt.store, chs, ents, k)
            runs["full"], scored, candidates = _full_ranking(session, rt.store, chs, ents, qrels, k)
            shown: dict[str, list[str]] = {}
            for ch, result in suggest_all(session, rt.store, chs, limit=k):
                shown[ch.external_id] = [by_id[s.id] for s in result.suggestions]
            runs["shown"] = shown
            backwards = _discover_runs(session, rt.store, ents, k)
            runs["bag-of-words"] = bag_of_words_rank(
                {c.external_id: challenge_text(c) for c in chs},
                {e.external_id: entrepreneur_text(e) for e in ents},
                k=k,
            )
        exposure = exposure_report(rt, limit=5)
    report: dict[str, Any] = {"embedder": embedder, "k": k, "methods": {}, "by_kind": {}}
    for method, run in runs.items():
        report["methods"][method] = evaluate(run, qrels, k)
    for kind in sorted(set(cases.values())):
        sub = {q: g for q, g in qrels.items() if cases.get(q) == kind}
        report["by_kind"][kind] = {m: evaluate(run, sub, k) for m, run in runs.items()}
    report["traps"] = trap_report(runs["shown"], qrels, read_pairs(gold_dir / "traps.tsv"))
    report["review_cut"] = review_report((g, p) for _, g, p in scored)
    report["reliability"] = reliability((g, p) for _, g, p in scored)
    back = invert(qrels)
    report["discover"] = {
        **evaluate(backwards, back, k),
        "judged": sum(1 for g in back.values() if any(v > 0 for v in g.values())),
        "empty": sum(
            1 for e, g in back.items() if any(v > 0 for v in g.values()) and not backwards.get(e)
        ),
    }
    report["runs_discover"] = backwards
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


def feature_tables(gold_dir: Path, *, embedder: str) -> dict[str, Any]:
    """Every candidate's features for every need (``suggest``) and every entrepreneur
    (``discover``) of a gold folder, keyed by external id: the raw material for fitting the
    weights and the confidence (``bench/fit_ranking.py``). No cut, no learned model, no equal
    treatment, so each list is the default scorer's full order."""
    out: dict[str, Any] = {"suggest": {}, "discover": {}}
    with gold_home(gold_dir, embedder) as (rt, ents, chs):
        with session_scope(rt.engine) as session:
            ent_ids = {e.id: e.external_id for e in ents}
            ch_ids = {c.id: c.external_id for c in chs}
            for ch in chs:
                result = suggest(
                    session,
                    rt.store,
                    ch,
                    limit=len(ents),
                    fair=False,
                    threshold=False,
                    learned=False,
                )
                out["suggest"][ch.external_id] = [
                    [ent_ids[s.id], dict(s.features)] for s in result.suggestions
                ]
            for e in ents:
                result = discover(session, rt.store, e, limit=len(chs), threshold=False)
                out["discover"][e.external_id] = [
                    [ch_ids[s.id], dict(s.features)] for s in result.suggestions
                ]
    return out


def read_pairs(path: Path) -> dict[str, set[str]]:
    """``need<TAB>entrepreneur`` lines (e.g. ``traps.tsv``: the look-alike profiles)."""
    out: dict[str, set[str]] = defaultdict(set)
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            for row in csv.reader(fh, delimiter="\t"):
                if len(row) >= 2:
                    out[row[0]].add(row[1])
    return dict(out)


def trap_report(
    run: dict[str, list[str]], qrels: dict[str, dict[str, int]], traps: dict[str, set[str]]
) -> dict[str, int]:
    """How many trap needs show a look-alike profile above their best judged entrepreneur
    (the first of the highest grade in the list; a trap above a list without it counts)."""
    above = 0
    for need, looks in traps.items():
        order = run.get(need, [])
        grades = qrels.get(need, {})
        top = max(grades.values(), default=0)
        best = next((i for i, e in enumerate(order) if grades.get(e, 0) == top), len(order))
        if any(e in looks for e in order[:best]):
            above += 1
    return {"needs": len(traps), "trap_above_best": above}


def invert(qrels: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The judgements read backwards: entrepreneur -> the needs judged for it."""
    back: dict[str, dict[str, int]] = defaultdict(dict)
    for need, grades in qrels.items():
        for ent, grade in grades.items():
            back[ent][need] = grade
    return dict(back)


def _discover_runs(
    session: Any, store: IndexStore, ents: list[Entrepreneur], k: int
) -> dict[str, list[str]]:
    """What each entrepreneur is shown (``brobygger discover``, "Behov for deg")."""
    ids = {c.id: c.external_id for c in session.exec(select(Challenge))}
    return {
        e.external_id: [ids[s.id] for s in discover(session, store, e, limit=k).suggestions]
        for e in ents
    }


def review_report(pairs: Iterable[tuple[int, float]], cut: float = REVIEW_CUT) -> dict[str, float]:
    """Precision/recall of what the automatic step sends to review (``(grade, probability)``
    pairs at or above ``cut``) against the pairs of grade >= 2."""
    pairs = list(pairs)
    sent = [g for g, p in pairs if p >= cut]
    relevant = sum(1 for g, _ in pairs if g >= 2)
    hits = sum(1 for g in sent if g >= 2)
    return {
        "cut": cut,
        "sent": len(sent),
        "precision": round(hits / len(sent), 3) if sent else 0.0,
        "recall": round(hits / relevant, 3) if relevant else 0.0,
    }


def reliability(pairs: Iterable[tuple[int, float]]) -> dict[str, dict[str, float]]:
    """Per confidence label, over ``(grade, probability)`` pairs: how many carry it, the share
    a judge found good (grade >= 2) and the mean predicted probability (calibrated when the
    two agree)."""
    pairs = list(pairs)
    out: dict[str, dict[str, float]] = {}
    for lvl in LABELS:
        got = [(g, p) for g, p in pairs if level(p) == lvl]
        out[lvl] = {
            "pairs": len(got),
            "good": round(sum(1 for g, _ in got if g >= 2) / len(got), 3) if got else 0.0,
            "predicted": round(sum(p for _, p in got) / len(got), 3) if got else 0.0,
        }
    return out
