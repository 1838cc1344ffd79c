"""Privacy (GDPR): everything stored about a person, their erasure, and retention.

Two kinds of data subject: a contact person (a municipal employee or an entrepreneur's
contact) and an entrepreneur (often a one-person business). ``export_*`` gathers everything
Brobygger stores about one of them; ``erase_*`` removes it from the database (and so from
the index, the outbox and every file Brobygger makes from the database: agendas, conference
files, handoff mail) while the audit log stays whole:

- review events keep their order, decisions and statuses; an erased person's e-mail as the
  actor is replaced by a random pseudonym (the same for all their events, derived from
  nothing, so it cannot be reversed);
- an entrepreneur with proposals stays as an emptied row ("Slettet entreprenør") so that the
  proposals and their audit lines still point somewhere; one without is deleted;
- mail not yet sent to an erased person is not sent; copies of sent mail lose the person's
  name, e-mail and phone.

Retention: a closed need that nobody has changed for ``retention_days`` loses its link to the
person who owned it and the copies of the mail sent about it (``brobygger privacy retention``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from matcher.text import content_hash, sentences
from models.tables import (
    ApiToken,
    Challenge,
    Contact,
    EmbeddingCache,
    Entrepreneur,
    LoginFailure,
    Organisation,
    OutboxMessage,
    Participant,
    Proposal,
    ReviewEvent,
    User,
    aware,
    utcnow,
)
from service.security import revoke_tokens, throttle_key

ERASED = "[slettet]"
ERASED_ENTREPRENEUR = "Slettet entreprenør"
ERASED_PARTICIPANT = "Slettet deltaker"
ERASED_ACCOUNT = "@slettet.invalid"  # the domain of an erased account's address


class PrivacyError(LookupError):
    """A person who cannot be found (message in Norwegian)."""


def _when(value: datetime | None) -> str | None:
    return aware(value).isoformat() if value else None


# -- finding the person ------------------------------------------------------------------------


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
    """An entrepreneur by id, external id or organisation number."""
    ref = ref.strip()
    row = session.get(Entrepreneur, int(ref)) if ref.isdigit() and len(ref) < 9 else None
    if row is None:
        row = session.exec(
            select(Entrepreneur).where(
                (Entrepreneur.external_id == ref) | (Entrepreneur.org_nr == ref.replace(" ", ""))
            )
        ).first()
    if row is None or row.erased_at is not None:
        raise PrivacyError(f"Fant ingen entreprenør med id, ekstern id eller org.nr. «{ref}».")
    return row


# -- export ------------------------------------------------------------------------------------


def _accounts(session: Session, email: str | None) -> list[User]:
    if not email:
        return []
    return list(session.exec(select(User).where(col(User.email).ilike(email.strip()))))


def _account_export(session: Session, user: User) -> dict[str, Any]:
    tokens = list(session.exec(select(ApiToken).where(ApiToken.user_id == user.id)))
    return {
        "id": user.id,
        "e-post": user.email,
        "navn": user.name,
        "rolle": user.role,
        "aktiv": user.active,
        "opprettet": _when(user.created_at),
        "tokens": [
            {"navn": t.label, "opprettet": _when(t.created_at), "trukket": _when(t.revoked_at)}
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
        "tidspunkt": _when(e.created_at),
    }


def _mail_to(session: Session, needles: Iterable[str]) -> list[OutboxMessage]:
    """Outbox messages sent (or to be sent) to one of these addresses."""
    wanted = {n.strip().lower() for n in needles if n}
    return [
        m
        for m in session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        if wanted & {r.strip().lower() for r in m.recipients}
    ]


def _mail_export(m: OutboxMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "til": m.recipients,
        "emne": m.subject,
        "tekst": m.body,
        "status": m.status,
        "sendt": _when(m.sent_at),
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
        "opprettet": _when(c.created_at),
        "endret": _when(c.updated_at),
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
        "brukerkontoer": [_account_export(session, u) for u in _accounts(session, c.email)],
        "e-post": [_mail_export(m) for m in _mail_to(session, [c.email or ""])],
        "konferansedeltakelser": [_participant_export(p) for p in _participants_named(session, c)],
    }


def _participant_export(p: Participant) -> dict[str, Any]:
    return {
        "konferanse": p.conference_id,
        "id": p.external_id,
        "navn": p.name,
        "organisasjon": p.organisation,
        "beskrivelse": p.description,
    }


def _participants_named(session: Session, c: Contact) -> list[Participant]:
    """Conference participants that are this contact: the same name in the same organisation
    (participant lists name people, not contact ids)."""
    org = session.get(Organisation, c.organisation_id) if c.organisation_id else None
    return [
        p
        for p in session.exec(select(Participant).where(Participant.side == "municipal"))
        if p.name.strip().lower() == c.name.strip().lower()
        and (org is None or (p.organisation or "").strip().lower() == org.name.lower())
    ]


def _proposals(session: Session, e: Entrepreneur) -> list[Proposal]:
    return list(
        session.exec(
            select(Proposal).where(Proposal.entrepreneur_id == e.id).order_by(col(Proposal.id))
        )
    )


def export_entrepreneur(session: Session, e: Entrepreneur) -> dict[str, Any]:
    """Everything stored about an entrepreneur: the profile, its contact person and accounts,
    the proposals about it with their audit lines, mail about them, conference places."""
    contact = session.get(Contact, e.contact_id) if e.contact_id else None
    proposals = _proposals(session, e)
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
            "opprettet": _when(e.created_at),
            "endret": _when(e.updated_at),
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
                "opprettet": _when(p.created_at),
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


# -- erasure -----------------------------------------------------------------------------------


def _scrub(text: str | None, needles: Iterable[str | None]) -> str | None:
    """``text`` without any of ``needles`` (names, addresses, numbers), case-insensitively."""
    if not text:
        return text
    for needle in sorted({n.strip() for n in needles if n and len(n.strip()) >= 3}, key=len)[::-1]:
        text = re.sub(re.escape(needle), ERASED, text, flags=re.IGNORECASE)
    return text


def _forget_mail(
    session: Session, messages: Iterable[OutboxMessage], needles: list[str | None], alias: str
) -> dict[str, int]:
    """Mail not yet sent is not sent; copies of sent mail lose the person's details."""
    dropped = scrubbed = 0
    addresses = {n.strip().lower() for n in needles if n and "@" in n}
    for m in messages:
        if m.status != "sent":
            session.delete(m)
            dropped += 1
            continue
        m.recipients = [alias if r.strip().lower() in addresses else r for r in m.recipients]
        m.subject = _scrub(m.subject, needles) or ""
        m.body = _scrub(m.body, needles) or ""
        m.last_error = None
        session.add(m)
        scrubbed += 1
    return {"e-post_ikke_sendt": dropped, "e-post_renset": scrubbed}


