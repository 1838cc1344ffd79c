"""Opening a Brobygger home: settings -> database (migrated) + index store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import select

from models.db import create_db_engine, session_scope, upgrade
from models.importing import import_rows, read_rows
from models.tables import Challenge, Entrepreneur
from service.config import Settings, get_settings
from service.matching import IndexStore


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    store: IndexStore


def open_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    """Connect to the database of ``settings`` (applying migrations) and open its index store."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    store = IndexStore(
        settings.index_dir, settings.embedder, search_threads=settings.search_threads
    )
    return Runtime(settings=settings, engine=engine, store=store)


DEMO_KINDS = ("contacts", "entrepreneurs", "challenges")


def seed_demo(rt: Runtime) -> dict[str, int]:
    """Load the demo data (data/demo) in one transaction; returns rows per kind. The index is
    not touched: the caller syncs it (with or without progress output)."""
    counts = {}
    with session_scope(rt.engine) as session:
        for kind in DEMO_KINDS:
            result = import_rows(session, kind, read_rows(rt.settings.data_dir / "demo" /
                                                          f"{kind}.json"))
            counts[kind] = len(result.created) + len(result.updated)
    return counts


def is_empty(rt: Runtime) -> bool:
    with session_scope(rt.engine) as session:
        return (
            session.exec(select(Entrepreneur.id).limit(1)).first() is None
            and session.exec(select(Challenge.id).limit(1)).first() is None
        )
