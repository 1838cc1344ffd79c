"""The need form: its fields as the import format reads them, what it says before a save,
the values it shows again, and how a form sent twice is recognised as the same need."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Form
from pydantic import BaseModel, StringConstraints
from sqlmodel import Session, col, select

from models.tables import Challenge, Contact, User, aware, utcnow
from models.validation import visible
from models.vocabulary import CHALLENGE_STATUSES, LANGUAGES
from service.formatting import number
from service.security import can_edit_challenge
from service.web.common import Line, split_list

STATUS_NAMES = {"draft": "utkast", "open": "åpent", "closed": "lukket"}
NeedForm = dict[str, Any]


def form_context(values: dict[str, Any], errors: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "statuses": {s: STATUS_NAMES[s] for s in CHALLENGE_STATUSES},
        "languages": LANGUAGES,
        **extra,
    }


def form_values(ch: Challenge | None) -> dict[str, Any]:
    if ch is None:
        return {"themes": [], "status": "open", "language": "nb"}
    return {
        "title": ch.title,
        "description": ch.description,
        "themes": ch.themes,
        "target_groups": ", ".join(ch.target_groups),
        "deadline": ch.deadline.isoformat() if ch.deadline else "",
        "status": ch.status,
        "language": ch.language,
    }


def owner_values(session: Session, ch: Challenge, values: dict[str, Any]) -> dict[str, Any]:
    if ch.owner_contact_id:
        owner = session.get(Contact, ch.owner_contact_id)
        if owner:
            values.update(contact_name=owner.name, contact_email=owner.email or "")
    return values


# A new need's form carries a key made when the form was shown; the need is saved under the
# external id derived from it. Sending the same form twice (a double click, a retry after a
# timeout, the back button) saves the same need again instead of a second one.
FORM_KEY = re.compile(r"[0-9a-f]{16}")


def new_form_key() -> str:
    return secrets.token_hex(8)


def saved_by(session: Session, key: str | None) -> int | None:
    found = session.exec(select(Challenge).where(Challenge.external_id == f"behov-{key}")).first()
    return found.id if found else None


# A form the back button brought back carries a new key; the same text sent again by the same
# organisation within this time is still the same need (nobody posts one need twice in ten
# minutes on purpose).
RESUBMIT_WINDOW = timedelta(minutes=10)


def same_text(session: Session, user: User, data: NeedForm) -> Challenge | None:
    """A need of this user's organisation saved moments ago with this very title and text."""
    if user.organisation_id is None:
        return None
    found = session.exec(
        select(Challenge)
        .where(
            Challenge.organisation_id == user.organisation_id,
            Challenge.title == data["title"],
            Challenge.description == data["description"],
        )
        .order_by(col(Challenge.id).desc())
    ).first()
    if found is None or aware(found.created_at) < utcnow() - RESUBMIT_WINDOW:
        return None
    return found if can_edit_challenge(session, user, found) else None


def keyed(session: Session, user: User, key: str) -> tuple[Challenge | None, str]:
    """For a new-need form's key: the need an earlier submit of this very form saved (if this
    user may change it), and the key to save under. A key that names a need this user may
    not change was not made for them: it is replaced, and that need is never touched."""
    found = session.exec(select(Challenge).where(Challenge.external_id == f"behov-{key}")).first()
    if found is None:
        return None, key
    if can_edit_challenge(session, user, found):
        return found, key
    return None, new_form_key()


# A description's limit is checked with a Norwegian message below, not by the form parser;
# this one only bounds what is read (the browser's maxlength stops typing at 5,000).
DESCRIPTION_MAX = 5000


class NeedFields(BaseModel):
    """The need form as sent (``skjema``: the form's key, see FORM_KEY)."""

    title: Line = ""
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200_000)] = ""
    themes: list[str] = []
    target_groups: Line = ""
    contact_name: Line = ""
    contact_email: Line = ""
    deadline: Line = ""
    status: Line = "open"
    language: Line = "nb"
    skjema: Line = ""


def need_form(form: Annotated[NeedFields, Form()]) -> NeedForm:
    """The need form's fields, in import format (one reader for posting and editing)."""
    return {
        "form_key": form.skjema if FORM_KEY.fullmatch(form.skjema) else None,
        "title": form.title,
        "description": form.description,
        "themes": form.themes,
        "target_groups": split_list(form.target_groups),
        "contact_name": form.contact_name or None,
        "contact_email": form.contact_email or None,
        "deadline": form.deadline or None,
        "status": form.status,
        "language": form.language,
    }


NeedFormDep = Annotated[NeedForm, Depends(need_form)]


def form_errors(data: NeedForm) -> dict[str, str]:
    """What the form says before anything is saved (the import rules check the rest)."""
    errors: dict[str, str] = {}
    if not visible(data["title"]):
        errors["title"] = "Skriv en kort tittel."
    if not visible(data["description"]):
        errors["description"] = "Beskriv behovet med noen setninger."
    elif len(data["description"]) > DESCRIPTION_MAX:
        errors["description"] = (
            f"Beskrivelsen er {number(len(data['description']))} tegn; høyst "
            f"{number(DESCRIPTION_MAX)} får plass. Kort den ned – to til fire setninger om "
            "hva som trengs, for hvem og hvor gir best treff."
        )
    if not data["themes"]:
        errors["themes"] = "Velg minst ett tema."
    return errors
