"""Pipeline view data: where proposals stand and how long each step took, and outcomes."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from models.tables import Challenge, Proposal, ReviewEvent, User, aware
from models.vocabulary import OUTCOMES, PROPOSAL_TRANSITIONS, THEMES
from service.proposals.workflow import IllegalTransition, MissingReason

STEPS = (
    ("proposed", "approved"),
    ("proposed", "rejected"),
    ("approved", "contacted"),
    ("contacted", "in_dialogue"),
    ("in_dialogue", "agreement"),
    ("in_dialogue", "closed"),
)


def pipeline(session: Session, challenge_ids: set[int] | None = None) -> dict[str, Any]:
    """Counts per status, the median days of each step, and each proposal's dated timeline."""
    query = select(Proposal).order_by(col(Proposal.id))
    if challenge_ids is not None:
        query = query.where(col(Proposal.challenge_id).in_(list(challenge_ids)))
    proposals = list(session.exec(query))
    events: dict[int, list[ReviewEvent]] = defaultdict(list)
    if proposals:
        for e in session.exec(
            select(ReviewEvent)
            .where(col(ReviewEvent.proposal_id).in_([p.id for p in proposals]))
            .order_by(col(ReviewEvent.id))
        ):
            events[e.proposal_id].append(e)
    durations: dict[str, list[float]] = defaultdict(list)
    board = []
    for p in proposals:
        reached = {"proposed": aware(p.created_at)}
        for e in events[p.id or 0]:
            if e.from_status is not None:
                reached.setdefault(e.to_status, aware(e.created_at))
        for a, b in STEPS:
            if a in reached and b in reached:
                durations[f"{a}->{b}"].append((reached[b] - reached[a]).total_seconds() / 86400)
        board.append(
            {
                "proposal_id": p.id,
                "challenge_id": p.challenge_id,
                "entrepreneur_id": p.entrepreneur_id,
                "status": p.status,
                "outcome": p.outcome,
                "dates": {k: v.isoformat() for k, v in reached.items()},
            }
        )
    return {
        "counts": {s: sum(1 for p in proposals if p.status == s) for s in PROPOSAL_TRANSITIONS},
        "median_days": {k: round(statistics.median(v), 2) for k, v in durations.items()},
        "proposals": board,
    }


def record_outcome(
    session: Session, proposal: Proposal, outcome: str, *, actor: User, note: str | None = None
) -> Proposal:
    """What came of an approved proposal (pilot, contract, nothing), logged in the audit and
    committed."""
    if outcome not in OUTCOMES:
        raise MissingReason(f"Ukjent utfall «{outcome}». Gyldige: {', '.join(OUTCOMES)}.")
    if proposal.status in ("proposed", "rejected"):
        raise IllegalTransition("Utfall kan bare registreres for godkjente forslag.")
    proposal.outcome, proposal.outcome_note = outcome, note
    proposal.outcome_at = datetime.now(UTC)
    session.add(
        ReviewEvent(
            proposal_id=proposal.id or 0,
            actor=actor.email,
            action="outcome",
            from_status=proposal.status,
            to_status=proposal.status,
            reason=f"{OUTCOMES[outcome]}" + (f": {note}" if note else ""),
            score=proposal.score,
            explanation=proposal.explanation,
            ranker_version=proposal.ranker_version,
        )
    )
    session.commit()
    return proposal


def outcomes_by_field(
    session: Session, challenge_ids: set[int] | None = None
) -> dict[str, dict[str, int]]:
    """Per theme of the challenge: how many proposals ended in each outcome."""
    rows = session.exec(
        select(Proposal, Challenge)
        .join(Challenge, col(Challenge.id) == col(Proposal.challenge_id))
        .where(col(Proposal.outcome).is_not(None))
    )
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for p, ch in rows:
        if challenge_ids is not None and ch.id not in challenge_ids:
            continue
        for theme in ch.themes:
            out[THEMES.get(theme, theme)][p.outcome or ""] += 1
    return {field: dict(c) for field, c in sorted(out.items())}
