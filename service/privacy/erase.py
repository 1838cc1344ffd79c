"""Erasing a data subject: the rows go or are emptied, the audit log stays whole (see the
package docstring)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from sqlmodel import Session, col, select

from matcher.text import content_hash, sentences
from models.tables import (
    Challenge,
    Contact,
    EmbeddingCache,
    Entrepreneur,
    LoginFailure,
    OutboxMessage,
    Participant,
    Proposal,
    ReviewEvent,
    User,
    utcnow,
)
from service.privacy.records import (
    ERASED,
    ERASED_ACCOUNT,
    ERASED_ENTREPRENEUR,
    ERASED_PARTICIPANT,
    accounts_of,
    mail_to,
    participants_named,
    proposals_about,
)
from service.search import entrepreneur_text
from service.security import revoke_tokens, throttle_key


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


def _erase_contact(session: Session, c: Contact) -> dict[str, int]:
    """Erase a contact person (not committed). Needs they owned pass to their deputy
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
    accounts = accounts_of(session, c.email)
    report["brukerkontoer_anonymisert"] = len(accounts)
    report["revisjonslinjer_pseudonymisert"] = sum(
        _erase_account(session, user, alias) for user in accounts
    )
    _add(report, _forget_mail(session, mail_to(session, [c.email or ""]), needles, alias))
    participants = participants_named(session, c)
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


def _empty_proposals(
    session: Session, proposals: list[Proposal], needles: list[str | None]
) -> None:
    """The proposals and their audit lines stay (decisions, order, statuses) without what
    they said about the entrepreneur."""
    for p in proposals:
        p.explanation = {"slettet": True}
        p.outcome_note = _scrub(p.outcome_note, needles)
        session.add(p)
    ids = [p.id for p in proposals]
    for ev in session.exec(select(ReviewEvent).where(col(ReviewEvent.proposal_id).in_(ids))):
        ev.explanation = {"slettet": True}
        ev.reason = _scrub(ev.reason, needles)
        session.add(ev)


def _empty_profile(session: Session, e: Entrepreneur) -> None:
    """An entrepreneur with proposals stays as an emptied row the proposals point to."""
    e.external_id = f"slettet-{e.id}"
    e.name = ERASED_ENTREPRENEUR
    e.org_nr = ""
    e.description = ""
    e.themes, e.service_areas, e.target_groups = [], [], []
    e.stage = e.website = None
    e.capacity = None
    e.erased_at = utcnow()
    session.add(e)


def _erase_entrepreneur(session: Session, e: Entrepreneur) -> dict[str, int]:
    """Erase an entrepreneur (not committed)."""
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
            _add(report, _erase_contact(session, contact))
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
    proposals = proposals_about(session, e)
    ids = [p.id for p in proposals]
    _empty_proposals(session, proposals, needles)
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
        _empty_profile(session, e)
    else:
        session.delete(e)
    report["entreprenører_slettet"] = 1
    return report


def erase_contact(session: Session, c: Contact) -> dict[str, int]:
    """Erase a contact person and commit; returns what was done, by kind."""
    report = _erase_contact(session, c)
    session.commit()
    return report


def erase_entrepreneur(session: Session, e: Entrepreneur) -> dict[str, int]:
    """Erase an entrepreneur and commit; the next index sync drops it from the index."""
    report = _erase_entrepreneur(session, e)
    session.commit()
    return report
