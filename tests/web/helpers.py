"""What the browser tests share: the live server on a demo home, Chromium, the axe check,
screenshots and logging in as a demo user."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import uvicorn

from models.db import session_scope
from models.importing import import_rows
from service.app import create_app
from service.config import Settings
from service.runtime import DEMO_PASSWORD, DEMO_USERS, seed_demo_proposals, seed_demo_users
from service.search import sync_engine
from tests.conftest import IN_CI, REPO, demo_runtime, free_port, wait_for

CHROMIUM = "/usr/bin/chromium"
HOSTILE = "<script>alert('x')</script> Hjelp"
DOCS = bool(os.environ.get("BROBYGGER_SCREENSHOTS"))
SHOTS = Path(os.environ.get("BROBYGGER_SCREENSHOTS") or REPO / "test-artifacts" / "screenshots")
VIEWPORTS = {"mobil": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
# Flags for a headless browser on a machine without network (see the env docs).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def live_server(tmp_path_factory: pytest.TempPathFactory):
    home: Path = tmp_path_factory.mktemp("web")
    rt = demo_runtime(Settings(home=home))
    seed_demo_users(rt)
    seed_demo_proposals(rt)
    with session_scope(rt.engine) as session:
        import_rows(
            session,
            "challenges",
            [
                {
                    "id": "ch-markup",
                    "organisation": "Bydel Sagene",
                    "title": HOSTILE,
                    "description": "Vi trenger hjelp <b>nå</b> <img src=x onerror=alert(2)>.",
                    "themes": ["frivillighet"],
                    "language": "nb",
                }
            ],
        )
    sync_engine(rt.engine, rt.store)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, timeout=30)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    rt.engine.dispose()


def chromium():
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


def check_accessibility(page) -> None:
    """axe-core on the page as it is now: no violation of any impact (minor and moderate
    ones are real barriers too, and a list that is never empty stops being read)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    assert not violations, [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in violations
    ]


def shot(page, name: str, element=None) -> None:
    """A full-page PNG for the test artifacts; for the docs (``BROBYGGER_SCREENSHOTS`` set)
    a compact JPEG of what the viewport shows, or of one ``element``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = element if element is not None else page
    if DOCS:
        target.screenshot(path=str(SHOTS / f"{name}.jpg"), type="jpeg", quality=80)
    elif element is None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    else:
        element.screenshot(path=str(SHOTS / f"{name}.png"))


EMAILS = {r: email for r, email, _name, _extra in DEMO_USERS}


def login(browser, live: str, role: str, viewport: str = "desktop"):
    page = browser.new_page(viewport=VIEWPORTS[viewport], locale="nb-NO")
    page.goto(live + "/logg-inn")
    page.get_by_label("E-post").fill(EMAILS[role])
    page.get_by_label("Passord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_load_state()
    return page


def message(page) -> str:
    return page.locator("p.notice[role=status]").inner_text()
