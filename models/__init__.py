"""Persistence: SQLModel tables, database engine and sessions, migrations, import."""

from models.tables import (
    Challenge,
    Conference,
    Contact,
    EmbeddingCache,
    Entrepreneur,
    Meeting,
    Organisation,
    Participant,
    Proposal,
    ReviewEvent,
)

__all__ = [
    "Challenge",
    "Conference",
    "Contact",
    "EmbeddingCache",
    "Entrepreneur",
    "Meeting",
    "Organisation",
    "Participant",
    "Proposal",
    "ReviewEvent",
]
