"""Finding a data subject, and the rows that refer to them (accounts, mail, conference places,
proposals), for export and erasure alike."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from models.tables import (
    Contact,
    Entrepreneur,
    Organisation,
    OutboxMessage,
    Participant,
    Proposal,
    User,
    aware,
)
from service.matching.lookup import find_entrepreneur as find_profile

ERASED = "[slettet]"
ERASED_ENTREPRENEUR = "Slettet entreprenør"
ERASED_PARTICIPANT = "Slettet deltaker"
ERASED_ACCOUNT = "@slettet.invalid"  # the domain of an erased account's address


class PrivacyError(LookupError):
    """A person who cannot be found (message in Norwegian)."""


def when(value: datetime | None) -> str | None:
    return aware(value).isoformat() if value else None


def find_contact(session: Session, ref: str) -> Contact:
    """A contact by id or e-mail address."""
    ref = ref.strip()
    row = session.get(Contact, int(ref)) if ref.isdigit() else None
    if row is None:
        row = session.exec(
            select(Contact).where(col(Contact.email).ilike(ref)).order_by(col(Contact.id))
        ).first()
    if row is None:
        raise PrivacyError(f"Fant ingen kontaktperson med id eller e-post «{ref}».")
    return row


def find_entrepreneur(session: Session, ref: str) -> Entrepreneur:
    """An entrepreneur by id, external id or organisation number (not an erased one)."""
    row = find_profile(session, ref)
    if row is None or row.erased_at is not None:
        raise PrivacyError(
            f"Fant ingen entreprenør med id, ekstern id eller org.nr. «{ref.strip()}»."
        )
    return row


def accounts_of(session: Session, email: str | None) -> list[User]:
    if not email:
        return []
    return list(session.exec(select(User).where(col(User.email).ilike(email.strip()))))


def mail_to(session: Session, needles: Iterable[str]) -> list[OutboxMessage]:
    """Outbox messages sent (or to be sent) to one of these addresses."""
    wanted = {n.strip().lower() for n in needles if n}
    return [
        m
        for m in session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        if wanted & {r.strip().lower() for r in m.recipients}
    ]


def participants_named(session: Session, c: Contact) -> list[Participant]:
    """Conference participants that are this contact: the same name in the same organisation
    (participant lists name people, not contact ids)."""
    org = session.get(Organisation, c.organisation_id) if c.organisation_id else None
    return [
        p
        for p in session.exec(select(Participant).where(Participant.side == "municipal"))
        if p.name.strip().lower() == c.name.strip().lower()
        and (org is None or (p.organisation or "").strip().lower() == org.name.lower())
    ]


def proposals_about(session: Session, e: Entrepreneur) -> list[Proposal]:
    return list(
        session.exec(
            select(Proposal).where(Proposal.entrepreneur_id == e.id).order_by(col(Proposal.id))
        )
    )
