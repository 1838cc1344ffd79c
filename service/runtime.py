"""Opening a Brobygger home: settings -> database (migrated) + index store."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import select

from models.db import create_db_engine, session_scope, upgrade
from models.importing import import_rows, read_rows
from models.tables import Challenge, Entrepreneur
from service.config import Settings, get_settings
from service.indexer import Indexer
from service.search import IndexStore


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    store: IndexStore
    indexer: Indexer = field(init=False)

    def __post_init__(self) -> None:
        self.indexer = Indexer(self.engine, self.store)


def open_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    """Connect to the database of ``settings`` (applying migrations) and open its index store."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    store = IndexStore(
        settings.index_dir,
        settings.embedder,
        search_threads=settings.search_threads,
        approximate_from=settings.approximate_from,
    )
    return Runtime(settings=settings, engine=engine, store=store)


DEMO_KINDS = ("contacts", "entrepreneurs", "challenges")


def seed_demo(rt: Runtime) -> dict[str, int]:
    """Load the demo data (data/demo) in one transaction; returns rows per kind. The index is
    not touched: the caller syncs it (with or without progress output)."""
    counts = {}
    with session_scope(rt.engine) as session:
        for kind in DEMO_KINDS:
            result = import_rows(
                session, kind, read_rows(rt.settings.data_dir / "demo" / f"{kind}.json")
            )
            counts[kind] = len(result.created) + len(result.updated)
    return counts


DEMO_USERS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("admin", "admin@brobygger.example.no", "Ada Drift", {}),
    ("reviewer", "innovasjon@oslo.example.no", "Ingrid Innovasjon", {}),
    (
        "municipal",
        "kari.nordby@bgr.oslo.kommune.no",
        "Kari Nordby",
        {"organisation": "Bydel Grorud"},
    ),
    (
        "entrepreneur",
        "post@jobbverkstedet.example.no",
        "Jonas Verksted",
        {"entrepreneur": "se-jobbverkstedet"},
    ),
    ("organiser", "sosent@example.no", "Siri Konferanse", {}),
)
DEMO_PASSWORD = "brobygger-demo"


def seed_demo_users(rt: Runtime) -> None:
    """One demo user per role (password ``DEMO_PASSWORD``) and an API token each, written to
    ``demo-innlogging.txt`` in the home folder (readable by its owner only)."""
    from service.security import create_user, issue_token

    lines = []
    with session_scope(rt.engine) as session:
        for role, email, name, extra in DEMO_USERS:
            user = create_user(
                session, email=email, role=role, name=name, password=DEMO_PASSWORD, **extra
            )
            lines.append(f"{role:<12} {email:<36} token: {issue_token(session, user, 'demo')}")
    path = rt.settings.home / "demo-innlogging.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


def seed_demo_proposals(rt: Runtime) -> int:
    """System proposals for every open demo need (as ``suggest --all --save`` makes them),
    so the review queue has something in it on a first ``make run``."""
    from service.matching import open_challenges, suggest_all
    from service.proposals import save_proposals

    created = 0
    with session_scope(rt.engine) as session:
        for ch, result in suggest_all(session, rt.store, open_challenges(session)):
            created += len(save_proposals(session, ch, result))
    return created


def is_empty(rt: Runtime) -> bool:
    with session_scope(rt.engine) as session:
        return (
            session.exec(select(Entrepreneur.id).limit(1)).first() is None
            and session.exec(select(Challenge.id).limit(1)).first() is None
        )
