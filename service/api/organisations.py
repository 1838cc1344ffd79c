"""API routes for organisations (kommuner, bydeler, etater): the directory with its contact
persons, and an administrator's create, change and delete (service.organisations)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from models.tables import Organisation, User
from service import organisations
from service.api.deps import PUBLIC, OptionalUser, SessionDep, require
from service.api.errors import ERROR_RESPONSES, answered_as_http, get_or_404
from service.api.links import organisation_links
from service.api.types import IdPath, Name, OrganisationKind, Short
from service.schemas import OrganisationPublic, organisation_public
from service.security import is_staff

router = APIRouter(prefix="/api/v1", tags=["organisasjoner"], responses=ERROR_RESPONSES)
Admin = Annotated[User, Depends(require("admin"))]


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    kind: OrganisationKind | None = None
    parent: Short | None = None
    kommunenummer: Annotated[str, Field(pattern=r"^[0-9]{4}$")] | None = None


def _public(session: Session, org: Organisation) -> OrganisationPublic:
    parent = session.get(Organisation, org.parent_id) if org.parent_id else None
    return organisation_public(org, parent.name if parent else None, [])


@router.get(
    "/organisations",
    response_model=list[OrganisationPublic],
    openapi_extra={**PUBLIC, **organisation_links(200, "/0")},
)
def list_organisations(session: SessionDep, user: OptionalUser) -> list[OrganisationPublic]:
    """Organisations and their contact persons per field (public contacts for everyone, all
    contacts for staff)."""
    return [
        organisation_public(org, parent, contacts)
        for org, parent, contacts in organisations.directory(session, everyone=is_staff(user))
    ]


@router.post(
    "/organisations",
    response_model=OrganisationPublic,
    status_code=201,
    openapi_extra=organisation_links(201, ""),
)
def create_organisation(
    body: OrganisationIn, session: SessionDep, user: Admin
) -> OrganisationPublic:
    with answered_as_http():
        org = organisations.create_organisation(session, **body.model_dump())
    return _public(session, org)


@router.put(
    "/organisations/{organisation_id}",
    response_model=OrganisationPublic,
    openapi_extra=organisation_links(200, ""),
)
def update_organisation(
    organisation_id: IdPath, body: OrganisationIn, session: SessionDep, user: Admin
) -> OrganisationPublic:
    org = get_or_404(session, Organisation, organisation_id, "organisasjon")
    with answered_as_http():
        organisations.update_organisation(session, org, **body.model_dump())
    return _public(session, org)


@router.delete("/organisations/{organisation_id}", status_code=204)
def delete_organisation(organisation_id: IdPath, session: SessionDep, user: Admin) -> None:
    org = get_or_404(session, Organisation, organisation_id, "organisasjon")
    with answered_as_http():
        organisations.delete_organisation(session, org)
