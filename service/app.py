"""FastAPI application assembly."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from threadpoolctl import threadpool_limits

from models.db import session_scope
from service.api.conferences import router as conferences_router
from service.api.proposals import router as proposals_router
from service.api.routes import router
from service.mail import OutboxWorker
from service.runtime import Runtime, open_runtime
from service.web import admin, conferences, entrepreneur, needs, pages, review
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


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413 and a Norwegian message: by the
    Content-Length header before reading anything, and by counting for bodies sent without
    one (chunked), so no upload can fill memory or disk."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit
        mb = limit / 1_000_000
        self.message = f"Forespørselen er for stor (over {mb:g} MB). Del opp filen."

    async def _refuse(self, send: Any) -> None:
        body = json.dumps({"detail": self.message}, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
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


DATABASE_DOWN = "Databasen svarer ikke akkurat nå. Prøv igjen om litt."


def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database cannot be reached (restarting, network): 503 with a Norwegian message
    instead of a crash; the connection pool checks connections before use, so the service
    recovers by itself when the database is back."""
    log.warning("database unavailable: %s", type(exc).__name__)
    path = request.url.path
    if path.startswith("/api/") or path == "/healthz":
        return JSONResponse(
            {"detail": DATABASE_DOWN}, status_code=503, headers={"Retry-After": "5"}
        )
    response = error_page(request, PageError(503, "Midlertidig utilgjengelig", DATABASE_DOWN))
    response.headers["Retry-After"] = "5"
    return response


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
    app.include_router(router)
    app.include_router(proposals_router)
    app.include_router(conferences_router)
    for web in (pages, needs, review, entrepreneur, admin, conferences):
        app.include_router(web.router)
    app.add_exception_handler(LoginRequired, login_redirect)
    app.add_exception_handler(PageError, error_page)
    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(InterfaceError, database_unavailable)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")

    app.add_middleware(BodyLimit, limit=rt.settings.max_request_mb * 1_000_000)
    app.add_middleware(ResponseHeaders)

    @app.get("/healthz", tags=["drift"])
    def healthz() -> dict[str, str | int]:
        """The database answers; ``worker`` tells which server process answered."""
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "worker": os.getpid()}

    return app
