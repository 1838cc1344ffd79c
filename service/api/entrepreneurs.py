"""API routes for entrepreneurs' profiles: list, read (with the contact person for those who
may see it), create, change, delete, and the open needs that fit a profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import Field
from sqlmodel import Session, col, select

from models.tables import Contact, Entrepreneur, User
from service import records
from service.api.deps import PUBLIC, CurrentUser, OptionalUser, RuntimeDep, SessionDep, require
from service.api.errors import ERROR_RESPONSES, answered_as_http, get_or_404
from service.api.links import entrepreneur_links
from service.api.types import (
    IdPath,
    Limit,
    Name,
    Offset,
    RecordIn,
    ShortQuery,
    Stage,
    Tags,
    Theme,
)
from service.matching import discover
from service.records import API_INDEX_WAIT, save_entrepreneur
from service.runtime import Runtime
from service.schemas import (
    DiscoveriesPublic,
    EntrepreneurPrivate,
    EntrepreneurPublic,
    Page,
    discoveries_public,
    entrepreneur_private,
    entrepreneur_public,
)
from service.security import can_discover_for, can_edit_entrepreneur, can_see_entrepreneur_contact

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)


class EntrepreneurIn(RecordIn):
    name: Name
    org_nr: Annotated[str, Field(min_length=1, max_length=20)]
    service_areas: Tags
    stage: Stage | None = None
    capacity: Annotated[int, Field(ge=0, le=100_000)] | None = None
    website: Annotated[str, Field(max_length=300)] | None = None


def live_entrepreneur(session: Session, entrepreneur_id: int) -> Entrepreneur:
    """The entrepreneur with this id, or 404 (also for one whose data was erased)."""
    return get_or_404(
        session, Entrepreneur, entrepreneur_id, "entreprenør", lambda e: e.erased_at is None
    )


def _private(session: Session, ent: Entrepreneur) -> EntrepreneurPrivate:
    contact = session.get(Contact, ent.contact_id) if ent.contact_id else None
    return entrepreneur_private(ent, contact)


def _save(
    session: Session, rt: Runtime, body: EntrepreneurIn, ext: str, *, new: bool = False
) -> EntrepreneurPrivate:
    with answered_as_http():
        ent, _advice = save_entrepreneur(
            session, rt, body.model_dump(), ext, wait=API_INDEX_WAIT, new=new
        )
    return _private(session, ent)


@router.get("/entrepreneurs", response_model=Page[EntrepreneurPublic], tags=["entreprenører"])
def list_entrepreneurs(
    session: SessionDep,
    offset: Offset = 0,
    limit: Limit = 20,
    theme: Theme | None = None,
    area: ShortQuery | None = None,
) -> Page[EntrepreneurPublic]:
    rows = session.exec(
        select(Entrepreneur)
        .where(col(Entrepreneur.erased_at).is_(None))
        .order_by(col(Entrepreneur.id))
    ).all()
    if theme:
        rows = [e for e in rows if theme in e.themes]
    if area:
        rows = [e for e in rows if area in e.service_areas]
    items = [entrepreneur_public(e) for e in rows[offset : offset + limit]]
    return Page(items=items, total=len(rows), offset=offset, limit=limit)


@router.get(
    "/entrepreneurs/{entrepreneur_id}",
    tags=["entreprenører"],
    response_model=EntrepreneurPrivate | EntrepreneurPublic,
    openapi_extra=PUBLIC,
)
def get_entrepreneur(
    entrepreneur_id: IdPath, session: SessionDep, user: OptionalUser
) -> EntrepreneurPublic:
    ent = live_entrepreneur(session, entrepreneur_id)
    if can_see_entrepreneur_contact(user, ent):
        return _private(session, ent)
    return entrepreneur_public(ent)


@router.post(
    "/entrepreneurs",
    response_model=EntrepreneurPrivate,
    status_code=201,
    tags=["entreprenører"],
    openapi_extra=entrepreneur_links(201),
)
def create_entrepreneur(
    body: EntrepreneurIn,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("admin"))],
    external_id: Annotated[str | None, Query(max_length=100)] = None,
) -> EntrepreneurPrivate:
    return _save(session, rt, body, external_id or f"se-{body.org_nr}", new=True)


@router.put(
    "/entrepreneurs/{entrepreneur_id}", response_model=EntrepreneurPrivate, tags=["entreprenører"]
)
def update_entrepreneur(
    entrepreneur_id: IdPath,
    body: EntrepreneurIn,
    session: SessionDep,
    rt: RuntimeDep,
    user: CurrentUser,
) -> EntrepreneurPrivate:
    ent = live_entrepreneur(session, entrepreneur_id)
    if not can_edit_entrepreneur(user, ent):
        raise HTTPException(403, "Du kan bare endre din egen profil.")
    return _save(session, rt, body, ent.external_id)


@router.get(
    "/entrepreneurs/{entrepreneur_id}/challenges",
    response_model=DiscoveriesPublic,
    tags=["forslag"],
)
def entrepreneur_challenges(
    entrepreneur_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> DiscoveriesPublic:
    ent = live_entrepreneur(session, entrepreneur_id)
    if not can_discover_for(user, ent):
        raise HTTPException(403, "Du ser bare behov som passer din egen profil.")
    return discoveries_public(session, ent, discover(session, rt.store, ent, limit=limit))


@router.delete("/entrepreneurs/{entrepreneur_id}", status_code=204, tags=["entreprenører"])
def delete_entrepreneur(
    entrepreneur_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("admin"))],
) -> None:
    with answered_as_http():
        records.delete_entrepreneur(session, rt, live_entrepreneur(session, entrepreneur_id))
