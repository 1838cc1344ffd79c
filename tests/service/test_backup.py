"""``brobygger backup`` / ``restore``: a round trip loses nothing, also from SQLite into
PostgreSQL, and a restore never writes into a database that has data or from a bad file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from models.db import session_scope
from service.backup import BackupError, _encode, _tables, backup, restore
from service.config import Settings
from service.matching import find_challenge, suggest
from service.runtime import open_runtime, seed_demo_proposals, seed_demo_users
from service.security import user_for_token
from tests.conftest import demo_runtime, run_cli


def _dump(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of every table, in a form that compares across engines."""
    out = {}
    with engine.connect() as conn:
        for table in _tables():
            rows = conn.execute(sa.select(table)).mappings()
            out[table.name] = sorted(
                tuple(sorted((k, repr(_encode(v))) for k, v in row.items())) for row in rows
            )
    return out


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("kilde")
    rt = demo_runtime(Settings(home=home))
    seed_demo_users(rt)
    assert seed_demo_proposals(rt) > 0
    return rt


def test_round_trip_loses_nothing(source, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "kopi.zip"
    counts = backup(source, path)
    assert counts["proposal"] > 0 and counts["embeddingcache"] > 0 and counts["user"] == 5

    target = open_runtime(Settings(home=tmp_path / "mål", database_url=db_url))
    assert restore(target, path) == counts
    assert _dump(target.engine) == _dump(source.engine)
    # the indexes were rebuilt from the restored database, without embedding anything
    with session_scope(target.engine) as session:
        assert all(r.ok for r in target.store.verify(session))
        a = find_challenge(session, "ch-grorud-arbeidstrening")
        b_ids = [s.id for s in suggest(session, target.store, a, limit=5).suggestions]
    with session_scope(source.engine) as session:
        a = find_challenge(session, "ch-grorud-arbeidstrening")
        assert b_ids == [s.id for s in suggest(session, source.store, a, limit=5).suggestions]
    # the demo users' API tokens still work (stored hashed, restored as they were)
    logins = (source.settings.home / "demo-innlogging.txt").read_text()
    token = logins.split("token: ")[1].split()[0]
    with session_scope(target.engine) as session:
        assert user_for_token(session, token) is not None
        if db_url.startswith("postgresql"):  # new rows get fresh ids after the restored ones
            from models.tables import Organisation

            org = Organisation(name="Ny etter gjenoppretting", kind="kommune")
            session.add(org)
            session.flush()
            assert org.id is not None and org.id > counts["organisation"]


def test_restore_refuses_a_database_with_data_and_a_bad_file(source, tmp_path: Path) -> None:
    path = tmp_path / "kopi.zip"
    backup(source, path)
    with pytest.raises(BackupError, match="ikke tom"):
        restore(source, path)

    broken = tmp_path / "skadet.zip"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(broken, "w") as out:
        for item in z.namelist():
            data = z.read(item)
            if item == "tables/proposal.jsonl":
                data = data[: len(data) // 2].rsplit(b"\n", 1)[0] + b"\n"  # rows lost
            out.writestr(item, data)
    empty = open_runtime(Settings(home=tmp_path / "tom"))
    with pytest.raises(BackupError, match="skadet"):
        restore(empty, broken)
    assert all(not n for n in _dump(empty.engine).values())  # all or nothing

    not_zip = tmp_path / "ikke.zip"
    not_zip.write_text("hei")
    with pytest.raises(BackupError, match="ikke en sikkerhetskopi"):
        restore(empty, not_zip)


def test_cli_backup_and_restore(source, tmp_path: Path) -> None:
    path = tmp_path / "cli.zip"
    out = run_cli(source.settings.home, "backup", str(path))
    assert "Sikkerhetskopi skrevet" in out.stdout and path.exists()
    target = tmp_path / "ny"
    target.mkdir()
    assert "Gjenopprettet" in run_cli(target, "restore", str(path)).stdout
    again = run_cli(target, "restore", str(path), check=False)
    assert again.returncode != 0 and "ikke tom" in again.stderr
    bad = run_cli(target, "backup", str(tmp_path / "kopi.tar"), check=False)
    assert bad.returncode != 0 and ".zip" in bad.stderr
