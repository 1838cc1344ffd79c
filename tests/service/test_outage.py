"""The database going away (a PostgreSQL restart) gives 503s in Norwegian, not crashes, and
the service recovers by itself when it is back."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.db import session_scope
from service.app import DATABASE_DOWN, create_app
from service.config import Settings
from service.runtime import open_runtime
from service.security import create_user, issue_token
from tests.conftest import IN_CI, PostgresServer


@pytest.fixture
def own_postgres():
    """A server of its own: this test stops it, which must not disturb the others."""
    try:
        server = PostgresServer()
    except Exception as exc:  # noqa: BLE001 - same policy as the shared fixture
        if IN_CI:
            pytest.fail(f"PostgreSQL could not be started: {exc}")
        pytest.skip(f"PostgreSQL could not be started: {exc}")
    yield server
    server.stop()


def test_database_restart_gives_503_then_recovers(own_postgres, tmp_path: Path) -> None:
    rt = open_runtime(Settings(home=tmp_path, database_url=own_postgres.new_database()))
    with session_scope(rt.engine) as session:
        user = create_user(session, email="drift@test.no", role="admin")
        headers = {"Authorization": f"Bearer {issue_token(session, user)}"}
    with TestClient(create_app(rt), raise_server_exceptions=False) as client:
        assert client.get("/api/v1/challenges", headers=headers).status_code == 200

        own_postgres.pause()
        for path in ("/api/v1/challenges", "/healthz"):
            r = client.get(path, headers=headers)
            assert r.status_code == 503, (path, r.text)
            assert r.json()["detail"] == DATABASE_DOWN and r.headers["retry-after"] == "5"
        page = client.get("/", headers=headers)
        assert page.status_code == 503 and DATABASE_DOWN in page.text

        own_postgres.resume()
        r = client.get("/api/v1/challenges", headers=headers)
        assert r.status_code == 200, r.text
        assert client.get("/healthz").json()["status"] == "ok"
