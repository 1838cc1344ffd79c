"""Saving needs and entrepreneur profiles: the one path the API and the web pages share.

Both validate exactly like an import row (SPEC §6), save, and bring the index up to date.
Errors come back as ``ImportValidationError`` (field + Norwegian reason) or ``NotAllowed``;
each face turns them into its own kind of answer (JSON 422/403, or errors next to a field).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from matcher.text import profile_warnings
from models.importing import ImportValidationError, RowError, import_rows
from models.tables import Challenge, Entrepreneur, Organisation, Proposal, User
from service.matching import challenge_text, entrepreneur_text, sync_engine
from service.runtime import Runtime
from service.security import organisation_ids
from service.workflow import propose_for_challenge


class NotAllowed(Exception):
    """The user may not save this record (message in Norwegian)."""


@dataclass
class SavedChallenge:
    challenge: Challenge
    proposals: list[Proposal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != ""}


def save_challenge(
    session: Session,
    rt: Runtime,
    user: User,
    data: dict[str, Any],
    existing: Challenge | None = None,
    *,
    propose: bool = True,
) -> SavedChallenge:
    """Create or update a need from import-format fields.

    With ``propose``, the ranking layer's suggestions above the threshold go straight to the
    review queue (origin ``system``); without it, staff choose which to send
    (``send_to_review``)."""
    organisation = data.get("organisation")
    if not organisation:
        if existing is not None:
            org = session.get(Organisation, existing.organisation_id)
            organisation = org.name if org else None
        elif user.organisation_id is not None:
            org = session.get(Organisation, user.organisation_id)
            organisation = org.name if org else None
    if not organisation:
        raise ImportValidationError([RowError(1, "organisation", "mangler")])
    if user.role == "municipal":
        org = session.exec(select(Organisation).where(Organisation.name == organisation)).first()
        if org is None or org.id not in organisation_ids(session, user):
            raise NotAllowed("Du kan bare legge inn behov for din egen organisasjon.")
    ext = data.get("id") or (existing.external_id if existing else None)
    if ext is None:
        ext = f"behov-{secrets.token_hex(4)}"
    row = _clean(data)
    row.update(id=ext, organisation=organisation)
    try:
        import_rows(session, "challenges", [row])
    except ImportValidationError:
        session.rollback()
        raise
    session.commit()
    sync_engine(rt.engine, rt.store)
    ch = session.exec(select(Challenge).where(Challenge.external_id == ext)).one()
    created = propose_for_challenge(session, rt.store, ch) if propose else []
    session.commit()
    warnings = profile_warnings(challenge_text(ch), kind="need", target_groups=ch.target_groups)
    return SavedChallenge(challenge=ch, proposals=created, warnings=warnings)


def save_entrepreneur(
    session: Session, rt: Runtime, data: dict[str, Any], external_id: str
) -> tuple[Entrepreneur, list[str]]:
    """Create or update a profile; returns it with advice for a thin profile."""
    row = _clean(data)
    row["id"] = external_id
    try:
        import_rows(session, "entrepreneurs", [row])
    except ImportValidationError:
        session.rollback()
        raise
    session.commit()
    sync_engine(rt.engine, rt.store)
    ent = session.exec(select(Entrepreneur).where(Entrepreneur.external_id == external_id)).one()
    warnings = profile_warnings(
        entrepreneur_text(ent), kind="offer", target_groups=ent.target_groups
    )
    return ent, warnings
