"""Contact handoff by e-mail through an outbox.

On approval, the introduction mails are written to ``OutboxMessage`` in the same transaction as
the decision, so a decision never exists without its mail, nor a mail without its decision.
The worker delivers them:

1. claim a due row (``pending`` -> ``sending``, attempts + 1) with a conditional UPDATE, so two
   workers never take the same row;
2. send it over SMTP with the row's stable Message-ID;
3. append the Message-ID to the delivery journal (``$BROBYGGER_HOME/outbox-sent.log``, fsynced);
4. mark the row ``sent``.

A worker that dies between 2 and 4 (or whose database commit fails, e.g. while PostgreSQL
restarts) leaves the row in ``sending``. The next run finds its Message-ID in the journal and
marks it sent without sending again; a ``sending`` row *not* in the journal was not accepted by
the server and is retried. What remains is the instant between the server's ``250 OK`` and the
journal's fsync: a crash exactly there sends the mail twice, with the same Message-ID (which
mail clients use to drop duplicates). Failed sends are retried with exponential backoff up to
``MAX_ATTEMPTS``, then marked ``failed`` for an operator to see.
"""

from __future__ import annotations

import logging
import os
import smtplib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.db import session_scope
from models.tables import (
    Challenge,
    Contact,
    Entrepreneur,
    Organisation,
    OutboxMessage,
    Proposal,
    aware,
)
from service.config import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A row left in "sending" longer than this belongs to a worker that died (a delivery takes at
# most the SMTP timeout, 20 s by default); a younger one may be on its way in another process.
STALE_SENDING = timedelta(minutes=5)
MARKET_DIALOGUE = (
    "Dette er markedsdialog, ikke tildeling av kontrakt. Introduksjonen gir ingen rett til "
    "oppdrag, og eventuelle kjøp skjer etter regelverket for offentlige anskaffelser."
)


def reachable(session: Session, contact: Contact | None) -> Contact | None:
    """The contact, or their deputy when they are away or have left (one step, no loops)."""
    seen: set[int] = set()
    while contact is not None and contact.away and contact.deputy_id and contact.id not in seen:
        seen.add(contact.id or 0)
        contact = session.get(Contact, contact.deputy_id)
    return contact if contact is not None and contact.email else None


def handoff_parties(session: Session, proposal: Proposal) -> tuple[Contact | None, Contact | None]:
    """Who gets the introduction mails when ``proposal`` is approved: the need's owner and
    the entrepreneur's contact person (each replaced by their deputy when away), or None for
    a side without a reachable address. The proposal page names them before approval."""
    ch = session.get(Challenge, proposal.challenge_id)
    ent = session.get(Entrepreneur, proposal.entrepreneur_id)
    if ch is None or ent is None:
        return None, None
    municipal = reachable(
        session, session.get(Contact, ch.owner_contact_id) if ch.owner_contact_id else None
    )
    entrepreneur = reachable(
        session, session.get(Contact, ent.contact_id) if ent.contact_id else None
    )
    return municipal, entrepreneur


def enqueue_handoff(session: Session, proposal: Proposal) -> list[OutboxMessage]:
    """Write the introduction mails for an approved proposal (both sides, one mail each)."""
    ch = session.get(Challenge, proposal.challenge_id)
    ent = session.get(Entrepreneur, proposal.entrepreneur_id)
    if ch is None or ent is None:
        return []
    org = session.get(Organisation, ch.organisation_id)
    municipal, entrepreneur = handoff_parties(session, proposal)
    org_name = org.name if org else ""
    why = proposal.explanation.get("summary", "")
    lines_m = [
        f"{municipal.name}," if municipal else "Hei,",
        "",
        f"Brobygger introduserer {ent.name} til behovet «{ch.title}» ({org_name}).",
        f"Hvorfor: {why}",
        "",
        "Kontakt hos entreprenøren: "
        + (f"{entrepreneur.name} <{entrepreneur.email}>" if entrepreneur else "(ingen oppgitt)"),
        "",
        MARKET_DIALOGUE,
    ]
    lines_e = [
        f"{entrepreneur.name}," if entrepreneur else "Hei,",
        "",
        f"{org_name} har et behov dere kan passe til: «{ch.title}».",
        f"Hvorfor dere: {why}",
        "",
        "Kontaktperson i kommunen: "
        + (
            f"{municipal.name}"
            + (f", {municipal.role}" if municipal.role else "")
            + f" <{municipal.email}>"
            if municipal
            else "(ingen oppgitt)"
        ),
        "",
        MARKET_DIALOGUE,
    ]
    out = []
    for kind, to, lines in (
        ("handoff-kommune", municipal, lines_m),
        ("handoff-entreprenor", entrepreneur, lines_e),
    ):
        if to is None or not to.email:
            continue
        msg = OutboxMessage(
            message_id=make_msgid(
                idstring=f"p{proposal.id}-{kind}-{uuid.uuid4().hex[:8]}",
                domain="brobygger.example.no",
            ),
            proposal_id=proposal.id,
            kind=kind,
            recipients=[to.email],
            subject=f"Brobygger: {ent.name} og «{ch.title}»",
            body="\n".join(lines),
        )
        session.add(msg)
        out.append(msg)
    session.flush()
    return out


class Journal:
    """Append-only, fsynced list of Message-IDs the SMTP server has accepted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def contains(self, message_id: str) -> bool:
        try:
            with open(self.path, encoding="utf-8") as fh:
                return any(line.strip() == message_id for line in fh)
        except FileNotFoundError:
            return False

    def record(self, message_id: str) -> None:
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(message_id + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def smtp_sender(settings: Settings) -> Callable[[OutboxMessage], None]:
    def send(row: OutboxMessage) -> None:
        msg = EmailMessage()
        msg["From"] = settings.smtp_from
        msg["To"] = ", ".join(row.recipients)
        msg["Subject"] = row.subject
        msg["Message-ID"] = row.message_id
        msg.set_content(row.body)
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(msg)

    return send


def _claim(engine: Engine, row_id: int, now: datetime) -> OutboxMessage | None:
    """Mark a pending message as being sent by this worker; None if another got it first."""
    with session_scope(engine) as session:
        claimed = session.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.id) == row_id, col(OutboxMessage.status) == "pending")
            .values(status="sending", attempts=OutboxMessage.attempts + 1, updated_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        job = session.get(OutboxMessage, row_id)
        assert job is not None
        session.expunge(job)
        return job


def _failed(engine: Engine, row_id: int, exc: Exception, now: datetime) -> str:
    """Record a failed attempt: due again later (backing off), or failed for good after
    ``MAX_ATTEMPTS``. Returns which ("retry" or "failed")."""
    with session_scope(engine) as session:
        fresh = session.get(OutboxMessage, row_id)
        assert fresh is not None
        fresh.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if fresh.attempts >= MAX_ATTEMPTS:
            fresh.status = "failed"
            return "failed"
        fresh.status = "pending"
        fresh.next_attempt_at = now + timedelta(seconds=30 * 2**fresh.attempts)
        return "retry"


def deliver_due(
    engine: Engine,
    send: Callable[[OutboxMessage], None],
    journal: Journal,
    *,
    limit: int = 50,
    after_send: Callable[[OutboxMessage], None] | None = None,
    stale_after: timedelta = STALE_SENDING,
) -> dict[str, int]:
    """One pass over the outbox. ``after_send`` is a hook between sending and marking (tests
    use it to crash the worker exactly there)."""
    counts = {"sent": 0, "recovered": 0, "retry": 0, "failed": 0}
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        # rows a dead worker left behind: delivered if the journal says so, else due again —
        # but only once they are older than ``stale_after``: with several server processes,
        # a fresh "sending" row is another worker's mail on its way, not a dead worker's
        for row in session.exec(select(OutboxMessage).where(OutboxMessage.status == "sending")):
            if journal.contains(row.message_id):
                row.status, row.sent_at = "sent", row.sent_at or now
                counts["recovered"] += 1
            elif aware(row.updated_at) < now - stale_after:
                row.status = "pending"
        due = session.exec(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", col(OutboxMessage.next_attempt_at) <= now)
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        ).all()
    for row_id in [i for i in due if i is not None]:
        job = _claim(engine, row_id, now)
        if job is None:  # another worker has it
            continue
        try:
            send(job)
        except (smtplib.SMTPException, OSError) as exc:
            counts[_failed(engine, row_id, exc, now)] += 1
            log.warning("outbox message %s not sent (attempt %s)", row_id, job.attempts + 1)
            continue
        journal.record(job.message_id)
        if after_send is not None:
            after_send(job)
        with session_scope(engine) as session:
            fresh = session.get(OutboxMessage, row_id)
            assert fresh is not None
            fresh.status, fresh.sent_at, fresh.last_error = "sent", datetime.now(UTC), None
        counts["sent"] += 1
    return counts


class OutboxWorker(threading.Thread):
    """Delivers the outbox every ``interval`` seconds inside the server process."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(name="outbox", daemon=True)
        self.engine, self.settings = engine, settings
        self.journal = Journal(settings.home / "outbox-sent.log")
        self._stop_event = threading.Event()

    def run(self) -> None:
        send = smtp_sender(self.settings)
        while not self._stop_event.wait(self.settings.outbox_interval):
            try:
                stale = timedelta(seconds=self.settings.outbox_stale_seconds)
                deliver_due(self.engine, send, self.journal, stale_after=stale)
            except Exception as exc:  # keep the worker alive; the next pass retries
                # the type only: a database error's text can carry addresses (parameters)
                log.error("outbox pass failed: %s", type(exc).__name__)

    def stop(self) -> None:
        self._stop_event.set()
