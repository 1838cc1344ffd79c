"""Retention: a closed need that nobody has changed for ``retention_days`` loses its link to
the person who owned it and the copies of the mail sent about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.tables import Challenge, OutboxMessage, Proposal, aware


@dataclass(frozen=True)
class RetentionReport:
    """What a retention run found (and, if ``applied``, removed)."""

    cutoff: date  # needs closed and unchanged since before this day
    closed_needs: int
    owner_links: int
    mails: int
    applied: bool


def retention(
    session: Session, days: int, *, apply: bool, now: datetime | None = None
) -> RetentionReport:
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
    return RetentionReport(
        cutoff=cutoff.date(),
        closed_needs=len(due),
        owner_links=len(owners),
        mails=len(mail),
        applied=apply,
    )
