"""Read-only routes for challenges, entrepreneurs, suggestions and discovery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import func
from sqlmodel import col, select

from models.tables import Challenge, Entrepreneur, Organisation
from models.vocabulary import CHALLENGE_STATUSES, THEMES
from service.api.deps import RuntimeDep, SessionDep
from service.matching import discover, suggest
from service.schemas import (
    ChallengePublic,
    DiscoveriesPublic,
    EntrepreneurPublic,
    Page,
    SuggestionsPublic,
    challenge_public,
    discoveries_public,
    entrepreneur_public,
    suggestions_public,
)

router = APIRouter(prefix="/api/v1")

Offset = Annotated[int, Query(ge=0, description="Hopp over så mange treff")]
Limit = Annotated[int, Query(ge=1, le=100, description="Antall treff per side")]


def _check_theme(theme: str | None) -> None:
    if theme is not None and theme not in THEMES:
        raise HTTPException(422, f"Ukjent tema «{theme}». Gyldige: {', '.join(THEMES)}.")


@router.get("/challenges", response_model=Page[ChallengePublic], tags=["behov"])
def list_challenges(
    session: SessionDep,
    offset: Offset = 0,
    limit: Limit = 20,
    status: Annotated[str | None, Query(description="draft, open eller closed")] = "open",
    theme: str | None = None,
    organisation: str | None = None,
) -> Page[ChallengePublic]:
    _check_theme(theme)
    if status is not None and status not in CHALLENGE_STATUSES:
        raise HTTPException(
            422, f"Ukjent status «{status}». Gyldige: {', '.join(CHALLENGE_STATUSES)}."
        )
    query = select(Challenge, Organisation).join(
        Organisation, col(Organisation.id) == col(Challenge.organisation_id)
    )
    if status:
        query = query.where(Challenge.status == status)
    if organisation:
        query = query.where(Organisation.name == organisation)
    rows = session.exec(query.order_by(col(Challenge.id))).all()
    if theme:
        rows = [r for r in rows if theme in r[0].themes]
    items = [challenge_public(c, o.name) for c, o in rows[offset : offset + limit]]
    return Page(items=items, total=len(rows), offset=offset, limit=limit)


@router.get("/challenges/{challenge_id}", response_model=ChallengePublic, tags=["behov"])
def get_challenge(challenge_id: int, session: SessionDep) -> ChallengePublic:
    ch = session.get(Challenge, challenge_id)
    if ch is None:
        raise HTTPException(404, f"Fant ikke behov {challenge_id}.")
    org = session.get(Organisation, ch.organisation_id)
    return challenge_public(ch, org.name if org else "")


@router.get(
    "/challenges/{challenge_id}/suggestions", response_model=SuggestionsPublic, tags=["forslag"]
)
def challenge_suggestions(
    challenge_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SuggestionsPublic:
    ch = session.get(Challenge, challenge_id)
    if ch is None:
        raise HTTPException(404, f"Fant ikke behov {challenge_id}.")
    if ch.status != "open":
        raise HTTPException(409, "Behovet er ikke åpent, så det gis ingen forslag.")
    return suggestions_public(ch, suggest(session, rt.store, ch, limit=limit))


@router.get("/entrepreneurs", response_model=Page[EntrepreneurPublic], tags=["entreprenører"])
def list_entrepreneurs(
    session: SessionDep,
    offset: Offset = 0,
    limit: Limit = 20,
    theme: str | None = None,
    area: str | None = None,
) -> Page[EntrepreneurPublic]:
    _check_theme(theme)
    rows = session.exec(select(Entrepreneur).order_by(col(Entrepreneur.id))).all()
    if theme:
        rows = [e for e in rows if theme in e.themes]
    if area:
        rows = [e for e in rows if area in e.service_areas]
    items = [entrepreneur_public(e) for e in rows[offset : offset + limit]]
    return Page(items=items, total=len(rows), offset=offset, limit=limit)


@router.get(
    "/entrepreneurs/{entrepreneur_id}", response_model=EntrepreneurPublic, tags=["entreprenører"]
)
def get_entrepreneur(entrepreneur_id: int, session: SessionDep) -> EntrepreneurPublic:
    ent = session.get(Entrepreneur, entrepreneur_id)
    if ent is None:
        raise HTTPException(404, f"Fant ikke entreprenør {entrepreneur_id}.")
    return entrepreneur_public(ent)


@router.get(
    "/entrepreneurs/{entrepreneur_id}/challenges",
    response_model=DiscoveriesPublic,
    tags=["forslag"],
)
def entrepreneur_challenges(
    entrepreneur_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> DiscoveriesPublic:
    ent = session.get(Entrepreneur, entrepreneur_id)
    if ent is None:
        raise HTTPException(404, f"Fant ikke entreprenør {entrepreneur_id}.")
    return discoveries_public(session, ent, discover(session, rt.store, ent, limit=limit))


@router.get("/stats", tags=["drift"])
def stats(session: SessionDep, rt: RuntimeDep) -> dict[str, object]:
    count = session.exec(select(func.count()).select_from(Entrepreneur)).one()
    open_count = session.exec(
        select(func.count()).select_from(Challenge).where(Challenge.status == "open")
    ).one()
    return {"entrepreneurs": count, "open_challenges": open_count, "index": rt.store.manifests()}
