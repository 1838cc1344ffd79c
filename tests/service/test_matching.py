"""Index sync and matching against both database backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import select

from matcher.confidence import REVIEW_CUT
from matcher.retrieval import fuse, lexical_confidence, top_k
from models.db import session_scope
from models.importing import import_rows, read_rows
from models.tables import Challenge, EmbeddingCache, Entrepreneur
from service.config import Settings
from service.matching import discover, find_challenge, search_text, suggest
from service.runtime import open_runtime
from service.search import CHALLENGES, ENTREPRENEURS, sync_engine
from tests.conftest import REPO

GOLD = REPO / "data" / "gold"


def test_sync_suggest_and_incremental_updates(db_url: str, tmp_path: Path) -> None:
    rt = open_runtime(Settings(home=tmp_path, database_url=db_url))
    with session_scope(rt.engine) as session:
        import_rows(session, "entrepreneurs", read_rows(GOLD / "entrepreneurs.json"))
        import_rows(session, "challenges", read_rows(GOLD / "challenges.json"))
    reports = sync_engine(rt.engine, rt.store)
    assert [(r.name, r.added) for r in reports] == [(ENTREPRENEURS, 25), (CHALLENGES, 18)]
    with session_scope(rt.engine) as session:
        ch = find_challenge(session, "g-c09")
        assert ch is not None
        result = suggest(session, rt.store, ch, limit=5)
        ranked = [result.rows[s.id].external_id for s in result.suggestions]
        assert ranked[0] == "g-e12" and "g-e13" not in ranked[:2]
        cached = len(session.exec(select(EmbeddingCache)).all())
    assert cached > 43  # 43 records plus their sentences (for explanations)

    # nothing changed: nothing to do
    assert all(r.added == r.removed == 0 for r in sync_engine(rt.engine, rt.store))

    # close a challenge and change a profile: only those move
    with session_scope(rt.engine) as session:
        ch = find_challenge(session, "g-c09")
        assert ch is not None
        ch.status = "closed"
        ent = session.exec(select(Entrepreneur).where(Entrepreneur.external_id == "g-e12")).one()
        ent.description += " Vi har også kurs for lærere."
    reports = {r.name: r for r in sync_engine(rt.engine, rt.store)}
    assert (reports[ENTREPRENEURS].added, reports[ENTREPRENEURS].removed) == (1, 1)
    assert reports[ENTREPRENEURS].embedded == 1
    assert (reports[CHALLENGES].added, reports[CHALLENGES].removed) == (0, 1)
    assert len(rt.store.index(CHALLENGES)) == 17

    with session_scope(rt.engine) as session:
        ent = session.exec(select(Entrepreneur).where(Entrepreneur.external_id == "g-e12")).one()
        found = discover(session, rt.store, ent, limit=20, threshold=False)
        statuses = {session.get(Challenge, s.id).status for s in found.suggestions}
        assert statuses == {"open"} and len(found.suggestions) == 17
        # the list people see is the same, never cut; the automatic step keeps only the sure
        shown = discover(session, rt.store, ent, limit=20)
        assert [s.id for s in shown.suggestions] == [s.id for s in found.suggestions]
        sure = discover(session, rt.store, ent, limit=20, threshold=True).suggestions
        assert all(s.confidence >= REVIEW_CUT for s in sure) and len(sure) < 17
    with session_scope(rt.engine) as session:
        assert all(r.ok for r in rt.store.verify(session))
    rt.engine.dispose()


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.texts = inner, 0
        self.id, self.dimension = inner.id, inner.dimension

    def embed_queries(self, texts: Any, **kw: Any) -> Any:
        self.texts += len(texts)
        return self.inner.embed_queries(texts, **kw)

    def embed_passages(self, texts: Any, **kw: Any) -> Any:
        self.texts += len(texts)
        return self.inner.embed_passages(texts, **kw)


def test_hot_path_embeds_nothing_for_stored_records_and_once_for_free_text(
    tmp_path: Path,
) -> None:
    """A suggestion for a stored need, a discovery for a stored profile and an explanation
    embed nothing (vectors come from the index and the cache); a free-text search embeds its
    text once, and its fusion matches the reference over every record."""
    rt = open_runtime(Settings(home=tmp_path))
    with session_scope(rt.engine) as session:
        import_rows(session, "entrepreneurs", read_rows(GOLD / "entrepreneurs.json"))
        import_rows(session, "challenges", read_rows(GOLD / "challenges.json"))
    sync_engine(rt.engine, rt.store)
    counter = CountingEmbedder(rt.store.embedder)
    rt.store._embedder = counter  # type: ignore[assignment]
    with session_scope(rt.engine) as session:
        ch = find_challenge(session, "g-c09")
        assert ch is not None
        result = suggest(session, rt.store, ch, limit=10)
        assert result.suggestions and result.suggestions[0].explanation["sentences"]
        ent = result.rows[result.suggestions[0].id]
        assert discover(session, rt.store, ent, limit=5).suggestions
        assert counter.texts == 0

        query = "arbeidstrening for unge som står utenfor arbeidslivet"
        hits = search_text(session, rt.store, ENTREPRENEURS, query, limit=5)
        assert counter.texts == 1
        # reference: dense score of every record by a plain dot product, BM25 of every record
        bm25 = rt.store.lexical(session, ENTREPRENEURS)
        ids = [int(str(i)) for i in bm25.ids]
        vec = rt.store.embedder.inner.embed_queries([query])[0]  # type: ignore[attr-defined]
        index = rt.store.index(ENTREPRENEURS)
        dense = np.array([float(index.vector(i) @ vec) for i in ids])  # type: ignore[operator]
        lexical = bm25.scores(query)
        fused = fuse(dense, lexical, lexical_confidence(bm25, query, lexical))
        expected = [(ids[j], float(fused[j])) for j in top_k(fused, 5)]
    assert [i for i, _ in hits] == [i for i, _ in expected]
    assert np.allclose([s for _, s in hits], [s for _, s in expected], atol=1e-5)


def test_explanations_quote_each_side_and_never_count_a_name(tmp_path: Path) -> None:
    """Read either way (a need's suggestions, an entrepreneur's "Behov for deg"), "the need
    says" quotes the need and "the offer says" the offer; the entrepreneur's name is neither
    a quoted sentence nor a shared word."""
    from service.search import challenge_text, entrepreneur_text
    from tests.conftest import demo_runtime

    rt = demo_runtime(Settings(home=tmp_path))
    analyzer = rt.store.analyzer
    checked = 0
    with session_scope(rt.engine) as session:
        entrepreneurs = list(session.exec(select(Entrepreneur)))
        for ent in entrepreneurs:
            for s in discover(session, rt.store, ent, limit=5, threshold=False).suggestions:
                need = session.get(Challenge, s.id)
                quoted = s.explanation["sentences"]
                assert quoted["need"] in challenge_text(need), (ent.name, quoted)
                assert quoted["offer"] in ent.description, (ent.name, quoted)
                said = {w.split(" / ")[0] for w in s.explanation["key_phrases"]}
                assert not said & {w for _, w in analyzer.terms(ent.name)}, (ent.name, said)
                checked += 1
        for ch in session.exec(select(Challenge).where(Challenge.status == "open")):
            for s in suggest(session, rt.store, ch, limit=5, threshold=False).suggestions:
                ent = session.get(Entrepreneur, s.id)
                quoted = s.explanation["sentences"]
                assert quoted["need"] in challenge_text(ch)
                assert quoted["offer"] in entrepreneur_text(ent)
                assert quoted["offer"].rstrip(".") != ent.name.rstrip(".")
                own = {w for _, w in analyzer.terms(ent.name)}
                for phrase in s.explanation["key_phrases"]:
                    need_word, _, offer_word = phrase.partition(" / ")
                    assert (offer_word or need_word) not in own, (ent.name, phrase)
                    assert need_word.lower() in challenge_text(ch).lower()
                    assert (offer_word or need_word).lower() in ent.description.lower(), phrase
                checked += 1
    assert checked > 100
