"""API routes for free-text search over needs and entrepreneurs, and the operator's counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import col, select

from models.tables import Challenge, Entrepreneur, User
from service.api.deps import PUBLIC, OptionalUser, RuntimeDep, SessionDep, require
from service.api.errors import ERROR_RESPONSES
from service.matching import search_text
from service.search import CHALLENGES, ENTREPRENEURS
from service.security import is_staff

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)


class SearchHit(BaseModel):
    id: int
    external_id: str
    title: str
    score: float


@router.get("/search", response_model=list[SearchHit], tags=["søk"], openapi_extra=PUBLIC)
def search(
    session: SessionDep,
    rt: RuntimeDep,
    user: OptionalUser,
    q: Annotated[str, Query(min_length=2, max_length=500, description="Fritekst")],
    kind: Annotated[str, Query(pattern="^(entrepreneurs|challenges)$")] = "challenges",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[SearchHit]:
    """Free text -> ranked entrepreneurs (staff) or open challenges (everyone). The text is
    embedded once; the rest is the hybrid retrieval of the matcher."""
    if kind == "entrepreneurs" and not is_staff(user):
        raise HTTPException(
            403 if user else 401, "Søk i entreprenører krever innlogging som ansatt."
        )
    name = ENTREPRENEURS if kind == "entrepreneurs" else CHALLENGES
    found = search_text(session, rt.store, name, q, limit)
    wanted = [i for i, _ in found]
    rows: dict[int, tuple[str, str]] = {}
    if kind == "entrepreneurs":
        for e in session.exec(select(Entrepreneur).where(col(Entrepreneur.id).in_(wanted))):
            rows[e.id or 0] = (e.external_id, e.name)
    else:
        for c in session.exec(select(Challenge).where(col(Challenge.id).in_(wanted))):
            rows[c.id or 0] = (c.external_id, c.title)
    return [
        SearchHit(id=i, external_id=rows[i][0], title=rows[i][1], score=round(score, 4))
        for i, score in found
        if i in rows
    ]


@router.get("/stats", tags=["drift"])
def stats(
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("admin", "reviewer"))],
) -> dict[str, object]:
    count = session.exec(select(func.count()).select_from(Entrepreneur)).one()
    open_count = session.exec(
        select(func.count()).select_from(Challenge).where(Challenge.status == "open")
    ).one()
    return {"entrepreneurs": count, "open_challenges": open_count, "index": rt.store.manifests()}
