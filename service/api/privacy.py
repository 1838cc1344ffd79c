"""GDPR routes for administrators: export everything about a person, erase it
(service.privacy)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlmodel import Session

from models.tables import Contact, User
from service.api.deps import RuntimeDep, SessionDep, require
from service.api.entrepreneurs import live_entrepreneur
from service.api.errors import ERROR_RESPONSES, get_or_404
from service.api.types import IdPath
from service.privacy import erase_contact, erase_entrepreneur, export_contact, export_entrepreneur
from service.records import API_INDEX_WAIT

router = APIRouter(prefix="/api/v1/privacy", tags=["personvern"], responses=ERROR_RESPONSES)
Admin = Annotated[User, Depends(require("admin"))]


def _contact(session: Session, contact_id: int) -> Contact:
    return get_or_404(session, Contact, contact_id, "kontaktperson")


@router.get("/contacts/{contact_id}")
def contact_export(contact_id: IdPath, session: SessionDep, user: Admin) -> dict[str, Any]:
    """Everything stored about a contact person (innsynsrett, GDPR art. 15)."""
    return export_contact(session, _contact(session, contact_id))


@router.post("/contacts/{contact_id}/erase")
def contact_erase(
    contact_id: IdPath, session: SessionDep, rt: RuntimeDep, user: Admin
) -> dict[str, int]:
    """Erase a contact person (GDPR art. 17); the audit log keeps its lines, pseudonymised."""
    report = erase_contact(session, _contact(session, contact_id))
    rt.indexer.wait(rt.indexer.request(), API_INDEX_WAIT)
    return report


@router.get("/entrepreneurs/{entrepreneur_id}")
def entrepreneur_export(
    entrepreneur_id: IdPath, session: SessionDep, user: Admin
) -> dict[str, Any]:
    """Everything stored about an entrepreneur (GDPR art. 15)."""
    return export_entrepreneur(session, live_entrepreneur(session, entrepreneur_id))


@router.post("/entrepreneurs/{entrepreneur_id}/erase")
def entrepreneur_erase(
    entrepreneur_id: IdPath, session: SessionDep, rt: RuntimeDep, user: Admin
) -> dict[str, int]:
    """Erase an entrepreneur (GDPR art. 17): removed from the index and the database; with
    proposals, an emptied row keeps them and their audit lines whole."""
    report = erase_entrepreneur(session, live_entrepreneur(session, entrepreneur_id))
    rt.indexer.wait(rt.indexer.request(), API_INDEX_WAIT)
    return report
