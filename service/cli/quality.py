"""Quality commands: the gold-set evaluation, retrieval runs for benchmarks, and the
learned ranker."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from matcher.confidence import LABELS
from models.db import session_scope
from service.cli.output import CliError, Progress, err, out
from service.formatting import number, seconds
from service.runtime import (
    open_runtime,
)


def _print_methods(gold: Path, report: dict[str, Any]) -> None:
    """nDCG@10, recall and MRR per method, and per kind of hard case."""
    out(
        f"Evaluering på {gold} (embedder {report['embedder']}, "
        f"{report['methods']['full']['queries']} behov med relevante treff)"
    )
    out(f"{'metode':<22}{'nDCG@10':>9}{'Recall@10':>11}{'MRR':>8}")
    for method, m in report["methods"].items():
        out(
            f"{method:<22}{number(m['ndcg@10'], 3):>9}{number(m['recall@10'], 3):>11}"
            f"{number(m['mrr'], 3):>8}"
        )
    if report["by_kind"]:
        out("\nnDCG@10 per type vanskelig tilfelle:")
        methods = list(report["methods"])
        out(f"{'type':<12}{'behov':>6}" + "".join(f"{m:>14}" for m in methods))
        for kind, per in report["by_kind"].items():
            n = per["full"]["queries"]
            cells = "".join(f"{number(per[m]['ndcg@10'], 3):>14}" for m in methods)
            out(f"{kind:<12}{n:>6}{cells}")


def _print_calibration(report: dict[str, Any]) -> None:
    """The other direction, the labels' reliability, traps and the review cut."""
    d = report["discover"]
    out(
        f"\nMotsatt vei (entreprenør -> behov, «brobygger discover»): nDCG@10 "
        f"{number(d['ndcg@10'], 3)} over {d['queries']} entreprenører med vurderte behov; "
        f"{d['empty']} av {d['judged']} fikk en tom liste"
    )
    out("\nTreffsikkerhet per merke (andel par vurdert 2–3, mot forventet sannsynlighet):")
    for lvl, r in report["reliability"].items():
        out(
            f"  {LABELS[lvl]:<14}{r['pairs']:>6} par  andel gode {number(r['good'], 3):>6}  "
            f"forventet {number(r['predicted'], 3)}"
        )
    if report["traps"]["needs"]:
        tr = report["traps"]
        out(
            f"\nFeller: i {tr['trap_above_best']} av {tr['needs']} behov står en profil som "
            "bare ligner over det beste treffet"
        )
    t = report["review_cut"]
    out(
        f"\nTil vurdering automatisk (sikkerhet minst {number(t['cut'], 2)}): {t['sent']} "
        f"par, presisjon {number(t['precision'], 3)}, dekning {number(t['recall'], 3)} "
        "(relevant = karakter 2–3)"
    )


def _print_exposure(e: dict[str, Any]) -> None:
    """How evenly exposure is spread, with and without equal treatment."""
    out(f"Eksponering, Gini over {e['entrepreneurs']} entreprenører (0 = helt jevnt):")
    for key, label in (
        ("kandidater", f"topp {e['limit']} som vises"),
        ("til_vurdering", "det som foreslås"),
    ):
        before, after = e[f"{key}_uten"], e[f"{key}_med"]
        out(
            f"  {label:<22} uten likebehandling {number(before['gini'], 3)} "
            f"(maks {before['max_lists']} lister), med {number(after['gini'], 3)} "
            f"(maks {after['max_lists']} lister)"
        )


def cmd_eval(args: argparse.Namespace) -> int:
    from service.config import get_settings
    from service.evaluation import evaluate_gold

    gold = Path(args.gold_dir)
    missing = [
        n for n in ("entrepreneurs.json", "challenges.json", "qrels.tsv") if not (gold / n).exists()
    ]
    if missing:
        raise CliError(f"Mappen {gold} mangler: {', '.join(missing)}.")
    report = evaluate_gold(gold, embedder=get_settings().embedder, progress=Progress())
    if args.json:
        hidden = ("runs", "runs_discover", "scored_pairs", "candidates")
        out(json.dumps({k: v for k, v in report.items() if k not in hidden}, indent=2))
        return 0
    _print_methods(gold, report)
    _print_calibration(report)
    _print_exposure(report["exposure"])
    return 0


