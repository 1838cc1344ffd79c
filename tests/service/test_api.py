"""The read-only API on the demo data, through HTTP (FastAPI's TestClient)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.db import session_scope
from models.importing import import_rows
from models.vocabulary import THEMES
from service.app import create_app
from service.config import Settings
from service.matching import sync_engine
from service.runtime import open_runtime
from service.security import create_user, issue_token
from tests.conftest import demo_runtime


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("api-home")
    rt = demo_runtime(Settings(home=home))
    with session_scope(rt.engine) as session:
        token = issue_token(session, create_user(session, email="r@test.no", role="reviewer"))
    with TestClient(create_app(rt), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c
    rt.engine.dispose()


def _challenge_id(client: TestClient, external_id: str) -> int:
    items = client.get("/api/v1/challenges", params={"limit": 100}).json()["items"]
    return next(i["id"] for i in items if i["external_id"] == external_id)


def test_health_and_docs(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.json() == {"status": "ok", "worker": os.getpid()}
    assert health.headers["server-timing"].startswith("app;dur=")
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/challenges/{challenge_id}/suggestions" in paths


def test_challenges_are_paginated_and_filtered(client: TestClient) -> None:
    page = client.get("/api/v1/challenges", params={"limit": 5, "offset": 5}).json()
    assert page["total"] >= 25 and len(page["items"]) == 5 and page["offset"] == 5
    eldre = client.get("/api/v1/challenges", params={"theme": "eldre", "limit": 100}).json()
    assert eldre["items"] and all("eldre" in c["themes"] for c in eldre["items"])
    asker = client.get("/api/v1/challenges", params={"organisation": "Asker kommune"}).json()
    assert {c["organisation"] for c in asker["items"]} == {"Asker kommune"}
    bad = client.get("/api/v1/challenges", params={"theme": "gamle"})
    assert bad.status_code == 422
    assert bad.json()["detail"] == [
        {"felt": "query.theme", "feil": "ukjent tema «gamle»; gyldige: " + ", ".join(THEMES)}]


def test_suggestions_are_ranked_and_explained(client: TestClient) -> None:
    cid = _challenge_id(client, "ch-grorud-arbeidstrening")
    body = client.get(f"/api/v1/challenges/{cid}/suggestions", params={"limit": 5}).json()
    assert body["challenge"]["id"] == cid and 1 <= len(body["suggestions"]) <= 5
    assert body["ranker_version"] == "standard-v2" and body["message"] is None
    first = body["suggestions"][0]
    assert first["entrepreneur"]["name"] == "Jobbverkstedet Grorud AS"
    assert first["rank"] == 1 and "Arbeidsinkludering" in first["explanation"]["themes"]
    assert first["explanation"]["area"].startswith("Arbeider i")
    assert first["explanation"]["sentences"]["need"] and first["explanation"]["key_phrases"]
    parts = first["explanation"]["parts"]
    assert first["score"] == pytest.approx(sum(parts.values()), abs=1e-3)
    assert client.get("/api/v1/challenges/99999/suggestions").status_code == 404


def test_entrepreneurs_and_discovery_show_named_contacts(client: TestClient) -> None:
    ents = client.get("/api/v1/entrepreneurs", params={"area": "Steinkjer"}).json()["items"]
    assert ents and all("Steinkjer" in e["service_areas"] for e in ents)
    eid = next(e["id"] for e in ents if e["external_id"] == "se-minnekafe")
    assert "contact_id" not in client.get(f"/api/v1/entrepreneurs/{eid}").json()
    assert "contact" not in client.get(f"/api/v1/entrepreneurs/{eid}",
                                       headers={"Authorization": ""}).json()
    found = client.get(f"/api/v1/entrepreneurs/{eid}/challenges").json()
    top = found["challenges"][0]
    assert top["challenge"]["external_id"] == "ch-steinkjer-demens"
    assert top["organisation"] == "Steinkjer kommune"
    assert top["contacts"][0]["name"] == "Ola Berg"
    assert client.get("/api/v1/entrepreneurs/999999").status_code == 404
    zero = client.get("/api/v1/entrepreneurs/0")  # outside the documented range of ids
    assert zero.status_code == 422
    assert zero.json()["detail"] == [{"felt": "path.entrepreneur_id", "feil": "må være minst 1"}]


def test_suggestion_requests_do_not_embed(client: TestClient, monkeypatch) -> None:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    emb = rt.store.embedder

    def boom(*args, **kwargs):
        raise AssertionError("a suggestion request must not embed")

    monkeypatch.setattr(emb, "embed_queries", boom)
    monkeypatch.setattr(emb, "embed_passages", boom)
    cid = _challenge_id(client, "ch-steinkjer-demens")
    assert client.get(f"/api/v1/challenges/{cid}/suggestions").status_code == 200


def test_index_written_by_another_process_is_picked_up(client: TestClient) -> None:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    other = open_runtime(Settings(home=rt.settings.home))
    with session_scope(other.engine) as session:
        import_rows(session, "entrepreneurs", [{
            "id": "se-ny", "name": "Demensvenner Steinkjer SA", "org_nr": "974760673",
            "description": "Møteplass og aktiviteter for personer med demens og pårørende i "
                           "Steinkjer, med musikk og turer.",
            "themes": ["eldre", "helse-og-rus"], "service_areas": ["Steinkjer"],
            "language": "nb"}])
    sync_engine(other.engine, other.store)
    cid = _challenge_id(client, "ch-steinkjer-demens")
    body = client.get(f"/api/v1/challenges/{cid}/suggestions").json()
    assert "se-ny" in [s["entrepreneur"]["external_id"] for s in body["suggestions"][:3]]
    stats = client.get("/api/v1/stats").json()
    assert stats["index"]["entrepreneurs"]["count"] == stats["entrepreneurs"]
    other.engine.dispose()


def test_served_by_uvicorn_over_a_real_socket(tmp_path: Path) -> None:
    """`brobygger serve` on an empty home initialises itself and answers over HTTP."""
    import socket
    import subprocess
    import urllib.request

    from tests.conftest import BROBYGGER, cli_env, wait_for

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(BROBYGGER), "serve", "--port", str(port)], env=cli_env(tmp_path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        def up() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        assert wait_for(up, timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/challenges") as r:
            assert b'"total":0' in r.read()
        assert (tmp_path / "brobygger.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
