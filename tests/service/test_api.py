"""The API on the demo data, through HTTP (FastAPI's TestClient): reading, and the writes
whose answer must be the row saved, a 409 for a name or id taken, never a 500."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import select

from models.db import session_scope
from models.importing import import_rows
from models.tables import Challenge, Contact, Organisation
from models.vocabulary import THEMES
from service.app import create_app
from service.config import Settings
from service.runtime import open_runtime
from service.search import sync_engine
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
        {"felt": "query.theme", "feil": "ukjent tema «gamle»; gyldige: " + ", ".join(THEMES)}
    ]


def test_suggestions_are_ranked_and_explained(client: TestClient) -> None:
    cid = _challenge_id(client, "ch-grorud-arbeidstrening")
    body = client.get(f"/api/v1/challenges/{cid}/suggestions", params={"limit": 5}).json()
    assert body["challenge"]["id"] == cid and 1 <= len(body["suggestions"]) <= 5
    assert body["ranker_version"] == "standard-v3" and body["message"] is None
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
    assert (
        "contact"
        not in client.get(f"/api/v1/entrepreneurs/{eid}", headers={"Authorization": ""}).json()
    )
    found = client.get(f"/api/v1/entrepreneurs/{eid}/challenges").json()
    top = found["challenges"][0]
    assert top["challenge"]["external_id"] == "ch-steinkjer-demens"
    assert top["organisation"] == "Steinkjer kommune"
    assert top["contacts"][0]["name"] == "Ola Berg"
    assert client.get("/api/v1/entrepreneurs/999999").status_code == 404
    zero = client.get("/api/v1/entrepreneurs/0")  # outside the documented range of ids
    assert zero.status_code == 422
    assert zero.json()["detail"] == [{"felt": "path.entrepreneur_id", "feil": "må være minst 1"}]
    for padded in (f"{eid}%09", f"%20{eid}", f"{eid}%0A"):  # not an integer as the schema says
        answer = client.get(f"/api/v1/entrepreneurs/{padded}")
        assert answer.status_code == 422, padded
        assert answer.json()["detail"] == [
            {"felt": "path.entrepreneur_id", "feil": "må være et heltall"}
        ]


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
        import_rows(
            session,
            "entrepreneurs",
            [
                {
                    "id": "se-ny",
                    "name": "Demensvenner Steinkjer SA",
                    "org_nr": "974760673",
                    "description": "Møteplass og aktiviteter for personer med demens og "
                    "pårørende i Steinkjer, med musikk og turer.",
                    "themes": ["eldre", "helse-og-rus"],
                    "service_areas": ["Steinkjer"],
                    "language": "nb",
                }
            ],
        )
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
    proc = subprocess.Popen(
        [str(BROBYGGER), "serve", "--port", str(port)],
        env=cli_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
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


# -- writes: a saved row is known by its id; a taken name or id is 409, never 500 -------------


@pytest.fixture(scope="module")
def admin(client: TestClient) -> TestClient:
    """The same world as ``client``, with an administrator's token."""
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(rt.engine) as session:
        token = issue_token(session, create_user(session, email="a@test.no", role="admin"))
    return TestClient(client.app, headers={"Authorization": f"Bearer {token}"})


