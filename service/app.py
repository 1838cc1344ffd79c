"""FastAPI application assembly."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
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


class ServerTiming:
    """Adds ``Server-Timing: app;dur=<ms>`` (time until the response starts) to every HTTP
    response, for browsers' developer tools and the load benchmark. Plain ASGI, so it costs
    microseconds, not a task per request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Any) -> None:
            if message["type"] == "http.response.start":
                took = f"app;dur={(time.perf_counter() - started) * 1000:.2f}".encode()
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"server-timing", took)],
                }
            await send(message)

        await self.app(scope, receive, timed)


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
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")

    app.add_middleware(ServerTiming)

    @app.get("/healthz", tags=["drift"])
    def healthz() -> dict[str, str | int]:
        """The database answers; ``worker`` tells which server process answered."""
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "worker": os.getpid()}

    return app
