"""Opening a Brobygger home: settings -> database (migrated) + index store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import select

from models.db import create_db_engine, session_scope, upgrade
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


def is_empty(rt: Runtime) -> bool:
    with session_scope(rt.engine) as session:
        return (
            session.exec(select(Entrepreneur.id).limit(1)).first() is None
            and session.exec(select(Challenge.id).limit(1)).first() is None
        )