def _organisation(admin: TestClient, name: str, **extra: str) -> dict:
    r = admin.post("/api/v1/organisations", json={"name": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _contacts_of(admin: TestClient, name: str) -> list[dict]:
    orgs = admin.get("/api/v1/organisations").json()
    return next(o for o in orgs if o["name"] == name)["contacts"]


NAMES = ["Kari Nordmann\u0085", " Kari Nordmann", "Kari Nordmann\n", "\u2028Kari Nordmann\t"]


@pytest.mark.parametrize("case", range(len(NAMES)), ids=[ascii(n) for n in NAMES])
def test_a_contact_name_with_surrounding_whitespace_is_saved_trimmed(
    admin: TestClient, case: int
) -> None:
    """U+0085 (NEL), U+2028 and other whitespace around a name are trimmed like an import
    row; the answer is the saved row (by its id), not a search for the name that was sent."""
    name = NAMES[case]
    org = _organisation(admin, f"Kontaktetaten {case}")
    r = admin.post(
        "/api/v1/contacts", json={"organisation": org["name"], "name": name, "fields": ["eldre"]}
    )
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved["name"] == "Kari Nordmann" and saved["organisation"] == org["name"]
    assert [c["name"] for c in _contacts_of(admin, org["name"])] == ["Kari Nordmann"]
    r = admin.put(
        f"/api/v1/contacts/{saved['id']}",
        json={"organisation": org["name"], "name": name, "role": "Rådgiver"},
    )
    assert r.status_code == 200 and r.json()["id"] == saved["id"]
    assert r.json()["role"] == "Rådgiver"


def test_saving_a_contact_changes_that_contact_and_no_namesake(admin: TestClient) -> None:
    """Two organisations each have a «Per Navnesen»; saving the older one again (an upsert by
    name within its organisation) marks that one away, not the newest person of that name."""
    one, two = _organisation(admin, "Navneetaten én"), _organisation(admin, "Navneetaten to")
    first = admin.post(
        "/api/v1/contacts",
        json={"organisation": one["name"], "name": "Per Navnesen", "email": "per.en@example.no"},
    ).json()
    admin.post("/api/v1/contacts", json={"organisation": two["name"], "name": "Per Navnesen"})
    r = admin.post(
        "/api/v1/contacts",
        json={
            "organisation": one["name"],
            "name": "Per Navnesen",
            "email": "per.en@example.no",
            "away": True,
        },
    )
    assert r.status_code == 201 and r.json()["id"] == first["id"]
    assert r.json()["organisation"] == one["name"] and r.json()["away"] is True
    rt = admin.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(rt.engine) as session:
        away = {
            c.organisation_id: c.away
            for c in session.exec(select(Contact).where(Contact.name == "Per Navnesen"))
        }
    assert away == {one["id"]: True, two["id"]: False}


def test_an_organisation_name_that_is_taken_is_409(admin: TestClient) -> None:
    a, b = _organisation(admin, "Konfliktetaten A"), _organisation(admin, "Konfliktetaten B")
    taken = "Det finnes allerede en organisasjon som heter «Konfliktetaten A»."
    for name in ("Konfliktetaten A", " Konfliktetaten A", "Konfliktetaten A\u0085"):
        r = admin.put(f"/api/v1/organisations/{b['id']}", json={"name": name})
        assert (r.status_code, r.json()) == (409, {"detail": taken}), name
        r = admin.post("/api/v1/organisations", json={"name": name})
        assert (r.status_code, r.json()) == (409, {"detail": taken}), name
    names = [o["name"] for o in admin.get("/api/v1/organisations").json()]
    assert names.count("Konfliktetaten A") == 1 and "Konfliktetaten B" in names
    # renaming to its own name, or to a free one, is fine
    assert (
        admin.put(f"/api/v1/organisations/{a['id']}", json={"name": "Konfliktetaten A"}).status_code
        == 200
    )
    r = admin.put(f"/api/v1/organisations/{b['id']}", json={"name": " Konfliktetaten C "})
    assert r.status_code == 200 and r.json()["name"] == "Konfliktetaten C"
    r = admin.put(f"/api/v1/organisations/{b['id']}", json={"name": " "})
    assert r.status_code == 422
    assert r.json()["detail"] == [{"felt": "name", "feil": "skriv navnet på organisasjonen"}]


def test_an_organisation_cannot_lie_below_itself(admin: TestClient) -> None:
    top = _organisation(admin, "Toppenheten")
    below = _organisation(admin, "Underenheten", parent="Toppenheten")
    assert below["parent"] == "Toppenheten"
    r = admin.put(
        f"/api/v1/organisations/{top['id']}", json={"name": "Toppenheten", "parent": "Underenheten"}
    )
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"felt": "parent", "feil": "«Underenheten» hører selv til denne organisasjonen"}
    ]
    r = admin.put(
        f"/api/v1/organisations/{top['id']}", json={"name": "Toppenheten", "parent": "Toppenheten"}
    )
    assert r.status_code == 422
    orgs = {o["name"]: o for o in admin.get("/api/v1/organisations").json()}
    assert orgs["Toppenheten"]["parent"] is None and orgs["Underenheten"]["parent"] == "Toppenheten"


