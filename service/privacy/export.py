"""Everything Brobygger stores about one data subject, as the JSON a person is given."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from models.tables import (
    ApiToken,
    Challenge,
    Contact,
    Entrepreneur,
    LoginFailure,
    Organisation,
    OutboxMessage,
    Participant,
    ReviewEvent,
    User,
    utcnow,
)
from service.privacy.records import (
    accounts_of,
    mail_to,
    participants_named,
    proposals_about,
    when,
)
from service.security import throttle_key


def _account_export(session: Session, user: User) -> dict[str, Any]:
    tokens = list(session.exec(select(ApiToken).where(ApiToken.user_id == user.id)))
    return {
        "id": user.id,
        "e-post": user.email,
        "navn": user.name,
        "rolle": user.role,
        "aktiv": user.active,
        "opprettet": when(user.created_at),
        "tokens": [
            {"navn": t.label, "opprettet": when(t.created_at), "trukket": when(t.revoked_at)}
            for t in tokens
        ],
        "mislykkede_innlogginger_siste_15_min": len(
            list(
                session.exec(
                    select(LoginFailure).where(LoginFailure.account_key == throttle_key(user.email))
                )
            )
        ),
        "hendelser_i_revisjonsloggen": _events(session, ReviewEvent.actor == user.email),
    }


def _events(session: Session, where: Any) -> list[dict[str, Any]]:
    query = select(ReviewEvent).where(where).order_by(col(ReviewEvent.id))
    return [_event_export(e) for e in session.exec(query)]


def _event_export(e: ReviewEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "forslag": e.proposal_id,
        "utført_av": e.actor,
        "handling": e.action,
        "fra": e.from_status,
        "til": e.to_status,
        "begrunnelse": e.reason,
        "tidspunkt": when(e.created_at),
    }


def _mail_export(m: OutboxMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "til": m.recipients,
        "emne": m.subject,
        "tekst": m.body,
        "status": m.status,
        "sendt": when(m.sent_at),
    }


def _contact_export(session: Session, c: Contact) -> dict[str, Any]:
    org = session.get(Organisation, c.organisation_id) if c.organisation_id else None
    deputy = session.get(Contact, c.deputy_id) if c.deputy_id else None
    return {
        "id": c.id,
        "navn": c.name,
        "rolle": c.role,
        "e-post": c.email,
        "telefon": c.phone,
        "fagfelt": c.fields,
        "organisasjon": org.name if org else None,
        "offentlig": c.public,
        "borte": c.away,
        "stedfortreder": deputy.name if deputy else None,
        "opprettet": when(c.created_at),
        "endret": when(c.updated_at),
    }


def export_contact(session: Session, c: Contact) -> dict[str, Any]:
    """Everything stored about a contact person."""
    return {
        "hva": "kontaktperson",
        "eksportert": utcnow().isoformat(),
        "kontaktperson": _contact_export(session, c),
        "eier_behov": [
            {"id": ch.id, "tittel": ch.title, "status": ch.status}
            for ch in session.exec(select(Challenge).where(Challenge.owner_contact_id == c.id))
        ],
        "stedfortreder_for": [
            x.name for x in session.exec(select(Contact).where(Contact.deputy_id == c.id))
        ],
        "kontakt_for_entreprenører": [
            {"id": e.id, "navn": e.name}
            for e in session.exec(select(Entrepreneur).where(Entrepreneur.contact_id == c.id))
        ],
        "brukerkontoer": [_account_export(session, u) for u in accounts_of(session, c.email)],
        "e-post": [_mail_export(m) for m in mail_to(session, [c.email or ""])],
        "konferansedeltakelser": [_participant_export(p) for p in participants_named(session, c)],
    }


def _participant_export(p: Participant) -> dict[str, Any]:
    return {
        "konferanse": p.conference_id,
        "id": p.external_id,
        "navn": p.name,
        "organisasjon": p.organisation,
        "beskrivelse": p.description,
    }


def export_entrepreneur(session: Session, e: Entrepreneur) -> dict[str, Any]:
    """Everything stored about an entrepreneur: the profile, its contact person and accounts,
    the proposals about it with their audit lines, mail about them, conference places."""
    contact = session.get(Contact, e.contact_id) if e.contact_id else None
    proposals = proposals_about(session, e)
    ids = [p.id for p in proposals]
    users = list(session.exec(select(User).where(User.entrepreneur_id == e.id)))
    return {
        "hva": "entreprenør",
        "eksportert": utcnow().isoformat(),
        "entreprenør": {
            "id": e.id,
            "ekstern_id": e.external_id,
            "navn": e.name,
            "org_nr": e.org_nr,
            "beskrivelse": e.description,
            "temaer": e.themes,
            "tjenesteområder": e.service_areas,
            "målgrupper": e.target_groups,
            "språk": e.language,
            "fase": e.stage,
            "kapasitet": e.capacity,
            "nettsted": e.website,
            "opprettet": when(e.created_at),
            "endret": when(e.updated_at),
        },
        "kontaktperson": _contact_export(session, contact) if contact else None,
        "brukerkontoer": [_account_export(session, u) for u in users],
        "forslag": [
            {
                "id": p.id,
                "behov": p.challenge_id,
                "status": p.status,
                "opphav": p.origin,
                "poeng": p.score,
                "begrunnelse": p.explanation,
                "utfall": p.outcome,
                "utfallsnotat": p.outcome_note,
                "opprettet": when(p.created_at),
                "hendelser": _events(session, ReviewEvent.proposal_id == p.id),
            }
            for p in proposals
        ],
        "e-post": [
            _mail_export(m)
            for m in session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.proposal_id).in_(ids))
                .order_by(col(OutboxMessage.id))
            )
        ],
        "konferansedeltakelser": [
            _participant_export(p)
            for p in session.exec(select(Participant).where(Participant.entrepreneur_id == e.id))
        ],
    }
