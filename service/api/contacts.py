"""API routes for an organisation's contact persons: create, change and delete
(service.organisations holds the rules; municipal staff only in their own organisation)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from models.tables import Contact, Organisation, User
from service import organisations
from service.api.deps import SessionDep, require
from service.api.errors import ERROR_RESPONSES, answered_as_http, get_or_404
from service.api.links import contact_links
from service.api.types import Email, IdPath, Name, Short, Themes
from service.schemas import ContactSaved, contact_saved

router = APIRouter(prefix="/api/v1", tags=["organisasjoner"], responses=ERROR_RESPONSES)
Editor = Annotated[User, Depends(require("municipal", "admin"))]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation: Name
    name: Name
    role: Short | None = None
    fields: Themes = []
    email: Email | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    public: bool = False
    away: bool = False
    deputy_email: Email | None = None


def _saved(session: Session, contact: Contact) -> ContactSaved:
    org = session.get(Organisation, contact.organisation_id) if contact.organisation_id else None
    deputy = session.get(Contact, contact.deputy_id) if contact.deputy_id else None
    return contact_saved(contact, org, deputy)


def _organisation_contact(session: Session, contact_id: int) -> Contact:
    """A contact person of an organisation (an entrepreneur's contact is not one), or 404."""
    return get_or_404(
        session, Contact, contact_id, "kontaktperson", lambda c: c.organisation_id is not None
    )


@router.post(
    "/contacts",
    response_model=ContactSaved,
    status_code=201,
    openapi_extra=contact_links(201),
)
def create_contact(body: ContactIn, session: SessionDep, user: Editor) -> ContactSaved:
    """A contact person in an organisation that exists; as with an import row, one with the
    same e-mail (without e-mail: the same name) in that organisation is updated instead."""
    with answered_as_http():
        contact = organisations.save_contact(session, user, body.model_dump())
    return _saved(session, contact)


@router.put(
    "/contacts/{contact_id}",
    response_model=ContactSaved,
    openapi_extra=contact_links(200),
)
def update_contact(
    contact_id: IdPath, body: ContactIn, session: SessionDep, user: Editor
) -> ContactSaved:
    contact = _organisation_contact(session, contact_id)
    with answered_as_http():
        contact = organisations.save_contact(session, user, body.model_dump(), contact)
    return _saved(session, contact)


@router.delete("/contacts/{contact_id}", status_code=204)
def delete_contact(contact_id: IdPath, session: SessionDep, user: Editor) -> None:
    with answered_as_http():
        organisations.delete_contact(session, user, _organisation_contact(session, contact_id))
