"""The operator's forms for organisations and users: a name or address that is taken is a
Norwegian error next to its field (409), also when another request took it at the same
moment; never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from models.db import session_scope
from models.tables import Organisation, User
from service.app import create_app
from service.config import Settings
from service.runtime import open_runtime
from service.security import create_user
from tests.service.test_api import written_at_the_same_moment

PASSWORD = "et-langt-passord"


@pytest.fixture
def admin(tmp_path: Path):
    rt = open_runtime(Settings(home=tmp_path / "home"))
    with session_scope(rt.engine) as session:
        session.add(Organisation(name="Bydel Grorud", kind="bydel"))
        create_user(session, email="drift@test.no", role="admin", password=PASSWORD)
    client = TestClient(create_app(rt), follow_redirects=False)
    client.get("/logg-inn")
    r = client.post(
        "/logg-inn",
        data={
            "email": "drift@test.no",
            "password": PASSWORD,
            "csrf": client.cookies["brobygger_csrf"],
        },
    )
    assert r.status_code == 303, r.text
    yield client, rt
    rt.engine.dispose()


def _post(client: TestClient, path: str, **data: str):
    return client.post(path, data={**data, "csrf": client.cookies["brobygger_csrf"]})


def _field_error(html: str, field: str) -> str:
    opening = f'<p id="{field}-feil" class="error">'
    start = html.index(opening) + len(opening)
    return html[start : html.index("</p>", start)]


def test_an_organisation_name_that_is_taken_is_shown_next_to_the_field(admin) -> None:
    client, _rt = admin
    for name in ("Bydel Grorud", " Bydel Grorud ", "Bydel Grorud\u0085"):
        r = _post(client, "/admin/organisasjoner", name=name, kind="bydel")
        assert r.status_code == 409, (name, r.status_code)
        assert _field_error(r.text, "name") == (
            "Det finnes allerede en organisasjon som heter «Bydel Grorud»."
        )
        assert 'id="name" name="name"' in r.text and 'aria-describedby="name-feil"' in r.text
    r = _post(
        client,
        "/admin/organisasjoner",
        name="Samarbeidsrådet",
        kind="annet",
        parent="Samarbeidsrådet",
    )
    assert r.status_code == 422
    assert _field_error(r.text, "parent") == "En organisasjon kan ikke høre til seg selv."
    r = _post(client, "/admin/organisasjoner", name=" Samarbeidsrådet ", kind="annet")
    assert r.status_code == 303


def test_an_organisation_saved_by_another_request_at_the_same_moment(admin) -> None:
    client, rt = admin
    name = "Frivillighetsrådet"
    with written_at_the_same_moment(
        rt.engine,
        lambda: Organisation(name=name, kind="annet"),
        lambda row: isinstance(row, Organisation) and row.name == name,
    ) as happened:
        r = _post(client, "/admin/organisasjoner", name=name, kind="annet")
    assert happened and r.status_code == 409
    taken = f"Det finnes allerede en organisasjon som heter «{name}»."
    assert _field_error(r.text, "name") == taken


def test_a_user_saved_by_another_request_at_the_same_moment(admin) -> None:
    client, rt = admin
    email = "ny@test.no"
    with written_at_the_same_moment(
        rt.engine,
        lambda: User(email=email, name="Den andre", role="reviewer"),
        lambda row: isinstance(row, User) and row.email == email,
    ) as happened:
        r = _post(client, "/admin/brukere", email=email, name="Ny", new_role="reviewer")
    assert happened and r.status_code == 409
    assert _field_error(r.text, "email").startswith(
        "Det finnes allerede en bruker med denne e-postadressen."
    )
    with session_scope(rt.engine) as session:
        assert [u.name for u in session.exec(select(User).where(User.email == email))] == [
            "Den andre"
        ]