def cmd_retrieve(args: argparse.Namespace) -> int:
    from service.benchmark import read_jsonl, run_retrieval

    try:
        corpus, queries = read_jsonl(Path(args.corpus)), read_jsonl(Path(args.queries))
    except (OSError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    rt = open_runtime()
    started = time.monotonic()
    for qid, hits in run_retrieval(
        rt, corpus, queries, method=args.method, k=args.k, progress=Progress()
    ):
        for rank, (doc, score) in enumerate(hits, start=1):
            out(f"{qid} Q0 {doc} {rank} {score:.6f} {args.method}")
    err(
        f"{len(queries)} spørsmål mot {len(corpus)} dokumenter med {args.method} "
        f"på {seconds(time.monotonic() - started)}."
    )
    return 0


def cmd_ranker_train(args: argparse.Namespace) -> int:
    from service.proposals import train_ranker

    rt = open_runtime()
    with session_scope(rt.engine) as session:
        result = train_ranker(session, rt.settings.index_dir)
    out(result.reason)
    if result.model is not None:
        h = result.heldout
        out(
            f"Versjon {result.model.version}: {result.model.decisions} vurderinger på "
            f"{result.model.challenges} behov."
        )
        out(
            f"På behov modellen ikke er trent på ({h['pairs']} par godkjent/avvist): "
            f"lært {number(h['learned'], 3)}, standard {number(h['default'], 3)} riktig ordnet."
        )
    return 0


def cmd_ranker_status(args: argparse.Namespace) -> int:
    from matcher.learned import describe
    from matcher.ranking import DEFAULT_WEIGHTS, RANKER_VERSION
    from service.proposals import collect_decisions, current_model

    rt = open_runtime()
    with session_scope(rt.engine) as session:
        n = len(collect_decisions(session))
    model = current_model(rt.settings.index_dir)
    in_use = model.version if model is not None and model.active else RANKER_VERSION
    out(f"I bruk: {in_use}. Vurderinger å lære av: {n}.")
    out("Standardvekter: " + ", ".join(f"{k} {number(v, 2)}" for k, v in DEFAULT_WEIGHTS.items()))
    if model is not None:
        info = describe(model)
        state = "aktiv" if model.active else "ikke aktiv (ikke bedre enn standard)"
        out(f"Siste lærte modell: {model.version}, {state}, trent {model.trained_at}.")
        out("  Vekter: " + ", ".join(f"{k} {v:+.3f}" for k, v in info["weights"].items()))
    return 0


def register(sub: Any) -> None:
    s = sub.add_parser("eval", help="mål treffkvalitet på et gullsett")
    s.add_argument("gold_dir")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("retrieve", help="kjør søkelaget på et korpus og skriv en TREC-kjøring")
    s.add_argument("corpus", help='JSONL med {"id", "text"} per linje')
    s.add_argument("queries", help='JSONL med {"id", "text"} per linje')
    s.add_argument("--method", choices=["bm25", "dense", "hybrid", "rrf"], default="hybrid")
    s.add_argument("--k", type=int, default=10)
    s.set_defaults(func=cmd_retrieve)

    ranker = sub.add_parser("ranker", help="rangeringsmodellen").add_subparsers(
        dest="ranker_cmd", required=True, metavar="HANDLING"
    )
    ranker.add_parser("train", help="lær av saksbehandlernes vurderinger").set_defaults(
        func=cmd_ranker_train
    )
    ranker.add_parser("status", help="hvilken modell som brukes").set_defaults(
        func=cmd_ranker_status
    )
