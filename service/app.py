"""FastAPI application assembly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from service.api.conferences import router as conferences_router
from service.api.proposals import router as proposals_router
from service.api.routes import router
from service.mail import OutboxWorker
from service.runtime import Runtime, open_runtime
from service.web import admin, conferences, entrepreneur, needs, pages, review
from service.web.common import HERE as WEB_DIR
from service.web.common import LoginRequired, PageError, error_page, login_redirect


def create_app(runtime: Runtime | None = None) -> FastAPI:
    rt = runtime or open_runtime()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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

    @app.get("/healthz", tags=["drift"])
    def healthz() -> dict[str, str]:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app