def _erase_account(session: Session, user: User, alias: str) -> int:
    """The account stays (tokens point to it) but says nothing about the person; their audit
    lines get the pseudonym. Returns the number of audit lines changed."""
    events = list(session.exec(select(ReviewEvent).where(ReviewEvent.actor == user.email)))
    for ev in events:
        ev.actor = alias
        session.add(ev)
    for failure in session.exec(
        select(LoginFailure).where(LoginFailure.account_key == throttle_key(user.email))
    ):
        session.delete(failure)
    revoke_tokens(session, user)
    user.email = alias + ERASED_ACCOUNT
    user.name = ""
    user.password_hash = None
    user.active = False
    session.add(user)
    return len(events)


def new_pseudonym() -> str:
    return f"slettet-{secrets.token_hex(5)}"


def _add(report: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        report[k] = report.get(k, 0) + v


def erase_contact(session: Session, c: Contact) -> dict[str, int]:
    """Erase a contact person; the caller commits. Needs they owned pass to their deputy
    (or to nobody), and their accounts, audit lines and mail are handled as described above."""
    alias = new_pseudonym()
    needles = [c.name, c.email, c.phone]
    report: dict[str, int] = {"kontaktpersoner_slettet": 1}
    owned = list(session.exec(select(Challenge).where(Challenge.owner_contact_id == c.id)))
    for ch in owned:
        ch.owner_contact_id = c.deputy_id if c.deputy_id != c.id else None
        session.add(ch)
    report["behov_uten_eier_eller_til_stedfortreder"] = len(owned)
    for other in session.exec(select(Contact).where(Contact.deputy_id == c.id)):
        other.deputy_id = None
        session.add(other)
    for e in session.exec(select(Entrepreneur).where(Entrepreneur.contact_id == c.id)):
        e.contact_id = None
        session.add(e)
    accounts = _accounts(session, c.email)
    report["brukerkontoer_anonymisert"] = len(accounts)
    report["revisjonslinjer_pseudonymisert"] = sum(
        _erase_account(session, user, alias) for user in accounts
    )
    _add(report, _forget_mail(session, _mail_to(session, [c.email or ""]), needles, alias))
    participants = _participants_named(session, c)
    for p in participants:
        _erase_participant(session, p)
    report["konferansedeltakelser_anonymisert"] = len(participants)
    for ev in session.exec(select(ReviewEvent).where(col(ReviewEvent.reason).is_not(None))):
        cleaned = _scrub(ev.reason, needles)
        if cleaned != ev.reason:
            ev.reason = cleaned
            session.add(ev)
    session.flush()
    session.delete(c)
    return report


def _erase_participant(session: Session, p: Participant) -> None:
    p.name = ERASED_PARTICIPANT
    p.organisation = None
    p.description = ""
    p.themes = []
    p.entrepreneur_id = None
    session.add(p)


def _forget_vectors(session: Session, texts: Iterable[str]) -> int:
    """Embeddings of the erased texts (the cache is keyed by the text's hash)."""
    hashes = {content_hash(t) for text in texts for t in [text, *sentences(text)]}
    if not hashes:
        return 0
    rows = list(
        session.exec(select(EmbeddingCache).where(col(EmbeddingCache.content_hash).in_(hashes)))
    )
    for row in rows:
        session.delete(row)
    return len(rows)


def erase_entrepreneur(session: Session, e: Entrepreneur) -> dict[str, int]:
    """Erase an entrepreneur; the caller commits and then syncs the index (which drops it)."""
    from service.matching import entrepreneur_text

    alias = new_pseudonym()
    contact = session.get(Contact, e.contact_id) if e.contact_id else None
    needles: list[str | None] = [e.name, e.org_nr, e.website]
    report: dict[str, int] = {}
    if contact is not None:
        needles += [contact.name, contact.email, contact.phone]
        e.contact_id = None
        session.add(e)
        session.flush()
        if contact.organisation_id is None:  # the entrepreneur's own contact, not a municipal one
            _add(report, erase_contact(session, contact))
    accounts = [  # an account that had the contact's address is already done
        u
        for u in session.exec(select(User).where(User.entrepreneur_id == e.id))
        if not u.email.endswith(ERASED_ACCOUNT)
    ]
    _add(
        report,
        {
            "brukerkontoer_anonymisert": len(accounts),
            "revisjonslinjer_pseudonymisert": sum(
                _erase_account(session, user, alias) for user in accounts
            ),
        },
    )
    proposals = _proposals(session, e)
    ids = [p.id for p in proposals]
    for p in proposals:
        p.explanation = {"slettet": True}
        p.outcome_note = _scrub(p.outcome_note, needles)
        session.add(p)
    for ev in session.exec(select(ReviewEvent).where(col(ReviewEvent.proposal_id).in_(ids))):
        ev.explanation = {"slettet": True}
        ev.reason = _scrub(ev.reason, needles)
        session.add(ev)
    report["forslag_beholdt_uten_personopplysninger"] = len(proposals)
    mail = session.exec(select(OutboxMessage).where(col(OutboxMessage.proposal_id).in_(ids)))
    _add(report, _forget_mail(session, list(mail), needles, alias))
    participants = list(
        session.exec(select(Participant).where(Participant.entrepreneur_id == e.id))
    )
    for part in participants:
        _erase_participant(session, part)
    _add(report, {"konferansedeltakelser_anonymisert": len(participants)})
    report["vektorer_slettet"] = _forget_vectors(session, [entrepreneur_text(e)])
    if proposals:
        e.external_id = f"slettet-{e.id}"
        e.name = ERASED_ENTREPRENEUR
        e.org_nr = ""
        e.description = ""
        e.themes, e.service_areas, e.target_groups = [], [], []
        e.stage = e.website = None
        e.capacity = None
        e.erased_at = utcnow()
        session.add(e)
    else:
        session.delete(e)
    report["entreprenører_slettet"] = 1
    return report


# -- retention ---------------------------------------------------------------------------------


def retention(
    session: Session, days: int, *, apply: bool, now: datetime | None = None
) -> dict[str, Any]:
    """Closed needs unchanged for ``days`` days: without ``apply``, what would be removed;
    with it, remove it (the caller commits). The need, its proposals and the audit log stay."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    due = [
        ch
        for ch in session.exec(select(Challenge).where(Challenge.status == "closed"))
        if aware(ch.updated_at) < cutoff
    ]
    ids = [ch.id for ch in due]
    proposals = [
        p.id for p in session.exec(select(Proposal).where(col(Proposal.challenge_id).in_(ids)))
    ]
    mail = list(
        session.exec(select(OutboxMessage).where(col(OutboxMessage.proposal_id).in_(proposals)))
    )
    owners = [ch for ch in due if ch.owner_contact_id is not None]
    report = {
        "grense": cutoff.date().isoformat(),
        "lukkede_behov": len(due),
        "eierkoblinger": len(owners),
        "e-poster": len(mail),
        "utført": apply,
    }
    if apply:
        # The owner stays as a contact; only these old needs' links to them go. The updated
        # time is kept, so the needs do not look recently changed.
        session.execute(
            sa.update(Challenge)
            .where(col(Challenge.id).in_([ch.id for ch in owners]))
            .values(owner_contact_id=None, updated_at=Challenge.updated_at)
        )
        for m in mail:
            session.delete(m)
    return report


# -- the two kinds of data subject, for the command line -----------------------------------------


class Subject(NamedTuple):
    find: Callable[[Session, str], Any]
    export: Callable[[Session, Any], dict[str, Any]]
    erase: Callable[[Session, Any], dict[str, int]]


SUBJECTS = {
    "contact": Subject(find_contact, export_contact, erase_contact),
    "entrepreneur": Subject(find_entrepreneur, export_entrepreneur, erase_entrepreneur),
}
