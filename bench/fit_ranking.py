"""Learn the default weights and the confidence from the gold sets, and measure them held out.

    python bench/fit_ranking.py data/gold data/gold-blind [--json docs/perf/fit_ranking.json]

For each gold folder the real pipeline scores every candidate of every need (and of every
entrepreneur, read backwards) once (``service.evaluation.feature_tables``). Then, with
scikit-learn:

1. **Weights.** A logistic regression (label: grade >= 2) over the text and structured
   features, grouped by need. Its coefficients, clipped at 0 and scaled to sum to
   ``1 - FIXED`` (capacity and history keep small fixed nudges: the gold sets have nothing to
   learn them from), are the weights of the transparent weighted sum. The
   regression is pairwise (a better-graded candidate minus a worse one of the same need), so
   it learns what orders a list; the area's share is capped (``AREA_CAP``).
2. **Confidence.** A second logistic regression (Platt scaling) of the label on the weighted
   score, its distance to the list's best and the area fit: ``matcher.confidence``'s BIAS,
   SCORE, GAP, AREA.
3. **Review cut.** The smallest probability at which what is sent to review has a precision
   of at least ``--precision`` (held out).

Every figure is measured held out: 5-fold cross-validation grouped by need over the folders
together (weights, confidence and cut fitted on the other folds), and each folder scored with
what was fitted on the other folder alone. The in-sample ("tuned-on") figures are printed
beside them and labelled so. The constants to put in ``matcher/ranking.py`` and
``matcher/confidence.py`` are the ones fitted on all folders together.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from matcher.evaluation import ndcg_at_k
from service.config import get_settings
from service.evaluation import (
    feature_tables,
    invert,
    read_cases,
    read_pairs,
    read_qrels,
    reliability,
    review_report,
    trap_report,
)

LEARNED = ("similarity", "lexical", "themes", "area", "target_groups")
# No gold set has capacity or decisions to learn from: they keep small fixed weights (nudges a
# reviewer can see in the score parts).
FIXED = {"capacity": 0.02, "history": 0.02}
# The area is a preference, never strong enough to bury an excellent offer from a neighbouring
# kommune (SPEC §6): the fit may give it less, never more (the gold sets reward it because
# most good offers happen to be local, which is what buried the outside-area cases).
AREA_CAP = 0.04
K = 10


def load(folder: Path, cache: Path | None) -> dict[str, Any]:
    """A gold folder's judgements and feature tables (cached as JSON when ``cache`` given)."""
    if cache is not None and cache.exists():
        tables = json.loads(cache.read_text(encoding="utf-8"))
    else:
        tables = feature_tables(folder, embedder=get_settings().embedder)
        if cache is not None:
            cache.write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
    qrels = read_qrels(folder / "qrels.tsv")
    return {
        "name": folder.name,
        "tables": tables,
        "qrels": qrels,
        "back": invert(qrels),
        "cases": read_cases(folder / "cases.tsv"),
        "traps": read_pairs(folder / "traps.tsv"),
    }


def _lists(
    sets: Sequence[Mapping[str, Any]], direction: str
) -> list[tuple[str, str, list[tuple[str, dict[str, float]]], dict[str, int], str]]:
    """(set, query, candidates, grades, kind) for every judged query of ``direction``."""
    out = []
    for s in sets:
        judged = s["qrels"] if direction == "suggest" else s["back"]
        for q, cands in s["tables"][direction].items():
            grades = judged.get(q, {})
            if any(v > 0 for v in grades.values()):
                kind = s["cases"].get(q, "standard") if direction == "suggest" else "alle"
                out.append((s["name"], q, cands, grades, kind))
    return out


