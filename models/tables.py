"""SQLModel tables (SPEC §5). Every table has created/updated timestamps.

Lists (themes, service areas, target groups) are JSON columns: they are small, always read
with their row, and filtered in Python by the matcher; a join table would buy nothing here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(t: datetime) -> datetime:
    """A naive time from the database read as UTC (SQLite keeps no zone)."""
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))


def _json_dict() -> Any:
    return Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))


class Timestamped(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(
        default_factory=utcnow,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )


class Organisation(Timestamped, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, index=True)
    kind: str = Field(max_length=20)  # kommune | bydel | etat | annet
    parent_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    kommunenummer: str | None = Field(default=None, max_length=4)


class Contact(Timestamped, table=True):
    """A named person: a municipal owner of a field, or an entrepreneur's contact."""

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    name: str = Field(max_length=200)
    role: str | None = Field(default=None, max_length=200)
    fields: list[str] = _json_list()
    email: str | None = Field(default=None, max_length=254, index=True)
    phone: str | None = Field(default=None, max_length=40)
    public: bool = Field(default=False)
    # A contact who is away or has left hands over to the deputy.
    away: bool = Field(default=False)
    deputy_id: int | None = Field(default=None, foreign_key="contact.id")


class Entrepreneur(Timestamped, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=100, unique=True, index=True)
    name: str = Field(max_length=200)
    org_nr: str = Field(max_length=9, index=True)
    description: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    themes: list[str] = _json_list()
    service_areas: list[str] = _json_list()
    target_groups: list[str] = _json_list()
    language: str = Field(default="nb", max_length=2)
    stage: str | None = Field(default=None, max_length=20)
    capacity: int | None = Field(default=None)
    website: str | None = Field(default=None, max_length=300)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    # Set when the entrepreneur's data was erased on request (service.privacy): the row stays,
    # emptied, so that its proposals and their audit lines stay whole.
    erased_at: datetime | None = Field(default=None)


class Challenge(Timestamped, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=100, unique=True, index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    owner_contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    title: str = Field(max_length=200)
    description: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    themes: list[str] = _json_list()
    target_groups: list[str] = _json_list()
    language: str = Field(default="nb", max_length=2)
    status: str = Field(default="open", max_length=10, index=True)
    deadline: date | None = Field(default=None)


class Proposal(Timestamped, table=True):
    __table_args__ = (sa.UniqueConstraint("challenge_id", "entrepreneur_id"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True)
    entrepreneur_id: int = Field(foreign_key="entrepreneur.id", index=True)
    origin: str = Field(default="system", max_length=20)
    score: float
    rank: int | None = Field(default=None)
    features: dict[str, float] = _json_dict()
    explanation: dict[str, Any] = _json_dict()
    ranker_version: str = Field(default="", max_length=100)
    status: str = Field(default="proposed", max_length=20, index=True)
    # What came of it, recorded when known (often months later).
    outcome: str | None = Field(default=None, max_length=20)  # pilot | contract | nothing
    outcome_note: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    outcome_at: datetime | None = Field(default=None)


class ReviewEvent(SQLModel, table=True):
    """Append-only audit log: rows are inserted, never updated or deleted."""

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    actor: str = Field(max_length=254)
    action: str = Field(max_length=40)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    score: float | None = Field(default=None)
    explanation: dict[str, Any] = _json_dict()
    ranker_version: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, nullable=False, index=True)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)


class Conference(Timestamped, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    event_date: date
    place: str = Field(max_length=200)
    slots: int = Field(default=0)
    slot_minutes: int = Field(default=15)
    start_time: str = Field(default="09:00", max_length=5)
    tables: int = Field(default=0)
    status: str = Field(default="draft", max_length=20)  # draft | published
    max_per_organisation: int | None = Field(default=None)
    # the last plan: objective (sum of affinities), proven upper bound, solver status, notes
    objective: float | None = Field(default=None)
    upper_bound: float | None = Field(default=None)
    solve_status: str = Field(default="", max_length=20)
    notes: list[str] = _json_list()
    published_at: datetime | None = Field(default=None)


class Participant(Timestamped, table=True):
    __table_args__ = (sa.UniqueConstraint("conference_id", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    external_id: str = Field(max_length=100)
    side: str = Field(max_length=20)  # municipal | entrepreneur
    name: str = Field(max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    themes: list[str] = _json_list()
    entrepreneur_id: int | None = Field(default=None, foreign_key="entrepreneur.id")
    max_meetings: int | None = Field(default=None)
    min_meetings: int | None = Field(default=None)
    unavailable_slots: list[int] = _json_list()
    avoid: list[str] = _json_list()  # external ids of participants this one must not meet
    want: list[str] = _json_list()  # ... and of those this one asked to meet
    absent_from: int | None = Field(default=None)  # a no-show from this slot on


class Meeting(Timestamped, table=True):
    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    municipal_id: int = Field(foreign_key="participant.id")
    entrepreneur_id: int = Field(foreign_key="participant.id")
    slot: int
    table_no: int
    affinity: float
    locked: bool = Field(default=False)


class EmbeddingCache(SQLModel, table=True):
    """Content-addressed embeddings: (embedder, role, sha256 of the text) -> vector.

    Makes re-indexing after a crash or a restart cheap (nothing embedded twice) and keeps the
    FAISS index a pure derivative of the database.
    """

    embedder: str = Field(max_length=300, primary_key=True)
    role: str = Field(max_length=10, primary_key=True)  # query | passage
    content_hash: str = Field(max_length=64, primary_key=True)
    dimension: int
    vector: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)


class User(Timestamped, table=True):
    """A person who logs in. ``organisation_id`` ties a municipal user to the organisation whose
    challenges they own; ``entrepreneur_id`` ties an entrepreneur user to their profile."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    role: str = Field(max_length=20)  # admin | reviewer | municipal | entrepreneur | organiser
    password_hash: str | None = Field(default=None, max_length=300)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    entrepreneur_id: int | None = Field(default=None, foreign_key="entrepreneur.id")
    active: bool = Field(default=True)


class ApiToken(Timestamped, table=True):
    """A bearer token, stored only as its SHA-256 (the token itself is shown once)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    label: str = Field(default="", max_length=100)
    revoked_at: datetime | None = Field(default=None)
    # Browser sessions end after an idle time; updated at most once a minute.
    last_used_at: datetime | None = Field(default=None)


class LoginFailure(SQLModel, table=True):
    """A failed log-in, for throttling. Neither the e-mail nor the client address is stored:
    only keyed hashes of them (``service.security.throttle_key``). Rows older than the
    throttling window are deleted as new failures arrive."""

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(max_length=64, index=True)
    client_key: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, nullable=False, index=True)


class OutboxMessage(Timestamped, table=True):
    """An e-mail waiting to be sent (or sent). Written in the same transaction as the decision
    that causes it, delivered by the outbox worker; ``message_id`` is stable across retries."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=200, unique=True)
    proposal_id: int | None = Field(default=None, foreign_key="proposal.id", index=True)
    kind: str = Field(max_length=40)
    recipients: list[str] = _json_list()
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(default="pending", max_length=20, index=True)  # pending|sending|sent|failed
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    next_attempt_at: datetime = Field(default_factory=utcnow, nullable=False)
    sent_at: datetime | None = Field(default=None)