def test_a_new_need_or_profile_never_overwrites_one_with_the_same_cleaned_id(
    admin: TestClient,
) -> None:
    """The id is trimmed like an import row: «ch-x\\u0085» is «ch-x». Creating with the id of
    an existing record is 409 (before, it overwrote that record, or answered 500)."""
    before = admin.get("/api/v1/challenges", params={"limit": 100}).json()["items"]
    grorud = next(c for c in before if c["external_id"] == "ch-grorud-arbeidstrening")
    body = {
        "organisation": "Bydel Grorud",
        "title": "Kapret",
        "description": "Overskrevet.",
        "themes": ["eldre"],
        "propose": False,
    }
    for ext in (
        "ch-grorud-arbeidstrening",
        "ch-grorud-arbeidstrening\u0085",
        " ch-grorud-arbeidstrening",
    ):
        r = admin.post("/api/v1/challenges", json={**body, "id": ext})
        assert r.status_code == 409, (ext, r.text)
        assert r.json() == {"detail": "Et behov med id «ch-grorud-arbeidstrening» finnes allerede."}
    assert admin.get(f"/api/v1/challenges/{grorud['id']}").json()["title"] == grorud["title"]
    r = admin.post("/api/v1/challenges", json={**body, "id": "ch-nytt-behov\u0085"})
    assert r.status_code == 201, r.text
    assert r.json()["challenge"]["external_id"] == "ch-nytt-behov"
    profile = {
        "name": "Kopi AS",
        "org_nr": "974760673",
        "description": "Kopi.",
        "themes": ["eldre"],
        "service_areas": ["Oslo"],
    }
    r = admin.post(
        "/api/v1/entrepreneurs", params={"external_id": "se-jobbverkstedet\u0085"}, json=profile
    )
    assert r.status_code == 409, r.text
    assert "se-jobbverkstedet" in r.json()["detail"]
    names = {
        e["external_id"]: e["name"]
        for e in admin.get("/api/v1/entrepreneurs", params={"limit": 100}).json()["items"]
    }
    assert names["se-jobbverkstedet"] == "Jobbverkstedet Grorud AS"


# -- two writes at the same moment: the database's unique rule is the last word, as a 409 -----


@contextmanager
def written_at_the_same_moment(engine, make_row, match):
    """While active: just before a session flushes a new row for which ``match(row)`` holds,
    another connection commits ``make_row()`` — the other of two requests that passed the
    same checks at the same moment. Yields a list that holds True once that happened."""
    happened: list[bool] = []

    def before_flush(session, _context, _instances) -> None:
        if not happened and any(match(row) for row in session.new):
            happened.append(True)
            with OrmSession(engine) as other:
                other.add(make_row())
                other.commit()

    event.listen(OrmSession, "before_flush", before_flush)
    try:
        yield happened
    finally:
        event.remove(OrmSession, "before_flush", before_flush)


@pytest.fixture
def empty_api(db_url: str, tmp_path: Path):
    """An empty home on SQLite or PostgreSQL with an administrator (no demo data, nothing
    embedded: the writes below never reach the index)."""
    rt = open_runtime(Settings(home=tmp_path / "home", database_url=db_url))
    with session_scope(rt.engine) as session:
        session.add(Organisation(name="Bydel Grorud", kind="bydel"))
        token = issue_token(session, create_user(session, email="a@test.no", role="admin"))
    client = TestClient(create_app(rt), headers={"Authorization": f"Bearer {token}"})
    yield client, rt
    rt.engine.dispose()


