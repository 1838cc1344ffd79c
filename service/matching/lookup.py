"""Finding the records a matching request is about: a need or an entrepreneur by the key a
person typed, the open needs, and the named people of a need."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models.tables import Challenge, Contact, Entrepreneur


def contacts_for(session: Session, challenge: Challenge) -> list[Contact]:
    """The named people for a challenge: its owner first, then public contacts of its field."""
    out: list[Contact] = []
    if challenge.owner_contact_id:
        owner = session.get(Contact, challenge.owner_contact_id)
        if owner:
            out.append(owner)
    for contact in session.exec(
        select(Contact).where(
            Contact.organisation_id == challenge.organisation_id, col(Contact.public).is_(True)
        )
    ):
        if contact not in out and set(contact.fields) & set(challenge.themes):
            out.append(contact)
    return out


def find_challenge(session: Session, key: str) -> Challenge | None:
    """By internal id (digits) or external id."""
    if key.isdigit():
        found = session.get(Challenge, int(key))
        if found:
            return found
    return session.exec(select(Challenge).where(Challenge.external_id == key)).first()


def find_entrepreneur(session: Session, key: str) -> Entrepreneur | None:
    """By internal id (digits), external id or organisation number (spaces ignored); an
    erased profile is found too (the privacy commands report on it)."""
    key = key.strip()
    if key.isdigit() and len(key) < 9:
        found = session.get(Entrepreneur, int(key))
        if found:
            return found
    return session.exec(
        select(Entrepreneur).where(
            (Entrepreneur.external_id == key) | (Entrepreneur.org_nr == key.replace(" ", ""))
        )
    ).first()


def open_challenges(session: Session) -> list[Challenge]:
    return list(
        session.exec(
            select(Challenge).where(Challenge.status == "open").order_by(col(Challenge.id))
        )
    )
