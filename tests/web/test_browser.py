"""The web pages in a real browser (Debian's Chromium driven by Playwright), with an
accessibility check (axe-core) on every page at phone and desktop sizes."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from models.db import session_scope
from models.importing import import_rows
from service.app import create_app
from service.config import Settings
from service.matching import sync_engine
from service.security import create_user
from tests.conftest import IN_CI, REPO, _free_port, demo_runtime, wait_for

CHROMIUM = "/usr/bin/chromium"
HOSTILE = "<script>alert('x')</script> Hjelp"
SHOTS = REPO / "test-artifacts" / "screenshots"
VIEWPORTS = {"mobil": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
# Flags for a headless browser on a machine without network (see the env docs).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    home: Path = tmp_path_factory.mktemp("web")
    rt = demo_runtime(Settings(home=home))
    with session_scope(rt.engine) as session:
        create_user(session, email="innovasjon@oslo.example.no", role="reviewer",
                    name="Ingrid Innovasjon", password="brobygger-demo")
        import_rows(session, "challenges", [{
            "id": "ch-markup", "organisation": "Bydel Sagene", "title": HOSTILE,
            "description": "Vi trenger hjelp <b>nå</b> <img src=x onerror=alert(2)>.",
            "themes": ["frivillighet"], "language": "nb"}])
    sync_engine(rt.engine, rt.store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, timeout=30)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    rt.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        msg = f"{CHROMIUM} is missing; `make test` installs Debian's chromium"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def _check_accessibility(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [v for v in results.response["violations"]
               if v.get("impact") in ("serious", "critical")]
    assert not serious, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                         for v in serious]


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("path,heading", [("/", "Åpne behov"),
                                          ("/kontakter", "Kontaktpersoner per fagfelt"),
                                          ("/logg-inn", "Logg inn")])
def test_public_pages_render_and_pass_axe(live, browser, path: str, heading: str,
                                          viewport: str) -> None:
    page = browser.new_page(viewport=VIEWPORTS[viewport], locale="nb-NO")
    page.goto(live + path)
    assert page.locator("html").get_attribute("lang") == "nb"
    assert page.get_by_role("heading", level=1).inner_text() == heading
    _check_accessibility(page)
    _shot(page, f"{path.strip('/') or 'behov'}-{viewport}")
    page.close()


def test_public_sees_open_needs_and_filters_by_theme(live, browser) -> None:
    page = browser.new_page()
    page.goto(live + "/")
    assert page.get_by_role("heading", name="Arbeidstrening for unge voksne som står utenfor")
    assert "29 åpne behov" in page.get_by_role("status").inner_text()
    page.get_by_label("Vis tema").select_option("eldre")
    page.get_by_role("button", name="Vis").click()
    assert "innen Eldre" in page.get_by_role("status").inner_text()
    titles = page.locator(".card h2").all_inner_texts()
    assert titles and "Ensomhet blant eldre som bor hjemme" in titles
    assert "Arbeidstrening for unge voksne som står utenfor" not in titles
    page.close()


def test_public_contact_persons_per_field(live, browser) -> None:
    page = browser.new_page()
    page.goto(live + "/kontakter")
    section = page.get_by_role("region", name="Eldre")
    assert "Berit Haugen" in section.inner_text()
    assert "Eva Moe" not in page.content()  # not public
    page.close()


def test_keyboard_login_errors_and_logout(live, browser) -> None:
    page = browser.new_page()
    page.goto(live + "/logg-inn")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Hopp til innholdet"
    page.get_by_label("E-post").fill("innovasjon@oslo.example.no")
    page.get_by_label("Passord").fill("feil-passord")
    page.get_by_label("Passord").press("Enter")
    error = page.locator("#password-feil")
    assert error.inner_text() == "Feil e-post eller passord."
    assert page.get_by_label("Passord").get_attribute("aria-invalid") == "true"
    _check_accessibility(page)
    page.get_by_label("Passord").fill("brobygger-demo")
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(live + "/")
    assert "Ingrid Innovasjon (saksbehandler)" in page.locator("header").inner_text()
    page.get_by_role("button", name="Logg ut").click()
    page.wait_for_url(live + "/")
    assert page.get_by_role("link", name="Logg inn").is_visible()
    page.close()


def test_user_text_is_escaped(live, browser) -> None:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(live + "/")
    page.wait_for_load_state("load")
    time.sleep(0.3)
    assert dialogs == []  # no script ran
    assert HOSTILE in page.locator(".card h2").all_inner_texts()  # shown as text
    card = page.locator(".card", has=page.get_by_role("heading", name=HOSTILE))
    assert "<b>nå</b> <img src=x onerror=alert(2)>" in card.inner_text()  # markup as text
    assert page.locator(".card img").count() == 0
    page.close()
