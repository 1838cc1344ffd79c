"""Index sync and matching against both database backends."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from models.db import session_scope
from models.importing import import_rows, read_rows
from models.tables import Challenge, EmbeddingCache, Entrepreneur
from service.config import Settings
from service.matching import (
    CHALLENGES,
    ENTREPRENEURS,
    discover,
    find_challenge,
    suggest,
    sync_engine,
)
from service.runtime import open_runtime
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
        assert discover(session, rt.store, ent, limit=20).suggestions == []  # none good enough
    with session_scope(rt.engine) as session:
        assert all(r.ok for r in rt.store.verify(session))
    rt.engine.dispose()
