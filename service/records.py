"""Saving and deleting needs and entrepreneur profiles: the one path the API and the web pages
share.

Both validate exactly like an import row (SPEC §6), save, and ask the runtime's background
indexer to make the record searchable (``service/indexer.py``): the save itself never embeds.
A caller that needs the record searchable before it answers passes ``wait`` (seconds).
Errors come back as ``ImportValidationError`` (field + Norwegian reason), ``NotAllowed`` or
``Conflict`` (a new record whose id is taken); each face turns them into its own kind of
answer (JSON 422/403/409, or errors next to a field).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from matcher.text import profile_warnings
from models.importing import ImportResult, ImportValidationError, RowError, import_rows
from models.tables import Challenge, Entrepreneur, Organisation, Proposal, User
from service.conflicts import Conflict
from service.proposals import propose_for_challenge
from service.runtime import Runtime
from service.search import CHALLENGES, challenge_text, entrepreneur_text
from service.security import can_post_for


class NotAllowed(Exception):
    """The user may not save this record (message in Norwegian)."""


@dataclass
class SavedChallenge:
    challenge: Challenge
    proposals: list[Proposal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    searchable: bool = False  # the index already holds the saved text


# How long the API waits for the index after a save, so that a client that saves and then
# searches finds what it saved (the web answers at once and says suggestions are coming).
API_INDEX_WAIT = 15.0


def _make_searchable(rt: Runtime, wait: float) -> None:
    ticket = rt.indexer.request()
    if wait > 0:
        rt.indexer.wait(ticket, wait)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != ""}


def _import_one(
    session: Session, kind: str, row: dict[str, Any], *, taken: tuple[str, str] | None
) -> ImportResult:
    """Write one record through the import path (its validation) and commit; nothing is
    written when it is refused. ``taken``: (what, field) when the id must be new, so that an
    existing record with it is a ``Conflict`` instead of being overwritten."""
    try:
        result = import_rows(session, kind, [row])
        if taken is not None and not result.created:
            what, field = taken
            raise Conflict(f"{what} med id «{result.rows[0].external_id}» finnes allerede.", field)
    except (ImportValidationError, Conflict):
        session.rollback()
        raise
    session.commit()
    return result


def save_challenge(  # noqa: PLR0913 (shared by API, web and CLI; options model still to do)
    session: Session,
    rt: Runtime,
    user: User,
    data: dict[str, Any],
    existing: Challenge | None = None,
    *,
    propose: bool = True,
    wait: float = 0.0,
    new: bool = False,
) -> SavedChallenge:
    """Create or update a need from import-format fields.

    With ``propose``, the ranking layer's suggestions above the threshold go straight to the
    review queue (origin ``system``); without it, staff choose which to send
    (``send_to_review``). ``wait``: seconds to wait for the index (see module docstring);
    proposing does not need it (a need's vectors come from the embedding cache). With
    ``new``, an existing need with that (cleaned) id is a ``Conflict`` instead of being
    overwritten; without it the id is an upsert key, as on import (the web form's key)."""
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
    named = session.exec(select(Organisation).where(Organisation.name == organisation)).first()
    if not can_post_for(session, user, named):
        raise NotAllowed("Du kan bare legge inn behov for din egen organisasjon.")
    ext = data.get("id") or (existing.external_id if existing else None)
    if ext is None:
        ext = f"behov-{secrets.token_hex(4)}"
    row = _clean(data)
    row.update(id=ext, organisation=organisation)
    result = _import_one(session, "challenges", row, taken=("Et behov", "id") if new else None)
    _make_searchable(rt, wait)
    # The saved row itself: the stored id is the cleaned one (trimmed), not always ``ext``.
    ch: Challenge = result.rows[0]
    created = propose_for_challenge(session, rt.store, ch) if propose else []
    session.commit()
    text = challenge_text(ch)
    return SavedChallenge(
        challenge=ch,
        proposals=created,
        warnings=profile_warnings(text, kind="need", target_groups=ch.target_groups),
        searchable=rt.store.holds(CHALLENGES, ch.id, text),
    )


def save_entrepreneur(
    session: Session,
    rt: Runtime,
    data: dict[str, Any],
    external_id: str,
    *,
    wait: float = 0.0,
    new: bool = False,
) -> tuple[Entrepreneur, list[str]]:
    """Create or update a profile; returns it with advice for a thin profile. ``wait``: as
    for ``save_challenge``. With ``new``, an existing profile with that id is a
    ``Conflict`` instead of being overwritten."""
    row = _clean(data)
    row["id"] = external_id
    taken = ("En entreprenør", "external_id") if new else None
    result = _import_one(session, "entrepreneurs", row, taken=taken)
    _make_searchable(rt, wait)
    ent: Entrepreneur = result.rows[0]
    warnings = profile_warnings(
        entrepreneur_text(ent), kind="offer", target_groups=ent.target_groups
    )
    return ent, warnings


def _delete_unreferenced(
    session: Session, rt: Runtime, row: Challenge | Entrepreneur, refs: list[Any], why: str
) -> None:
    """Delete ``row`` only if nothing refers to it: the audit trail must stay whole."""
    if any(session.exec(q).first() is not None for q in refs):
        raise Conflict(why)
    session.delete(row)
    session.commit()
    rt.indexer.wait(rt.indexer.request(), API_INDEX_WAIT)


def delete_challenge(session: Session, rt: Runtime, challenge: Challenge) -> None:
    """Delete a need without proposals, and wait for the index to forget it. Commits."""
    _delete_unreferenced(
        session,
        rt,
        challenge,
        [select(Proposal).where(Proposal.challenge_id == challenge.id)],
        "Behovet har forslag og en revisjonslogg; lukk det "
        "(status «closed») i stedet for å slette det.",
    )


def delete_entrepreneur(session: Session, rt: Runtime, entrepreneur: Entrepreneur) -> None:
    """Delete a profile without proposals or users, and wait for the index. Commits."""
    _delete_unreferenced(
        session,
        rt,
        entrepreneur,
        [
            select(Proposal).where(Proposal.entrepreneur_id == entrepreneur.id),
            select(User).where(User.entrepreneur_id == entrepreneur.id),
        ],
        "Entreprenøren har forslag eller brukere knyttet til seg; sletting av personopplysninger "
        "må skje slik at revisjonsloggen beholdes (pseudonymisering).",
    )
