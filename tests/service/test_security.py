"""Security headers on every response, and throttled log-ins (API and web)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from models.db import session_scope
from models.tables import LoginFailure
from service.app import create_app
from service.config import Settings
from service.runtime import open_runtime
from service.security import MAX_ACCOUNT_FAILURES, MAX_CLIENT_FAILURES, create_user

PASSWORD = "riktig-passord-123"


@pytest.fixture
def client(tmp_path: Path):
    rt = open_runtime(Settings(home=tmp_path))
    with session_scope(rt.engine) as session:
        for name in ("kari", "ola"):
            create_user(session, email=f"{name}@test.no", role="reviewer", password=PASSWORD)
    with TestClient(create_app(rt)) as c:
        yield c


def _login(client: TestClient, email: str, password: str):
    return client.post("/api/v1/session", json={"email": email, "password": password})


def test_security_headers_on_pages_api_and_errors(client: TestClient) -> None:
    for path in ("/", "/logg-inn", "/api/v1/challenges", "/finnes-ikke", "/static/style.css"):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["referrer-policy"] == "same-origin", path
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0], path
    # the API documentation loads Swagger UI from its CDN, so it has no CSP (other headers stay)
    docs = client.get("/docs")
    assert "content-security-policy" not in docs.headers
    assert docs.headers["x-frame-options"] == "DENY"


def test_login_is_throttled_per_account_and_cleared_by_time(client: TestClient) -> None:
    for _ in range(MAX_ACCOUNT_FAILURES):
        r = _login(client, "kari@test.no", "feil")
        assert r.status_code == 401 and r.json()["detail"] == "Feil e-post eller passord."
    # now even the right password is refused, without being checked
    r = _login(client, "Kari@Test.no ", PASSWORD)
    assert r.status_code == 429
    assert "For mange mislykkede innlogginger" in r.json()["detail"]
    assert 0 < int(r.headers["retry-after"]) <= 15 * 60 + 1
    # another account from the same client is not locked out by it
    assert _login(client, "ola@test.no", PASSWORD).status_code == 200

    rt = client.app.state.runtime  # type: ignore[attr-defined]
    with session_scope(rt.engine) as session:
        rows = session.exec(select(LoginFailure)).all()
        # nothing stored in clear: neither the address tried nor the client
        assert rows and all("@" not in r.account_key and len(r.account_key) == 64 for r in rows)
        for row in rows:  # sixteen minutes pass
            row.created_at -= timedelta(minutes=16)
    assert _login(client, "kari@test.no", PASSWORD).status_code == 200
    with session_scope(rt.engine) as session:
        assert session.exec(select(LoginFailure)).all() == []  # old ones pruned, hers cleared


def test_login_is_throttled_per_client_across_accounts(client: TestClient) -> None:
    for i in range(MAX_CLIENT_FAILURES):
        assert _login(client, f"finnes-ikke-{i}@test.no", "feil").status_code == 401
    assert _login(client, "ola@test.no", PASSWORD).status_code == 429


def test_web_login_shows_the_throttle_as_a_form_error(client: TestClient) -> None:
    page = client.get("/logg-inn")
    csrf = page.cookies.get("brobygger_csrf") or client.cookies.get("brobygger_csrf")
    assert csrf
    form = {"email": "kari@test.no", "password": "feil", "csrf": csrf}
    for _ in range(MAX_ACCOUNT_FAILURES):
        assert client.post("/logg-inn", data=form).status_code == 400
    r = client.post("/logg-inn", data={**form, "password": PASSWORD})
    assert r.status_code == 429
    assert "For mange mislykkede innlogginger" in r.text


def test_request_bodies_over_the_limit_are_refused(client: TestClient) -> None:
    limit = client.app.state.runtime.settings.max_request_mb * 1_000_000  # type: ignore[attr-defined]
    big = b"x" * (limit + 1)
    r = client.post("/api/v1/session", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "for stor" in r.json()["detail"]

    def chunks():  # no Content-Length: the body is counted as it arrives
        for _ in range(limit // 1_000_000 + 1):
            yield b"x" * 1_000_000

    json_type = {"Content-Type": "application/json"}
    r = client.post("/api/v1/session", content=chunks(), headers=json_type)
    assert r.status_code == 413 and "for stor" in r.json()["detail"]
    # a form in the browser gets a Norwegian page, whether the size is declared or counted
    for body in (big, chunks()):
        page = client.post(
            "/konferanser/ny",
            content=body,
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
        assert "For stor forespørsel" in page.text and "over 10 MB" in page.text
    # below the limit the request goes through to the route as usual
    small = client.post("/api/v1/session", json={"email": "x@test.no", "password": "y"})
    assert small.status_code == 401


def test_browser_sessions_end_after_idle_time_and_absolute_lifetime(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from models.db import session_scope
    from models.tables import ApiToken
    from service.runtime import open_runtime
    from service.security import (
        SESSION_ABSOLUTE,
        SESSION_IDLE,
        SESSION_LABEL,
        create_user,
        issue_token,
        user_for_token,
    )

    rt = open_runtime(Settings(home=tmp_path))
    start = datetime.now(UTC)
    with session_scope(rt.engine) as s:
        user = create_user(s, email="kari@test.no", role="reviewer")
        browser = issue_token(s, user, label=SESSION_LABEL)
        api = issue_token(s, user, label="integrasjon")
    with session_scope(rt.engine) as s:
        # in use every 50 minutes: alive until the absolute lifetime is over
        t = start
        while t + timedelta(minutes=50) < start + SESSION_ABSOLUTE:
            t += timedelta(minutes=50)
            assert user_for_token(s, browser, now=t) is not None, t - start
        end = start + SESSION_ABSOLUTE + timedelta(minutes=1)
        assert user_for_token(s, browser, now=end) is None
        row = s.exec(select(ApiToken).where(ApiToken.label == SESSION_LABEL)).one()
        assert row.last_used_at is not None
    with session_scope(rt.engine) as s:
        fresh = issue_token(s, user, label=SESSION_LABEL)
    with session_scope(rt.engine) as s:
        assert user_for_token(s, fresh, now=start + SESSION_IDLE - timedelta(minutes=1))
        later = start + SESSION_IDLE - timedelta(minutes=1) + SESSION_IDLE + timedelta(minutes=1)
        assert user_for_token(s, fresh, now=later) is None  # idle too long
        # API tokens made for integrations do not expire; they are revoked
        assert user_for_token(s, api, now=start + timedelta(days=400)) is not None
    rt.engine.dispose()


def test_requests_over_the_rate_limit_get_429_per_token(tmp_path: Path) -> None:
    from service.runtime import open_runtime
    from service.security import create_user, issue_token

    rt = open_runtime(Settings(home=tmp_path, rate_limit_per_minute=5))
    with session_scope(rt.engine) as s:
        one = issue_token(s, create_user(s, email="a@test.no", role="reviewer"))
        two = issue_token(s, create_user(s, email="b@test.no", role="reviewer"))
    with TestClient(create_app(rt)) as client:
        codes = [
            client.get("/api/v1/stats", headers={"Authorization": f"Bearer {one}"})
            for _ in range(7)
        ]
        assert [r.status_code for r in codes[:5]] == [200] * 5
        limited = codes[5]
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json() == {"detail": "For mange forespørsler. Vent litt og prøv igjen."}
        assert limited.headers["x-content-type-options"] == "nosniff"
        # another token, and /healthz, are not affected
        assert (
            client.get("/api/v1/stats", headers={"Authorization": f"Bearer {two}"}).status_code
            == 200
        )
        assert client.get("/healthz").status_code == 200
    rt.engine.dispose()
