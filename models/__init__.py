"""Persistence: SQLModel tables, database engine and sessions, migrations, import."""

from models.tables import (
    ApiToken,
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
    User,
)

__all__ = [
    "ApiToken",
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
    "User",
]
