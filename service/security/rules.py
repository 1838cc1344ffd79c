"""Who may do what: every authorisation rule, used by every face (API, web pages, CLI)."""

from __future__ import annotations

from typing import TypeGuard

from sqlmodel import Session, col, select

from models.tables import (
    Challenge,
    Entrepreneur,
    Organisation,
    Proposal,
    User,
)

STAFF = ("admin", "reviewer", "municipal", "organiser")


def organisation_ids(session: Session, user: User) -> set[int]:
    """The organisation a municipal user belongs to and those below it (a kommune's bydeler)."""
    if user.organisation_id is None:
        return set()
    return organisation_and_below(session, user.organisation_id)


def organisation_and_below(session: Session, organisation_id: int) -> set[int]:
    """An organisation and every organisation below it (a kommune and its bydeler)."""
    ids, frontier = {organisation_id}, [organisation_id]
    while frontier:
        children = session.exec(
            select(Organisation.id).where(col(Organisation.parent_id).in_(frontier))
        ).all()
        frontier = [c for c in children if c is not None and c not in ids]
        ids.update(frontier)
    return ids


def can_edit_challenge(session: Session, user: User, challenge: Challenge) -> bool:
    if user.role == "admin":
        return True
    return user.role == "municipal" and challenge.organisation_id in organisation_ids(session, user)


def can_see_challenge(session: Session, user: User | None, challenge: Challenge) -> bool:
    if challenge.status == "open":
        return True
    if user is None:
        return False
    return user.role in ("admin", "reviewer") or can_edit_challenge(session, user, challenge)


def can_see_suggestions(session: Session, user: User, challenge: Challenge) -> bool:
    """A need's ranked suggestions: reviewers and administrators for every need, municipal
    staff for their own organisation's needs."""
    return user.role in ("admin", "reviewer") or can_edit_challenge(session, user, challenge)


def can_post_for(session: Session, user: User, organisation: Organisation | None) -> bool:
    """Whether ``user`` may save a need for ``organisation`` (municipal staff: only their own
    organisation and those below it)."""
    if user.role != "municipal":
        return True
    return organisation is not None and organisation.id in organisation_ids(session, user)


def can_change_contacts(session: Session, user: User, organisation_id: int | None) -> bool:
    """Contact persons of an organisation: municipal staff change only their own
    organisation's (and those below it); the API lets only them and administrators in."""
    return user.role != "municipal" or organisation_id in organisation_ids(session, user)


def can_see_proposal(session: Session, user: User, proposal: Proposal) -> bool:
    if user.role in ("admin", "reviewer"):
        return True
    if user.role == "entrepreneur":
        return proposal.entrepreneur_id == user.entrepreneur_id
    if user.role == "municipal":
        ch = session.get(Challenge, proposal.challenge_id)
        return ch is not None and can_edit_challenge(session, user, ch)
    return False


def can_list_proposals(user: User) -> bool:
    """Organisers plan conferences; proposals are not theirs to see."""
    return user.role != "organiser"


def can_see_audit_trail(user: User) -> bool:
    """A proposal's audit log is for case workers and the municipality, not the entrepreneur."""
    return user.role != "entrepreneur"


def can_decide_proposal(user: User) -> bool:
    """Only reviewers decide on proposals (an administrator sees the queue, but the decision
    and its audit line are a case worker's)."""
    return user.role == "reviewer"


def visible_challenge_ids(session: Session, user: User) -> set[int] | None:
    """The needs whose proposals ``user`` follows in the pipeline: a municipal user's
    organisation's; None for every need."""
    if user.role != "municipal":
        return None
    orgs = list(organisation_ids(session, user))
    rows = session.exec(select(Challenge.id).where(col(Challenge.organisation_id).in_(orgs)))
    return {i for i in rows if i is not None}


def can_see_entrepreneur_profile(user: User, entrepreneur: Entrepreneur) -> bool:
    """The whole profile page of an entrepreneur, contact person included: staff, who follow
    up the suggestions, and the entrepreneur's own users (to see what the municipality sees).
    Other entrepreneurs and the public get only the public fields, through the API."""
    if entrepreneur.erased_at is not None:
        return False
    if user.role in STAFF:
        return True
    return user.role == "entrepreneur" and user.entrepreneur_id == entrepreneur.id


def can_see_entrepreneur_contact(user: User | None, entrepreneur: Entrepreneur) -> bool:
    """The contact person in an entrepreneur's API answer: as for the whole profile page; the
    public (no user) sees only the public fields."""
    return user is not None and can_see_entrepreneur_profile(user, entrepreneur)


def can_edit_entrepreneur(user: User, entrepreneur: Entrepreneur) -> bool:
    """A profile is changed by an administrator or by the entrepreneur's own users."""
    if user.role == "admin":
        return True
    return user.role == "entrepreneur" and user.entrepreneur_id == entrepreneur.id


def can_discover_for(user: User, entrepreneur: Entrepreneur) -> bool:
    """The needs that fit a profile: staff for any profile, an entrepreneur for their own."""
    return user.role != "entrepreneur" or user.entrepreneur_id == entrepreneur.id


def is_entrepreneur(user: User | None) -> TypeGuard[User]:
    """A logged-in entrepreneur with a profile: they may show interest in open needs and
    see their own proposals."""
    return user is not None and user.role == "entrepreneur" and user.entrepreneur_id is not None


def is_staff(user: User | None) -> bool:
    """Logged-in staff (not an entrepreneur, not the public): they see every contact person
    and may search among entrepreneurs."""
    return user is not None and user.role in STAFF
