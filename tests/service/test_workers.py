"""``brobygger serve --workers 2``: two processes share one database and one on-disk index,
and a profile written through one of them is found by both."""

from __future__ import annotations

import http.client
import json
import subprocess
from pathlib import Path
from urllib.parse import quote

from models.db import session_scope
from models.importing import import_rows, read_rows
from service.config import Settings
from service.runtime import open_runtime
from service.search import ENTREPRENEURS, sync_engine
from service.security import create_user, issue_token
from tests.conftest import BROBYGGER, REPO, cli_env, free_port, wait_for

GOLD = REPO / "data" / "gold"
NEW_PROFILE = {
    "name": "Fjellgeitene Klatreverksted SA",
    "org_nr": "974760673",
    "description": "Vi lærer ungdom å klatre i fjellvegger og bygger selvtillit gjennom "
    "klatring i små grupper med faste trenere, også for ungdom med angst.",
    "themes": ["barn-og-unge", "kultur-og-fritid"],
    "service_areas": ["Oslo"],
}


def _ask(port: int, token: str, path: str, body: dict | None = None) -> tuple[int, int, object]:
    """(worker pid, status, JSON) for one request on a fresh connection: /healthz first on
    the same keep-alive connection tells which worker answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/healthz")
        worker = json.loads(conn.getresponse().read())["worker"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request("POST" if body else "GET", path, json.dumps(body) if body else None, headers)
        response = conn.getresponse()
        return worker, response.status, json.loads(response.read())
    finally:
        conn.close()


def test_two_workers_share_the_index_and_see_each_others_writes(tmp_path: Path) -> None:
    rt = open_runtime(Settings(home=tmp_path))
    with session_scope(rt.engine) as session:
        import_rows(session, "entrepreneurs", read_rows(GOLD / "entrepreneurs.json"))
        import_rows(session, "challenges", read_rows(GOLD / "challenges.json"))
        admin = create_user(session, email="drift@example.no", role="admin", name="Drift")
        token = issue_token(session, admin, "test")
    sync_engine(rt.engine, rt.store)
    before = len(rt.store.index(ENTREPRENEURS))

    port = free_port()
    proc = subprocess.Popen(
        [str(BROBYGGER), "serve", "--workers", "2", "--port", str(port)],
        env=cli_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        workers: set[int] = set()

        def both_up() -> bool:
            try:
                workers.add(_ask(port, token, "/api/v1/challenges")[0])
            except OSError:
                return False
            return len(workers) == 2

        assert wait_for(both_up, timeout=120), f"workers seen: {workers}"

        writer, status, created = _ask(port, token, "/api/v1/entrepreneurs", NEW_PROFILE)
        assert status == 201, created
        new_id = created["id"]  # type: ignore[index]

        # Every worker finds the new profile (the one that did not write reloads the index
        # from disk when it sees the newer manifest).
        query = quote("klatring i fjellvegger for ungdom med angst")
        found_by: set[int] = set()
        for _ in range(200):
            worker, status, hits = _ask(
                port, token, f"/api/v1/search?kind=entrepreneurs&q={query}&limit=3"
            )
            assert status == 200, hits
            assert hits[0]["id"] == new_id, (worker, hits)  # type: ignore[index]
            found_by.add(worker)
            if found_by == workers:
                break
        assert found_by == workers and writer in workers
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err
    assert len(rt.store.index(ENTREPRENEURS)) == before + 1  # one index on disk, updated once
