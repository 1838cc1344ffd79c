"""What the database says each vector index must hold: the indexed text of every record.

Needs and offerings are embedded from these texts, and the BM25 index reads the same texts, so
the two retrieval paths always see one version of a record.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from matcher.text import normalise
from models.tables import Challenge, Entrepreneur

ENTREPRENEURS = "entrepreneurs"
CHALLENGES = "challenges"
INDEXES = (ENTREPRENEURS, CHALLENGES)
# Needs and offerings are embedded once, as e5 "query:" texts (see matcher/embedding.py): the
# same vector is indexed and used to search, so a suggestion request only reads the cache.
RECORD_ROLE = "query"


def entrepreneur_text(e: Entrepreneur) -> str:
    return normalise(f"{e.name}. {e.description}")


def challenge_text(c: Challenge) -> str:
    return normalise(f"{c.title}. {c.description}")


def indexed_texts(session: Session, name: str) -> dict[int, str]:
    """Record id -> indexed text of every record index ``name`` must hold (live profiles;
    open needs)."""
    if name == ENTREPRENEURS:
        return {
            e.id: entrepreneur_text(e)
            for e in session.exec(select(Entrepreneur).where(col(Entrepreneur.erased_at).is_(None)))
            if e.id is not None
        }
    rows = session.exec(select(Challenge).where(Challenge.status == "open"))
    return {c.id: challenge_text(c) for c in rows if c.id is not None}
