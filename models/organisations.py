"""Organisations and their place: the kind and parent an organisation's name implies (a bydel
belongs to Oslo kommune), and the bydel and kommune an organisation sits in."""

from __future__ import annotations

from sqlmodel import Session, select

from models.tables import Organisation
from models.vocabulary import KOMMUNENUMMER, OSLO_BYDELER, OSLO_ETATER


def classify_organisation(name: str) -> tuple[str, str | None, str | None]:
    """(kind, parent name, kommunenummer) derived from an organisation's name (SPEC §6)."""
    if name in OSLO_BYDELER:
        return "bydel", "Oslo kommune", None
    if name.endswith(" kommune"):
        return "kommune", None, KOMMUNENUMMER.get(name.removesuffix(" kommune"))
    if name in OSLO_ETATER or name.endswith("etaten"):
        return "etat", "Oslo kommune", None
    return "annet", None, None


def get_or_create_organisation(session: Session, name: str) -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.name == name)).first()
    if org is not None:
        return org
    kind, parent_name, number = classify_organisation(name)
    parent = get_or_create_organisation(session, parent_name) if parent_name else None
    org = Organisation(
        name=name, kind=kind, parent_id=parent.id if parent else None, kommunenummer=number
    )
    session.add(org)
    session.flush()
    return org


def place_of(session: Session, organisation: Organisation) -> tuple[str | None, str | None]:
    """(bydel, kommune) of an organisation, kommune written as in service areas ("Asker")."""
    bydel = organisation.name if organisation.kind == "bydel" else None
    node: Organisation | None = organisation
    seen: set[int | None] = set()
    while node is not None and node.id not in seen:  # a parent cycle ends the walk
        if node.kind == "kommune":
            return bydel, node.name.removesuffix(" kommune")
        seen.add(node.id)
        node = session.get(Organisation, node.parent_id) if node.parent_id else None
    return bydel, None
