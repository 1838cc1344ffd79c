"""Browsing the public lists: the open needs and the public contact persons, narrowed by free
text, by organisation (a kommune includes its bydeler) and by theme.

``filters`` checks what a visitor typed once, with the same limits as the API's search
fields (200 characters, no control characters); a filter that fails is left out and its
Norwegian message returned, so a bad query string gives a message, never an error page. The
text search is a plain case-insensitive substring match (Norwegian letters included), so the
count on the page is the number of records that contain the words, nothing ranked away.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from models.tables import Challenge, Contact, Organisation
from models.validation import CONTROL
from models.vocabulary import ORGANISATION_KINDS, THEMES
from service.security import organisation_and_below

MAX_TEXT = 200  # as the API's ShortQuery
KIND_LABELS = {"kommune": "Kommuner", "bydel": "Bydeler", "etat": "Etater", "annet": "Andre"}


@dataclass(frozen=True)
class Filters:
    text: str = ""
    organisation: Organisation | None = None
    theme: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.text or self.organisation or self.theme)


def filters(
    session: Session, *, text: str | None, organisation: str | None, theme: str | None
) -> tuple[Filters, dict[str, str]]:
    """The filters of a list page and the problems with them, keyed ``text``,
    ``organisation`` and ``theme`` (empty when all is well). ``organisation`` is a name."""
    errors: dict[str, str] = {}
    words = " ".join((text or "").split())
    if len(words) > MAX_TEXT:
        errors["text"] = f"Søket er for langt. Skriv høyst {MAX_TEXT} tegn."
        words = ""
    elif CONTROL.search(words):
        errors["text"] = "Søket inneholder tegn som ikke kan søkes etter. Skriv vanlig tekst."
        words = ""
    org = None
    if organisation:
        if len(organisation) <= 200 and not CONTROL.search(organisation):
            org = session.exec(
                select(Organisation).where(Organisation.name == organisation)
            ).first()
        if org is None:
            errors["organisation"] = "Velg en kommune, bydel eller etat fra listen."
    chosen = None
    if theme:
        if theme in THEMES:
            chosen = theme
        else:
            errors["theme"] = "Velg et tema fra listen."
    return Filters(text=words, organisation=org, theme=chosen), errors


def _matches(words: str, texts: Iterable[str | None]) -> bool:
    """Every word of ``words`` occurs in ``texts`` (not minding case: «ø» finds «Ø»)."""
    haystack = " ".join(t for t in texts if t).casefold()
    return all(w in haystack for w in words.casefold().split())


def _within(session: Session, f: Filters) -> set[int] | None:
    if f.organisation is None or f.organisation.id is None:
        return None
    return organisation_and_below(session, f.organisation.id)


def open_needs(session: Session, f: Filters) -> list[tuple[Challenge, Organisation]]:
    """The open needs that pass the filters, newest first, each with its organisation."""
    query = (
        select(Challenge, Organisation)
        .join(Organisation, col(Organisation.id) == col(Challenge.organisation_id))
        .where(Challenge.status == "open")
        .order_by(col(Challenge.created_at).desc(), col(Challenge.id).desc())
    )
    within = _within(session, f)
    if within is not None:
        query = query.where(col(Challenge.organisation_id).in_(within))
    rows = [(ch, org) for ch, org in session.exec(query)]
    if f.theme:
        rows = [r for r in rows if f.theme in r[0].themes]
    if f.text:
        rows = [r for r in rows if _matches(f.text, (r[0].title, r[0].description))]
    return rows


def public_contacts(session: Session, f: Filters) -> list[tuple[Contact, Organisation]]:
    """The public contact persons that pass the filters (the theme is one of their fields,
    the text is in their name, role or the names of their fields), by name."""
    query = (
        select(Contact, Organisation)
        .join(Organisation, col(Organisation.id) == col(Contact.organisation_id))
        .where(col(Contact.public).is_(True))
        .order_by(col(Contact.name), col(Contact.id))
    )
    within = _within(session, f)
    if within is not None:
        query = query.where(col(Contact.organisation_id).in_(within))
    rows = [(c, org) for c, org in session.exec(query)]
    if f.theme:
        rows = [r for r in rows if f.theme in (r[0].fields or [])]
    if f.text:
        rows = [
            r
            for r in rows
            if _matches(
                f.text,
                (r[0].name, r[0].role, *(THEMES.get(x, x) for x in r[0].fields or [])),
            )
        ]
    return rows


def organisation_choices(
    session: Session, used: Iterable[int]
) -> list[tuple[str, list[Organisation]]]:
    """The organisations to offer in a filter, grouped by kind: those in ``used`` and the ones
    above them (a kommune whose bydeler have needs)."""
    orgs = {o.id: o for o in session.exec(select(Organisation))}
    wanted: set[int] = set()
    for oid in used:
        while oid in orgs and oid not in wanted:  # up to the top (or to one already taken)
            wanted.add(oid)
            parent = orgs[oid].parent_id
            if parent is None:
                break
            oid = parent
    groups = []
    for kind in ORGANISATION_KINDS:
        members = sorted((orgs[i] for i in wanted if orgs[i].kind == kind), key=lambda o: o.name)
        if members:
            groups.append((KIND_LABELS.get(kind, kind.capitalize()), members))
    return groups


def needs_organisations(session: Session) -> list[tuple[str, list[Organisation]]]:
    """The filter's choices on the needs page: organisations with open needs (and above)."""
    ids = session.exec(
        select(Challenge.organisation_id).where(Challenge.status == "open").distinct()
    ).all()
    return organisation_choices(session, ids)


def contacts_organisations(session: Session) -> list[tuple[str, list[Organisation]]]:
    """The filter's choices on the contacts page: organisations with public contacts."""
    ids = session.exec(
        select(Contact.organisation_id)
        .where(col(Contact.public).is_(True), col(Contact.organisation_id).is_not(None))
        .distinct()
    ).all()
    return organisation_choices(session, [i for i in ids if i is not None])