def test_an_organisation_name_taken_at_the_same_moment_is_409(empty_api) -> None:
    client, rt = empty_api
    name = "Samarbeidsrådet"
    with written_at_the_same_moment(
        rt.engine,
        lambda: Organisation(name=name, kind="annet"),
        lambda row: isinstance(row, Organisation) and row.name == name,
    ) as happened:
        r = client.post("/api/v1/organisations", json={"name": name, "kommunenummer": "0301"})
    assert happened and r.status_code == 409
    assert r.json() == {"detail": f"Det finnes allerede en organisasjon som heter «{name}»."}
    with session_scope(rt.engine) as session:  # the other request's row, untouched
        [org] = session.exec(select(Organisation).where(Organisation.name == name)).all()
        assert org.kommunenummer is None


def test_a_unique_rule_broken_past_the_checks_is_409_and_rolled_back(empty_api) -> None:
    """The app-level backstop: a need saved with an id another request took at the same
    moment. The database refuses it; the answer is a Norwegian 409 in the documented shape,
    and nothing of the refused request is kept (its new contact person neither)."""
    client, rt = empty_api
    ext = "ch-samtidig"

    def other() -> Challenge:
        with OrmSession(rt.engine) as s:
            org_id = s.scalars(select(Organisation.id)).one()
        return Challenge(external_id=ext, organisation_id=org_id, title="Først", description="x")

    with written_at_the_same_moment(
        rt.engine, other, lambda row: isinstance(row, Challenge) and row.external_id == ext
    ) as happened:
        r = client.post(
            "/api/v1/challenges",
            json={
                "id": ext,
                "organisation": "Bydel Grorud",
                "title": "Samtidig",
                "description": "To forespørsler samtidig.",
                "themes": ["eldre"],
                "contact_name": "Nina Ny",
                "propose": False,
            },
        )
    assert happened and r.status_code == 409, r.text
    assert r.json() == {
        "detail": "Det finnes allerede et behov med denne id-en. Ingenting ble "
        "lagret; last inn på nytt og prøv igjen."
    }
    with session_scope(rt.engine) as session:
        assert [c.title for c in session.exec(select(Challenge))] == ["Først"]
        assert session.exec(select(Contact)).all() == []


def test_openapi_links_point_at_operations_inputs_and_fields_that_exist(client) -> None:
    """Every link in the schema names an operation that exists, parameters it has, body
    fields it takes, and a field of the answer it starts from (schemathesis follows them)."""
    from urllib.parse import unquote

    schema = client.get("/openapi.json").json()

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        return node

    def field_of(node: dict, pointer: str) -> bool:
        for part in [p for p in pointer.split("/") if p]:
            node = resolve(node)
            if node.get("type") == "array" and part.isdigit():
                node = node["items"]
            elif "anyOf" in node:
                return True
            else:
                if part not in node.get("properties", {}):
                    return False
                node = node["properties"][part]
        return True

    found = 0
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            for status, answer in op["responses"].items():
                body = answer.get("content", {}).get("application/json", {}).get("schema", {})
                for name, link in answer.get("links", {}).items():
                    found += 1
                    ref = unquote(link["operationRef"]).removeprefix("#/paths/")
                    target_path, target_method = ref.rsplit("/", 1)
                    target_path = target_path.replace("~1", "/").replace("~0", "~")
                    target = schema["paths"][target_path][target_method]
                    params = {p["name"] for p in target.get("parameters", [])}
                    assert set(link.get("parameters", {})) <= params, (path, name)
                    fields = resolve(
                        target.get("requestBody", {})
                        .get("content", {})
                        .get("application/json", {})
                        .get("schema", {})
                    ).get("properties", {})
                    assert set(link.get("requestBody", {})) <= set(fields), (path, name)
                    for expression in [
                        *link.get("parameters", {}).values(),
                        *link.get("requestBody", {}).values(),
                    ]:
                        pointer = expression.removeprefix("$response.body#")
                        assert field_of(body, pointer), (method, path, status, name, expression)
    assert found >= 25
