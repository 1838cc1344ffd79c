"""Saving a need from the web form (no browser needed): a form sent twice is one need, the
page answers at once and says the suggestions are being prepared, a long text is never cut,
and a request that cannot get the index in time answers 503 in Norwegian instead of hanging."""

from __future__ import annotations

import re
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models.tables import Challenge
from service.app import create_app
from service.config import Settings
from service.runtime import DEMO_PASSWORD, seed_demo_users
from service.search import store as search_store
from service.search import sync_engine
from tests.conftest import demo_runtime, wait_for

NEED = (
    "Mange eldre i bydelen bor alene og sier de er ensomme. Vi ønsker besøksvenner og "
    "faste møteplasser der eldre kan treffe andre, gjerne med frivillige fra nabolaget."
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    rt = demo_runtime(Settings(home=tmp_path_factory.mktemp("save")))
    seed_demo_users(rt)
    client = TestClient(create_app(rt), follow_redirects=False)
    client.get("/logg-inn")
    answer = client.post(
        "/logg-inn",
        data={
            "email": "kari.nordby@bgr.oslo.kommune.no",
            "password": DEMO_PASSWORD,
            "csrf": client.cookies["brobygger_csrf"],
        },
    )
    assert answer.status_code == 303
    yield rt, client
    rt.engine.dispose()


def _form(client: TestClient, title: str, description: str = NEED) -> dict:
    page = client.get("/behov/nytt")
    key = re.search(r'name="skjema" value="([0-9a-f]{16})"', page.text)
    assert key, "the new-need form carries its key"
    return {
        "csrf": client.cookies["brobygger_csrf"],
        "skjema": key.group(1),
        "title": title,
        "description": description,
        "themes": ["eldre"],
        "status": "open",
        "language": "nb",
    }


def _titled(rt, title: str) -> list[Challenge]:
    with Session(rt.engine) as session:
        return list(session.exec(select(Challenge).where(Challenge.title == title)))


def test_a_form_sent_twice_saves_one_need(world) -> None:
    rt, client = world
    data = _form(client, "Besøksvenner (sendt to ganger)")
    first = client.post("/behov/nytt", data=data)
    again = client.post("/behov/nytt", data=data)  # a double click, or a retry after a timeout
    assert first.status_code == again.status_code == 303
    assert first.headers["location"].split("?")[0] == again.headers["location"].split("?")[0]
    assert again.headers["location"].endswith("melding=lagret-igjen")
    assert len(_titled(rt, data["title"])) == 1
    page = client.get(again.headers["location"])
    assert "ingen kopi er laget" in page.text
    # the back button brings the form back with a new key: the same text is still one need
    back = _form(client, data["title"])
    answer = client.post("/behov/nytt", data=back)
    assert answer.headers["location"] == again.headers["location"]
    assert len(_titled(rt, data["title"])) == 1
    # a new form with other words is a new need: a second need on purpose is still possible
    other = _form(client, data["title"], NEED + " Gjerne også på kveldstid.")
    assert client.post("/behov/nytt", data=other).status_code == 303
    assert len(_titled(rt, data["title"])) == 2


def test_a_title_without_visible_characters_is_no_title(world) -> None:
    rt, client = world
    for invisible in ("\u0092", "\u200b\u200b", "\u00a0"):
        answer = client.post("/behov/nytt", data=_form(client, invisible))
        assert answer.status_code == 422
        assert "Skriv en kort tittel." in answer.text
        assert not _titled(rt, invisible)


def test_a_need_without_a_contact_is_owned_by_the_one_who_posts_it(world) -> None:
    rt, client = world
    data = _form(client, "Besøksvenner (uten kontakt)")
    assert client.post("/behov/nytt", data=data).status_code == 303
    from models.tables import Contact

    (need,) = _titled(rt, data["title"])
    with Session(rt.engine) as session:
        owner = session.get(Contact, need.owner_contact_id)
        assert owner is not None and owner.email == "kari.nordby@bgr.oslo.kommune.no"
        assert owner.name  # the user's name, shown on the need's page


def test_a_form_key_that_names_another_organisations_need_never_touches_it(world) -> None:
    rt, client = world
    from models.db import session_scope

    with session_scope(rt.engine) as session:  # a need of Asker, saved from a form key
        other = session.exec(
            select(Challenge).where(Challenge.external_id == "ch-asker-praktisk-hjelp")
        ).one()
        other.external_id = "behov-00112233aabbccdd"
        before = (other.id, other.title, other.description)
    data = _form(client, "Besøksvenner (lånt nøkkel)")
    data["skjema"] = "00112233aabbccdd"  # crafted: the key of a need Kari may not change
    answer = client.post("/behov/nytt", data=data)
    assert answer.status_code == 303
    with Session(rt.engine) as session:
        untouched = session.get(Challenge, before[0])
        assert (untouched.id, untouched.title, untouched.description) == before
    mine = _titled(rt, data["title"])
    assert len(mine) == 1 and mine[0].id != before[0]


def test_the_page_answers_at_once_and_says_suggestions_are_being_prepared(world) -> None:
    rt, client = world
    data = _form(client, "Besøksvenner (forslag gjøres klare)")
    with rt.store._sync_lock:  # the background sync cannot finish while the test holds it
        saved = client.post("/behov/nytt", data=data)
        assert saved.status_code == 303
        page = client.get(saved.headers["location"])
        assert page.status_code == 200
        assert "Forslagene gjøres klare" in page.text
        assert 'data-url="/behov/' in page.text and "forslag-status" in page.text
        need = int(re.match(r"/behov/(\d+)", saved.headers["location"]).group(1))
        state = client.get(f"/behov/{need}/forslag-status").json()
        assert state["running"] is True and "gjøres klare" in state["text"]
    assert wait_for(
        lambda: not client.get(f"/behov/{need}/forslag-status").json()["running"], timeout=60
    )
    page = client.get(f"/behov/{need}")
    assert "Forslagene gjøres klare" not in page.text
    assert 'class="cards suggestions"' in page.text


def test_a_long_text_is_refused_with_its_length_never_cut(world) -> None:
    rt, client = world
    long = (NEED + " ") * 37  # about 6,000 characters
    answer = client.post("/behov/nytt", data=_form(client, "For lang tekst", long.strip()))
    assert answer.status_code == 422
    assert "høyst 5\u00a0000 får plass" in answer.text
    assert f"Beskrivelsen er {len(long.strip()):,} tegn".replace(",", "\u00a0") in answer.text
    assert long.strip()[-200:] in answer.text  # the whole text is still in the box
    assert 'maxlength="5000"' not in answer.text  # the browser no longer cuts a paste
    assert _titled(rt, "For lang tekst") == []


def test_a_request_that_cannot_get_the_engine_answers_503_in_norwegian(
    world, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, client = world
    monkeypatch.setattr(search_store, "ENGINE_SECONDS", 0.3)
    held, release = threading.Event(), threading.Event()

    def busy() -> None:  # a long embedding job has the engine
        with rt.store._engine.hold(urgent=False, timeout=None, what="test"):
            held.set()
            release.wait(10)

    worker = threading.Thread(target=busy)
    worker.start()
    try:
        assert held.wait(5)
        started = time.monotonic()
        page = client.get(
            "/behov/forhandsvisning",
            params={
                "tittel": "Besøksvenner",
                "beskrivelse": NEED + " Helt ny tekst om turgrupper.",
            },
        )
        api = client.get("/api/v1/search", params={"q": "turgrupper for eldre som bor alene"})
        took = time.monotonic() - started
    finally:
        release.set()
        worker.join(10)
    assert page.status_code == 503 and api.status_code == 503
    assert "Søket er opptatt akkurat nå" in page.text
    assert api.json()["detail"].startswith("Søket er opptatt akkurat nå")
    assert page.headers["retry-after"] == "5"
    assert took < 5


def test_previews_and_a_sync_in_one_process_never_wait_on_each_other(world) -> None:
    """The freeze in one process: free-text embedding (the live suggestions) and a sync that
    embeds a changed record took the store's two locks in opposite orders."""
    rt, _ = world
    from models.db import session_scope
    from models.importing import import_rows

    errors: list[BaseException] = []

    def previews() -> None:
        try:
            for i in range(15):
                rt.store.embed_query(f"{NEED} Variant {i}.")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def syncs() -> None:
        try:
            for i in range(3):
                with session_scope(rt.engine) as session:
                    import_rows(
                        session,
                        "challenges",
                        [
                            {
                                "id": f"laas-{i}",
                                "organisation": "Bydel Grorud",
                                "title": f"Låsetest {i}",
                                "description": f"{NEED} Runde {i}.",
                                "themes": ["eldre"],
                                "language": "nb",
                            }
                        ],
                    )
                sync_engine(rt.engine, rt.store)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=previews), threading.Thread(target=syncs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "the two threads are waiting on each other"
    assert errors == []


def test_the_live_hint_says_what_is_missing_and_only_that(world) -> None:
    rt, client = world
    text = (
        "Vi trenger noen som kan lære bort birøkting til pensjonister i et bygårdsstrøk. "
        "Kurset bør gå over en sommer og ende med egen honning."
    )
    without_theme = client.get(
        "/behov/forhandsvisning", params={"tittel": "Birøkting", "beskrivelse": text}
    ).text
    with_theme = client.get(
        "/behov/forhandsvisning",
        params={"tittel": "Birøkting", "beskrivelse": text, "tema": ["eldre"]},
    ).text
    thin = client.get(
        "/behov/forhandsvisning",
        params={"tittel": "Hjelp", "beskrivelse": "Vi trenger hjelp med noe nå"},
    ).text
    assert "Beskriv gjerne mer" not in without_theme + with_theme + thin  # the old blanket hint
    if "Ingen gode treff ennå" in without_theme:
        assert "Velg ett eller flere temaer" in without_theme
    if "Ingen gode treff ennå" in with_theme:
        assert "Velg ett eller flere temaer" not in with_theme
        assert "Teksten er kort" not in with_theme
    assert "Teksten er kort" in thin  # said whether or not the best candidate is weak
    if "Ingen gode treff ennå" in thin:
        assert "også det beste forslaget er et svakt treff" in thin


def test_the_page_the_api_and_the_cli_list_the_same_candidates_with_the_same_confidence(
    world,
) -> None:
    """What a need's page shows is what `suggest --json` and the API return: same order,
    same labels (so `brobygger eval`, which scores that list, measures what users get)."""
    import html

    from service.matching import suggest
    from service.schemas import suggestions_public
    from service.web.needs import SHOWN

    rt, client = world
    with Session(rt.engine) as session:
        need = (
            session.exec(
                select(Challenge).where(Challenge.external_id == "ch-grorud-arbeidstrening")
            ).first()
            or session.exec(select(Challenge).where(Challenge.status == "open")).first()
        )
        assert need is not None
        payload = suggestions_public(need, suggest(session, rt.store, need, limit=SHOWN))
    page = client.get(f"/behov/{need.id}").text
    names = [
        html.unescape(n)
        for n in re.findall(r'<h3>\d+\. <a href="/entrepreneurer/\d+">([^<]+)</a></h3>', page)
    ]
    labels = re.findall(r'<span class="conf conf-(?:sterkt|mulig|svakt)">([^<]+)</span>', page)
    assert names == [s.entrepreneur.name for s in payload.suggestions]
    assert labels == [s.confidence.label for s in payload.suggestions]
    assert len(names) == SHOWN
