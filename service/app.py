"""FastAPI application assembly."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from service.api.routes import router
from service.runtime import Runtime, open_runtime


def create_app(runtime: Runtime | None = None) -> FastAPI:
    rt = runtime or open_runtime()
    app = FastAPI(
        title="Brobygger",
        description="Kobler behov i kommuner og bydeler med sosiale entreprenører.",
        version="0.1.0",
    )
    app.state.runtime = rt
    app.include_router(router)

    @app.get("/healthz", tags=["drift"])
    def healthz() -> dict[str, str]:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app
