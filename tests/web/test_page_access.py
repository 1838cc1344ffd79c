"""Who may open which page and send which form (no browser needed): every web page × every
role, CSRF on every form, and records of other organisations out of reach."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from models.db import session_scope
from models.tables import Challenge, Entrepreneur, Proposal, User
from service.app import create_app
from service.config import Settings
from service.privacy import erase_entrepreneur
from service.runtime import DEMO_PASSWORD, DEMO_USERS, seed_demo_proposals, seed_demo_users
from service.search import sync_engine
from tests.conftest import demo_runtime

ROLES = ("public", "admin", "reviewer", "municipal", "entrepreneur", "organiser")
EMAILS = {r: email for r, email, _n, _e in DEMO_USERS}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    home: Path = tmp_path_factory.mktemp("pages")
    rt = demo_runtime(Settings(home=home))
    seed_demo_users(rt)
    seed_demo_proposals(rt)
    with session_scope(rt.engine) as session:
        own = session.exec(
            select(Challenge).where(Challenge.external_id == "ch-grorud-arbeidstrening")
        ).one()
        other = session.exec(
            select(Challenge).where(Challenge.external_id == "ch-asker-praktisk-hjelp")
        ).one()
        proposal = session.exec(select(Proposal).where(Proposal.challenge_id == own.id)).first()
        mine = session.exec(select(User).where(User.role == "entrepreneur")).one().entrepreneur_id
        # an entrepreneur with proposals, erased on request: a tombstone for the audit log
        erased = (
            session.exec(
                select(Proposal).where(
                    Proposal.entrepreneur_id != mine,
                    Proposal.entrepreneur_id != proposal.entrepreneur_id,
                    Proposal.challenge_id != own.id,
                )
            )
            .first()
            .entrepreneur_id
        )
        erase_entrepreneur(session, session.get(Entrepreneur, erased))
        someone = session.exec(
            select(Entrepreneur.id).where(Entrepreneur.id != mine, Entrepreneur.id != erased)
        ).first()
        ids = {
            "own": own.id,
            "other": other.id,
            "proposal": proposal.id,
            "my_profile": mine,
            "a_profile": someone,
            "erased_profile": erased,
        }
    sync_engine(rt.engine, rt.store)
    app = create_app(rt)
    clients = {}
    for role in ROLES:
        client = TestClient(app, follow_redirects=False)
        client.get("/logg-inn")  # the CSRF cookie
        if role != "public":
            r = client.post(
                "/logg-inn",
                data={
                    "email": EMAILS[role],
                    "password": DEMO_PASSWORD,
                    "csrf": client.cookies["brobygger_csrf"],
                },
            )
            assert r.status_code == 303, r.text
        clients[role] = client
    yield clients, ids
    rt.engine.dispose()


ALL = set(ROLES)
STAFF = {"admin", "reviewer", "municipal", "organiser"}
PAGES = [
    ("/", ALL),
    ("/?sok=eldre&organisasjon=Oslo+kommune&tema=eldre", ALL),
    ("/kontakter", ALL),
    ("/kontakter?sok=berit&tema=eldre", ALL),
    ("/om", ALL),
    ("/tilgjengelighet", ALL),
    ("/personvern", ALL),
    ("/entrepreneurer/{a_profile}", STAFF),
    ("/entrepreneurer/{my_profile}", STAFF | {"entrepreneur"}),
    ("/behov/{own}", ALL),
    ("/behov/{own}/forslag-status", {"municipal", "reviewer", "admin"}),
    ("/mine-behov", {"municipal", "admin"}),
    ("/behov/nytt", {"municipal", "admin"}),
    ("/behov/{own}/endre", {"municipal", "admin"}),
    ("/behov/{other}/endre", {"admin"}),
    (
        "/behov/forhandsvisning?tittel=Eldre&beskrivelse=besøksvenn+for+eldre+som+bor+alene",
        {"municipal", "admin"},
    ),
    ("/vurdering", {"reviewer", "admin"}),
    ("/forslag/{proposal}", {"reviewer", "admin"}),
    ("/tavle", {"reviewer", "admin"}),
    ("/for-deg", {"entrepreneur"}),
    ("/profil", {"entrepreneur"}),
    ("/admin", {"admin"}),
    ("/admin/brukere", {"admin"}),
    ("/admin/organisasjoner", {"admin"}),
    ("/admin/indeks/status", {"admin"}),
    ("/konferanser", {"organiser", "admin"}),
    ("/konferanser/ny", {"organiser", "admin"}),
    ("/konferanser/ny/mal.csv", {"organiser", "admin"}),
    ("/konferanser/ny/mal.xlsx", {"organiser", "admin"}),
]


@pytest.mark.parametrize("path,allowed", PAGES, ids=[p for p, _ in PAGES])
def test_page_role_matrix(world, path: str, allowed: set[str]) -> None:
    clients, ids = world
    url = path.format(**ids)
    for role in ROLES:
        r = clients[role].get(url)
        if role in allowed:
            assert r.status_code == 200, (role, url, r.status_code)
        elif role == "public":
            assert r.status_code == 303 and r.headers["location"].startswith("/logg-inn?neste=")
        else:
            assert r.status_code in (403, 404), (role, url, r.status_code)
            assert "Ingen tilgang" in r.text or "Fant ikke" in r.text


def test_an_erased_entrepreneur_has_no_profile_page(world) -> None:
    clients, ids = world
    for role in ROLES:
        r = clients[role].get(f"/entrepreneurer/{ids['erased_profile']}")
        if role == "public":
            assert r.status_code == 303 and r.headers["location"].startswith("/logg-inn?neste=")
        else:
            assert r.status_code == 404 and "Fant ikke entreprenøren" in r.text, role
    assert clients["admin"].get("/entrepreneurer/2147483647").status_code == 404


def test_bad_search_input_is_a_norwegian_message_not_an_error(world) -> None:
    clients, _ = world
    public = clients["public"]
    for path in ("/", "/kontakter"):
        for query, message in (
            ({"sok": "x" * 201}, "Søket er for langt"),
            ({"sok": "a\x00b"}, "tegn som ikke kan søkes etter"),
            ({"sok": "\x1b[31m"}, "tegn som ikke kan søkes etter"),
            ({"organisasjon": "Finnes ikke"}, "Velg en kommune, bydel eller etat"),
            ({"organisasjon": "x" * 5000}, "Velg en kommune, bydel eller etat"),
            ({"tema": "<script>"}, "Velg et tema fra listen"),
        ):
            r = public.get(path, params=query)
            assert r.status_code == 422, (path, query, r.status_code)
            assert message in r.text and 'aria-invalid="true"' in r.text
            assert "\x00" not in r.text and "<script>" not in r.text


FORMS = [
    ("/behov/nytt", {"title": "X", "description": "Y", "themes": "eldre"}, "municipal"),
    ("/behov/{own}/send", {"entrepreneur": "1"}, "municipal"),
    ("/forslag/{proposal}/vurder", {"to_status": "approved"}, "reviewer"),
    ("/behov/{own}/interesse", {}, "entrepreneur"),
    ("/profil", {"name": "X"}, "entrepreneur"),
    ("/admin/indeks", {}, "admin"),
    ("/admin/brukere", {"email": "a@b.no", "new_role": "reviewer"}, "admin"),
    ("/admin/organisasjoner", {"name": "Etat X", "kind": "etat"}, "admin"),
    ("/logg-ut", {}, "reviewer"),
]


@pytest.mark.parametrize("path,data,role", FORMS, ids=[p for p, _, _ in FORMS])
def test_forms_refuse_a_missing_or_wrong_csrf_value(
    world, path: str, data: dict, role: str
) -> None:
    clients, ids = world
    client = clients[role]
    url = path.format(**ids)
    for csrf in (None, "feil-verdi"):
        body = dict(data) if csrf is None else {**data, "csrf": csrf}
        r = client.post(url, data=body)
        if path == "/logg-ut":  # refused silently: the session stays valid
            assert r.status_code == 303
            assert client.get("/vurdering").status_code == 200
        else:
            assert r.status_code == 403, (url, r.status_code)
            assert "Skjemaet var utløpt" in r.text


def test_municipal_cannot_send_or_edit_for_another_organisation(world) -> None:
    clients, ids = world
    client = clients["municipal"]
    csrf = client.cookies["brobygger_csrf"]
    r = client.post(f"/behov/{ids['other']}/send", data={"entrepreneur": "1", "csrf": csrf})
    assert r.status_code == 403
    r = client.post(
        f"/behov/{ids['other']}/endre",
        data={"title": "Kapret", "description": "x", "themes": "eldre", "csrf": csrf},
    )
    assert r.status_code == 403
    # and the page of that need shows no suggestions to this user
    page = client.get(f"/behov/{ids['other']}").text
    assert "Forslag til entreprenører" not in page


def test_only_reviewers_decide(world) -> None:
    clients, ids = world
    client = clients["admin"]
    r = client.post(
        f"/forslag/{ids['proposal']}/vurder",
        data={"to_status": "approved", "csrf": client.cookies["brobygger_csrf"]},
    )
    assert r.status_code == 403 and "saksbehandlere" in r.text


def test_log_in_never_redirects_off_site(world) -> None:
    clients, _ = world
    client = TestClient(clients["public"].app, follow_redirects=False)
    client.get("/logg-inn")
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        r = client.post(
            "/logg-inn",
            data={
                "email": EMAILS["reviewer"],
                "password": DEMO_PASSWORD,
                "neste": target,
                "csrf": client.cookies["brobygger_csrf"],
            },
        )
        assert r.status_code == 303 and r.headers["location"] == "/vurdering", target