def _matrix(lists: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    x = [[f[k] for k in LEARNED] for _, _, cands, _, _ in lists for _, f in cands]
    y = [int(g.get(c, 0) >= 2) for _, _, cands, g, _ in lists for c, _ in cands]
    return np.array(x, dtype=float), np.array(y)


def _pairs(lists: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise differences within each need: a better-graded candidate minus a worse one
    (label 1) and the mirror (label 0), so the regression learns what orders a list."""
    x, y = [], []
    for _, _, cands, grades, _ in lists:
        feats = {c: [f[k] for k in LEARNED] for c, f in cands}
        judged = sorted(feats, key=lambda c: -grades.get(c, 0))
        for i, a in enumerate(judged):
            ga = grades.get(a, 0)
            if ga == 0:
                break
            for b in judged[i + 1 :]:
                if grades.get(b, 0) < ga:
                    diff = np.subtract(feats[a], feats[b])
                    x += [diff, -diff]
                    y += [1, 0]
    return np.array(x), np.array(y)


def fit_weights(lists: Sequence[Any]) -> dict[str, float]:
    x, y = _pairs(lists)
    model = LogisticRegression(C=1.0, max_iter=2000, fit_intercept=False).fit(x, y)
    coef = dict(zip(LEARNED, (float(c) for c in np.clip(model.coef_[0], 0.0, None)), strict=True))
    scale = 1.0 - sum(FIXED.values())
    raw_area = coef.pop("area")
    rest = sum(coef.values()) or 1.0
    area = min(raw_area / (raw_area + rest) * scale, AREA_CAP)
    weights = {k: round(c / rest * (scale - area), 3) for k, c in coef.items()}
    return {**weights, "area": round(area, 3), **FIXED}


def scores(cands: Sequence[tuple[str, dict[str, float]]], w: Mapping[str, float]) -> np.ndarray:
    return np.array([sum(w[k] * f[k] for k in w if k in f) for _, f in cands])


def _conf_inputs(lists: Sequence[Any], w: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: its score, its distance to the list's best, its area fit."""
    x, y = [], []
    for _, _, cands, grades, _ in lists:
        sc = scores(cands, w)
        best = float(sc.max()) if len(sc) else 0.0
        x += [[v, v - best, f["area"]] for v, (_, f) in zip(sc, cands, strict=True)]
        y += [int(grades.get(c, 0) >= 2) for c, _ in cands]
    return np.array(x), np.array(y)


def fit_confidence(lists: Sequence[Any], w: Mapping[str, float]) -> dict[str, float]:
    x, y = _conf_inputs(lists, w)
    model = LogisticRegression(C=10.0, max_iter=2000).fit(x, y)
    return {
        "BIAS": round(float(model.intercept_[0]), 3),
        "SCORE": round(float(model.coef_[0][0]), 3),
        "GAP": round(float(model.coef_[0][1]), 3),
        "AREA": round(float(model.coef_[0][2]), 3),
    }


def probabilities(lists: Sequence[Any], w: Mapping[str, float], c: Mapping[str, float]) -> list:
    """(query, candidate, grade, probability) for every candidate."""
    out = []
    x, _ = _conf_inputs(lists, w)
    z = c["BIAS"] + c["SCORE"] * x[:, 0] + c["GAP"] * x[:, 1] + c["AREA"] * x[:, 2]
    p = iter(1 / (1 + np.exp(-z)))
    for _, q, cands, grades, _ in lists:
        for cid, _ in cands:
            out.append((q, cid, grades.get(cid, 0), float(next(p))))
    return out


def choose_cut(pairs: Sequence[tuple[str, str, int, float]], precision: float) -> float:
    """The lowest probability whose pairs at or above it have at least ``precision``."""
    best = 0.95
    for cut in np.arange(0.95, 0.04, -0.01):
        sent = [g for _, _, g, p in pairs if p >= cut]
        if sent and sum(1 for g in sent if g >= 2) / len(sent) >= precision:
            best = float(cut)
    return round(best, 2)


def ndcg(lists: Sequence[Any], w: Mapping[str, float]) -> dict[str, list[float]]:
    """nDCG@10 per kind (and "alle") of the weighted sum's order."""
    per: dict[str, list[float]] = defaultdict(list)
    for _, _, cands, grades, kind in lists:
        order = [cands[i][0] for i in np.argsort(-scores(cands, w), kind="stable")]
        value = ndcg_at_k(order, grades, K)
        per[kind].append(value)
        per["alle"].append(value)
    return per


def traps(lists: Sequence[Any], w: Mapping[str, float], sets: Sequence[Any]) -> dict[str, int]:
    """Trap needs whose look-alike ranks above the best judged entrepreneur."""
    looks = {(s["name"], q): t for s in sets for q, t in s["traps"].items()}
    run, qrels, found = {}, {}, {}
    for name, q, cands, grades, _ in lists:
        if (name, q) in looks:
            key = f"{name}/{q}"
            run[key] = [cands[i][0] for i in np.argsort(-scores(cands, w), kind="stable")[:K]]
            qrels[key], found[key] = dict(grades), looks[(name, q)]
    return trap_report(run, qrels, found)


def reliability_of(
    pairs: Sequence[tuple[str, str, int, float]], shown: set | None = None
) -> dict[str, dict[str, float]]:
    """``service.evaluation.reliability`` over the pairs (of the lists' top 10 if ``shown``)."""
    return reliability((g, p) for q, c, g, p in pairs if shown is None or (q, c) in shown)


def review(pairs: Sequence[tuple[str, str, int, float]], cut: float) -> dict[str, float]:
    return review_report(((g, p) for _, _, g, p in pairs), cut)


def _top(lists: Sequence[Any], w: Mapping[str, float]) -> set[tuple[str, str]]:
    out = set()
    for _, q, cands, _, _ in lists:
        for i in np.argsort(-scores(cands, w), kind="stable")[:K]:
            out.add((q, cands[i][0]))
    return out


def fit_all(lists: Sequence[Any], precision: float) -> dict[str, Any]:
    w = fit_weights(lists)
    c = fit_confidence(lists, w)
    return {"weights": w, "confidence": c, "cut": choose_cut(probabilities(lists, w, c), precision)}


def held_out(
    lists: Sequence[Any],
    back: Sequence[Any],
    sets: Sequence[Any],
    precision: float,
    folds: int = 5,
) -> dict:
    """Cross-validation grouped by need: every list scored by a fit that never saw it."""
    groups = np.array([f"{s}/{q}" for s, q, *_ in lists])
    per: dict[str, list[float]] = defaultdict(list)
    pairs: list = []
    shown: set = set()
    trapped = {"needs": 0, "trap_above_best": 0}
    for train, test in GroupKFold(n_splits=folds).split(np.zeros(len(lists)), groups=groups):
        fit = fit_all([lists[i] for i in train], precision)
        part = [lists[i] for i in test]
        for kind, values in ndcg(part, fit["weights"]).items():
            per[kind] += values
        for name in {x[0] for x in part}:
            for kind, values in ndcg([x for x in part if x[0] == name], fit["weights"]).items():
                per[f"{name}:{kind}"] += values
        for key, value in traps(part, fit["weights"], sets).items():
            trapped[key] += value
        pairs += probabilities(part, fit["weights"], fit["confidence"])
        shown |= _top(part, fit["weights"])
        # read backwards: each entrepreneur's list of the test needs only, with weights that
        # never saw a judgement of those needs
        held = {(x[0], x[1]) for x in part}
        for name, _ent, cands, grades, _ in back:
            mine = [(c, f) for c, f in cands if (name, c) in held]
            judged = {c: g for c, g in grades.items() if (name, c) in held}
            if mine and any(v > 0 for v in judged.values()):
                order = [
                    mine[i][0] for i in np.argsort(-scores(mine, fit["weights"]), kind="stable")
                ]
                per[f"discover:{name}"].append(ndcg_at_k(order, judged, K))
    fit = fit_all(lists, precision)
    return {
        "ndcg": {k: round(float(np.mean(v)), 3) for k, v in per.items()},
        "queries": {k: len(v) for k, v in per.items()},
        "reliability_all": reliability_of(pairs),
        "reliability_shown": reliability_of(pairs, shown),
        "review": review(pairs, fit["cut"]),
        "traps": trapped,
    }


def report(sets: Sequence[Mapping[str, Any]], precision: float) -> dict[str, Any]:
    lists, back = _lists(sets, "suggest"), _lists(sets, "discover")
    fit = fit_all(lists, precision)
    out: dict[str, Any] = {"fit_on_all": fit}
    defaults = {
        "similarity": 0.50,
        "lexical": 0.10,
        "themes": 0.25,
        "area": 0.08,
        "target_groups": 0.03,
        **FIXED,
    }
    for s in sets:
        mine = [x for x in lists if x[0] == s["name"]]
        mine_back = [x for x in back if x[0] == s["name"]]
        others = [x for x in lists if x[0] != s["name"]]
        entry: dict[str, Any] = {
            "hand_weights": {
                k: round(float(np.mean(v)), 3) for k, v in ndcg(mine, defaults).items()
            },
            "tuned_on_all": {
                k: round(float(np.mean(v)), 3) for k, v in ndcg(mine, fit["weights"]).items()
            },
            "discover_tuned_on_all": round(
                float(np.mean(ndcg(mine_back, fit["weights"])["alle"])), 3
            ),
            "traps_hand_weights": traps(mine, defaults, sets),
        }
        if others:
            other_fit = fit_all(others, precision)
            pairs = probabilities(mine, other_fit["weights"], other_fit["confidence"])
            entry["fitted_on_the_other"] = {
                "ndcg": {
                    k: round(float(np.mean(v)), 3)
                    for k, v in ndcg(mine, other_fit["weights"]).items()
                },
                "discover": round(float(np.mean(ndcg(mine_back, other_fit["weights"])["alle"])), 3),
                "reliability_shown": reliability_of(pairs, _top(mine, other_fit["weights"])),
                "review": review(pairs, other_fit["cut"]),
                "traps": traps(mine, other_fit["weights"], sets),
                "fit": other_fit,
            }
        out[s["name"]] = entry
    out["cross_validation"] = held_out(lists, back, sets, precision)
    out["cross_validation"]["discover"] = round(
        float(np.mean(ndcg(back, fit["weights"])["alle"])), 3
    )
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--precision", type=float, default=0.6)
    parser.add_argument("--cache", type=Path, help="folder for the feature tables")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    sets = [load(f, args.cache / f"{f.name}.json" if args.cache else None) for f in args.folders]
    out = report(sets, args.precision)
    text = json.dumps(out, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
