"""Organisations and their contact persons: every write to them, the one path the API and the
admin pages share, so that both keep the same rules.

- Names are cleaned like an import row (trimmed, at most 200 characters, no control
  characters), and a saved row is known by its id afterwards, never looked up again by the
  name that was sent (the stored name is the cleaned one).
- An organisation's name is unique: "Det finnes allerede en organisasjon som heter «X».",
  checked before writing, and again by the database for two writes at the same moment.
- No organisation lies below itself; nothing is deleted while needs, contact persons, users
  or units below still refer to it.
- A municipal user changes contact persons only in their own organisation (and those below).

Errors: ``ImportValidationError`` (field + Norwegian reason; also for an organisation that
the input names and that does not exist), ``NotAllowed`` and ``Conflict``; each face turns
them into its own answer (JSON 422/403/409, or an error next to the field).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.importing import ImportValidationError, RowError, import_rows, validate_rows
from models.organisations import classify_organisation, get_or_create_organisation
from models.tables import Challenge, Contact, Organisation, User
from models.validation import CONTROL, CONTROL_PROBLEM
from models.vocabulary import ORGANISATION_KINDS
from service.conflicts import Conflict, broken_rule
from service.records import NotAllowed
from service.security import can_change_contacts, organisation_and_below

MAX_NAME = 200


def _problem(field: str, reason: str) -> ImportValidationError:
    return ImportValidationError([RowError(1, field, reason)])


def _name(value: str | None, field: str, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise _problem(field, "skriv navnet på organisasjonen")
        return None
    if len(text) > MAX_NAME:
        raise _problem(field, f"er for langt ({len(text)} tegn; høyst {MAX_NAME})")
    if CONTROL.search(text):
        raise _problem(field, CONTROL_PROBLEM)
    return text


def _taken(session: Session, name: str, org: Organisation | None) -> Conflict | None:
    other = session.exec(select(Organisation).where(Organisation.name == name)).first()
    if other is None or (org is not None and other.id == org.id):
        return None
    return Conflict(f"Det finnes allerede en organisasjon som heter «{name}».", "name")


def _write_organisation(
    session: Session,
    org: Organisation | None,
    *,
    name: str | None,
    kind: str | None,
    parent: str | None,
    kommunenummer: str | None,
) -> Organisation:
    """Create (``org`` None) or change an organisation and commit; nothing is written (and
    ``org`` keeps its stored values) when it raises."""
    clean = _name(name, "name", required=True)
    assert clean is not None
    try:
        parent_name = _name(parent, "parent", required=False)
        kind = (kind or "").strip() or None
        if kind is not None and kind not in ORGANISATION_KINDS:
            raise _problem("kind", f"velg en type ({', '.join(ORGANISATION_KINDS)})")
        number = (kommunenummer or "").strip() or None
        if number is not None and not (len(number) == 4 and number.isdigit()):
            raise _problem("kommunenummer", "kommunenummeret har fire sifre, f.eks. 0301")
        if parent_name == clean:
            raise _problem("parent", "en organisasjon kan ikke høre til seg selv")
        if conflict := _taken(session, clean, org):
            raise conflict
        if org is None:  # what is not given follows from the name, as on import (SPEC §6)
            derived_kind, derived_parent, derived_number = classify_organisation(clean)
            org = Organisation(
                name=clean, kind=kind or derived_kind, kommunenummer=number or derived_number
            )
            parent_name = parent_name or derived_parent
        if parent_name is not None:
            found = get_or_create_organisation(session, parent_name)
            if org.id is not None and found.id in organisation_and_below(session, org.id):
                raise _problem(
                    "parent",
                    "en organisasjon kan ikke høre til seg selv"
                    if found.id == org.id
                    else f"«{parent_name}» hører selv til denne organisasjonen",
                )
            org.parent_id = found.id
        org.name, org.kind = clean, kind or org.kind
        org.kommunenummer = number or org.kommunenummer
        session.add(org)
        session.commit()
    except IntegrityError as exc:  # the same name saved by another request at this moment
        session.rollback()
        rule = broken_rule(exc)
        if rule.table == "organisation" and rule.kind == "unique":
            raise Conflict(
                f"Det finnes allerede en organisasjon som heter «{clean}».", "name"
            ) from exc
        raise
    except BaseException:
        session.rollback()
        raise
    return org


def create_organisation(
    session: Session,
    *,
    name: str,
    kind: str | None = None,
    parent: str | None = None,
    kommunenummer: str | None = None,
) -> Organisation:
    """A new organisation; kind, parent and kommunenummer not given follow from the name
    (``Bydel X`` lies in Oslo kommune). An unknown parent is created the same way. Commits."""
    return _write_organisation(
        session, None, name=name, kind=kind, parent=parent, kommunenummer=kommunenummer
    )


def update_organisation(
    session: Session,
    org: Organisation,
    *,
    name: str,
    kind: str | None = None,
    parent: str | None = None,
    kommunenummer: str | None = None,
) -> Organisation:
    """Rename or move an organisation; fields not given keep their value. Commits."""
    return _write_organisation(
        session, org, name=name, kind=kind, parent=parent, kommunenummer=kommunenummer
    )


def delete_organisation(session: Session, org: Organisation) -> None:
    """Delete an organisation nothing refers to (the audit trail stays whole). Commits."""
    refs: list[Any] = [
        select(Challenge).where(Challenge.organisation_id == org.id),
        select(Contact).where(Contact.organisation_id == org.id),
        select(Organisation).where(Organisation.parent_id == org.id),
        select(User).where(User.organisation_id == org.id),
    ]
    if any(session.exec(q).first() is not None for q in refs):
        raise Conflict("Organisasjonen har behov, kontaktpersoner, brukere eller underenheter.")
    session.delete(org)
    session.commit()


def directory(
    session: Session, *, everyone: bool
) -> list[tuple[Organisation, str | None, list[Contact]]]:
    """Every organisation by name, with its parent's name and its contact persons: all of
    them with ``everyone`` (for staff), else only those who agreed to be public."""
    orgs = session.exec(select(Organisation).order_by(col(Organisation.name))).all()
    names = {o.id: o.name for o in orgs}
    out = []
    for o in orgs:
        contacts = session.exec(select(Contact).where(Contact.organisation_id == o.id)).all()
        parent = names.get(o.parent_id) if o.parent_id else None
        out.append((o, parent, [c for c in contacts if everyone or c.public]))
    return out


# -- contact persons ---------------------------------------------------------------------------

CONTACT_FIELDS = ("name", "role", "fields", "email", "phone", "public")


def _check_organisation(session: Session, user: User, organisation_id: int | None) -> None:
    if not can_change_contacts(session, user, organisation_id):
        raise NotAllowed("Du kan bare endre kontaktpersoner i din egen organisasjon.")


def save_contact(
    session: Session, user: User, data: dict[str, Any], contact: Contact | None = None
) -> Contact:
    """Create (``contact`` None) or update a contact person from import-format fields
    (``organisation, name, role, fields, email, phone, public``) plus ``away`` and
    ``deputy_email`` (who takes over while the person is away). The organisation must exist
    (it is not created, as an import would). Returns the saved row. Commits; nothing is
    written when it raises."""
    row = {
        k: v
        for k, v in data.items()
        if k not in ("away", "deputy_email") and v is not None and v != []
    }
    [clean] = validate_rows("contacts", [row])
    org = session.exec(
        select(Organisation).where(Organisation.name == clean["organisation"])
    ).first()
    _check_organisation(session, user, org.id if org else None)
    if org is None:  # the contact person may exist; what the input names does not
        raise _problem(
            "organisation", f"fant ingen organisasjon som heter «{clean['organisation']}»"
        )
    if contact is not None:
        _check_organisation(session, user, contact.organisation_id)
    try:
        if contact is None:
            contact = import_rows(session, "contacts", [row]).rows[0]
        else:
            for key in CONTACT_FIELDS:
                setattr(contact, key, clean[key])
            contact.organisation_id = org.id
        assert contact is not None
        deputy_email = (data.get("deputy_email") or "").strip()
        deputy = None
        if deputy_email:
            deputy = session.exec(select(Contact).where(Contact.email == deputy_email)).first()
            if deputy is None or deputy.id == contact.id:
                raise _problem("deputy_email", "fant ingen annen kontaktperson med den e-posten")
        contact.away = bool(data.get("away"))
        contact.deputy_id = deputy.id if deputy else None
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return contact


def delete_contact(session: Session, user: User, contact: Contact) -> None:
    """Delete a contact person who owns no need and stands in for no one. Commits."""
    _check_organisation(session, user, contact.organisation_id)
    owns = session.exec(select(Challenge).where(Challenge.owner_contact_id == contact.id)).first()
    deputy_for = session.exec(select(Contact).where(Contact.deputy_id == contact.id)).first()
    if owns is not None or deputy_for is not None:
        raise Conflict(
            "Kontaktpersonen eier behov eller er stedfortreder; flytt ansvaret først, eller "
            "merk personen som borte med en stedfortreder."
        )
    session.delete(contact)
    session.commit()
