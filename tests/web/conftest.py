"""Fixtures of the browser tests: one Chromium per test session, a live demo server per
module (each module's journeys change the data, so modules do not share a server)."""

from __future__ import annotations

import pytest

from tests.web.helpers import chromium, live_server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    yield from live_server(tmp_path_factory)


@pytest.fixture(scope="session")
def browser():
    yield from chromium()
