"""FastAPI application assembly."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from threadpoolctl import threadpool_limits

from models.db import session_scope
from service.api.deps import SESSION_COOKIE
from service.api.errors import ERROR_RESPONSES, norwegian, validation_failed
from service.api.main import router as api_router
from service.conflicts import broken_rule
from service.locks import BUSY_MESSAGE, IndexBusy
from service.mail import OutboxWorker
from service.runtime import Runtime, open_runtime
from service.web import admin, conferences, entrepreneur, needs, pages, profiles, review
from service.web.common import HERE as WEB_DIR
from service.web.common import LoginRequired, PageError, error_page, login_redirect

log = logging.getLogger(__name__)


# Sent with every response. Scripts only from this site (no inline script anywhere); inline
# styles are allowed because the printable agendas and plan summaries are self-contained HTML
# files with one <style> block each. No framing (click-jacking), no MIME sniffing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# FastAPI's API documentation pages load Swagger UI / ReDoc from a CDN.
NO_CSP = ("/docs", "/redoc")


class ResponseHeaders:
    """Adds the security headers above and ``Server-Timing: app;dur=<ms>`` (time until the
    response starts, for browsers' developer tools and the load benchmark) to every HTTP
    response. Plain ASGI, so it costs microseconds, not a task per request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        extra = list(SECURITY_HEADERS)
        if not scope["path"].startswith(NO_CSP):
            extra.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                took = f"app;dur={(time.perf_counter() - started) * 1000:.2f}".encode()
                headers = [*message.get("headers", []), *extra, (b"server-timing", took)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class RateLimit:
    """At most ``per_minute`` requests a minute for each token (or browser session), and for
    each address without one; more get 429 with ``Retry-After`` until the minute is over. The
    count is per server process (with N workers a caller can make up to N times as many);
    static files and /healthz are not counted."""

    def __init__(self, app: Any, per_minute: int) -> None:
        self.app, self.per_minute = app, per_minute
        self.windows: dict[str, tuple[int, int]] = {}  # key -> (minute, requests in it)

    @staticmethod
    def _key(scope: Any) -> str:
        headers = dict(scope.get("headers", []))
        auth = headers.get(b"authorization", b"")
        if auth[:7].lower() == b"bearer ":
            secret = auth[7:]
        else:
            cookies = headers.get(b"cookie", b"").decode("latin-1")
            found = [
                c.split("=", 1)[1]
                for c in cookies.split("; ")
                if c.startswith(SESSION_COOKIE + "=")
            ]
            secret = found[0].encode() if found else b""
        if secret:
            return "t:" + hashlib.sha256(secret).hexdigest()
        client = scope.get("client") or ("?", 0)
        return f"a:{client[0]}"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not self.per_minute or path.startswith(NOT_COUNTED):
            await self.app(scope, receive, send)
            return
        now = time.time()
        minute = int(now // 60)
        key = self._key(scope)
        start, count = self.windows.get(key, (minute, 0))
        count = count + 1 if start == minute else 1
        if len(self.windows) > 50_000:  # old minutes go; memory stays bounded
            self.windows = {k: v for k, v in self.windows.items() if v[0] == minute}
        self.windows[key] = (minute, count)
        if count <= self.per_minute:
            await self.app(scope, receive, send)
            return
        wait = str(max(1, int(60 - now % 60)))
        refusal = JSONResponse({"detail": TOO_MANY}, status_code=429, headers={"Retry-After": wait})
        await refusal(scope, receive, send)


NOT_COUNTED = ("/static/", "/healthz")
TOO_MANY = "For mange forespørsler. Vent litt og prøv igjen."
TOO_LARGE = "For stor forespørsel"


def answer(
    request: Request, status: int, title: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """An error in Norwegian: JSON for the API (and /healthz), the error page for a browser."""
    path = request.url.path
    if path.startswith("/api/") or path == "/healthz":
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    response = error_page(request, PageError(status, title, message))
    response.headers.update(headers or {})
    return response


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413 and a Norwegian message: by the
    Content-Length header before reading anything, and by counting for bodies sent without
    one (chunked), so no upload can fill memory or disk."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit
        mb = limit / 1_000_000
        self.message = f"Forespørselen er for stor (over {mb:g} MB). Del opp filen."

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        response = answer(Request(scope), 413, TOO_LARGE, self.message, {"Connection": "close"})
        await response(scope, receive, send)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counted() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # FastAPI passes an HTTPException from reading the body on as it is
                    raise HTTPException(413, self.message)
            return message

        await self.app(scope, counted, send)


def invalid_input(request: Request, exc: Exception) -> Response:
    """Input that does not fit the schema: 422 with one Norwegian line per field (JSON for the
    API, the error page for forms)."""
    if request.url.path.startswith("/api/"):
        return validation_failed(request, exc)
    assert isinstance(exc, RequestValidationError)
    if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
        # /behov/abc or an id no row can have: the page does not exist
        return error_page(request, PageError(404, *PAGE_ERRORS[404]))
    lines = "; ".join(f"{p.felt}: {p.feil}" for p in map(norwegian, exc.errors()))
    return error_page(
        request, PageError(422, "Ugyldig skjema", f"Skjemaet kunne ikke leses ({lines}).")
    )


# The framework's own error texts, in Norwegian.
FRAMEWORK_ERRORS = {
    "There was an error parsing the body": "Innholdet kunne ikke leses (ugyldig JSON, "
    "skjemadata eller tegnkoding).",
    "Not Found": "Finnes ikke.",
    "Method Not Allowed": "Metoden er ikke tillatt her.",
}


# A browser gets a heading and a sentence that helps (the error page adds links onwards);
# the API keeps the short texts above.
PAGE_ERRORS = {
    404: (
        "Fant ikke siden",
        "Vi finner ingen side på denne adressen. Lenken kan være gammel, eller adressen kan "
        "være skrevet feil.",
    ),
    405: (
        "Kan ikke åpnes slik",
        "Denne adressen kan ikke brukes på den måten nettleseren prøvde. Gå tilbake og bruk "
        "lenkene og knappene på siden.",
    ),
}


async def http_error(request: Request, exc: Exception) -> Response:
    """HTTP errors: the framework's English texts in Norwegian; a page that does not exist
    gets the Norwegian error page instead of JSON."""
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.detail, str) and exc.detail in FRAMEWORK_ERRORS:
        exc = StarletteHTTPException(exc.status_code, FRAMEWORK_ERRORS[exc.detail], exc.headers)
    path = request.url.path
    if exc.status_code in (404, 405, 413) and not path.startswith(("/api/", "/static/")):
        title, text = PAGE_ERRORS.get(exc.status_code, (TOO_LARGE, str(exc.detail)))
        return error_page(request, PageError(exc.status_code, title, text))
    return await http_exception_handler(request, exc)


def value_not_storable(request: Request, exc: Exception) -> Response:
    """A value the database refuses (a number out of its range, a character it cannot store)
    that validation did not catch: 422, not 500. The transaction has been rolled back."""
    log.warning("value refused by the database: %s", type(getattr(exc, "orig", exc)).__name__)
    message = "En verdi kan ikke lagres eller søkes etter (for stor, eller med ugyldige tegn)."
    return answer(request, 422, "Ugyldig verdi", message)


def rule_broken(request: Request, exc: Exception) -> Response:
    """A write the database refused because it breaks one of its rules (a name or id that two
    requests took at the same moment, past the services' own checks): 409 with a Norwegian
    message, never 500. The transaction has been rolled back; nothing of it was saved."""
    assert isinstance(exc, IntegrityError)
    rule = broken_rule(exc)
    log.warning("write refused by the database: %s rule on %s", rule.kind, rule.table or "?")
    return answer(request, 409, "Kunne ikke lagres", rule.message)


DATABASE_DOWN = "Databasen svarer ikke akkurat nå. Prøv igjen om litt."


def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database cannot be reached (restarting, network): 503 with a Norwegian message
    instead of a crash; the connection pool checks connections before use, so the service
    recovers by itself when the database is back."""
    log.warning("database unavailable: %s", type(exc).__name__)
    return answer(request, 503, "Midlertidig utilgjengelig", DATABASE_DOWN, {"Retry-After": "5"})


def index_busy(request: Request, exc: Exception) -> Response:
    """The index or the embedding engine stayed taken past its bound (service/locks.py):
    503 with a Norwegian message and ``Retry-After``, instead of a request that hangs."""
    assert isinstance(exc, IndexBusy)
    log.warning("index busy: %s", exc.what)
    return answer(request, 503, "Midlertidig opptatt", BUSY_MESSAGE, {"Retry-After": "5"})


def create_app(runtime: Runtime | None = None) -> FastAPI:
    rt = runtime or open_runtime()
    # Requests multiply small matrices; BLAS's own threads (one per core, spinning while they
    # wait) only took cores from the other requests (docs/PERFORMANCE.md, "under load").
    threadpool_limits(limits=1, user_api="blas")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Indexes and BM25 are built before the first request, not during it.
        with session_scope(rt.engine) as session:
            rt.store.warm(session)
        # The outbox worker delivers handoff mail while the server runs (if SMTP is set).
        worker = OutboxWorker(rt.engine, rt.settings) if rt.settings.smtp_host else None
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            worker.stop()

    app = FastAPI(
        title="Brobygger",
        description="Kobler behov i kommuner og bydeler med sosiale entreprenører.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.include_router(api_router)
    for web in (pages, needs, review, entrepreneur, profiles, admin, conferences):
        app.include_router(web.router)
    app.add_exception_handler(LoginRequired, login_redirect)
    app.add_exception_handler(PageError, error_page)
    app.add_exception_handler(RequestValidationError, invalid_input)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DataError, value_not_storable)
    app.add_exception_handler(IntegrityError, rule_broken)
    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(InterfaceError, database_unavailable)
    app.add_exception_handler(IndexBusy, index_busy)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")

    app.add_middleware(BodyLimit, limit=rt.settings.max_request_mb * 1_000_000)
    app.add_middleware(RateLimit, per_minute=rt.settings.rate_limit_per_minute)
    app.add_middleware(ResponseHeaders)

    @app.get("/healthz", tags=["drift"], responses={503: ERROR_RESPONSES[503]})
    def healthz() -> dict[str, str | int]:
        """The database answers; ``worker`` tells which server process answered."""
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "worker": os.getpid()}

    return app
