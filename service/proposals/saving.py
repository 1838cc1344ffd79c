"""Proposals as the record of what was suggested: one proposal and its first audit line,
written together, for the system, staff and entrepreneurs alike."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlmodel import Session, select

from matcher.ranking import Suggestion, for_review
from models.tables import Challenge, Proposal, ReviewEvent
from service.matching import MatchResult


@dataclass(frozen=True)
class Origin:
    """Who put a pair forward: ``origin`` (system, staff, entrepreneur), the actor logged in
    the audit trail, its action there and, if any, the reason written with it."""

    origin: str
    actor: str
    action: str
    reason: str | None = None


def record_proposal(
    session: Session,
    challenge: Challenge,
    s: Suggestion,
    by: Origin,
    *,
    ranker_version: str,
    rank: int | None = None,
) -> Proposal:
    """One proposal with the score, features and explanation of suggestion ``s``, and its
    first line in the audit trail (same transaction)."""
    proposal = Proposal(
        challenge_id=challenge.id or 0,
        entrepreneur_id=s.id,
        origin=by.origin,
        score=s.score,
        rank=rank,
        features={k: float(v) for k, v in s.features.items()},
        explanation=s.explanation,
        ranker_version=ranker_version,
        status="proposed",
    )
    session.add(proposal)
    session.flush()
    session.add(
        ReviewEvent(
            proposal_id=proposal.id or 0,
            actor=by.actor,
            action=by.action,
            from_status=None,
            to_status="proposed",
            score=s.score,
            explanation=s.explanation,
            ranker_version=ranker_version,
            reason=by.reason,
        )
    )
    return proposal


def save_proposals(
    session: Session,
    challenge: Challenge,
    result: MatchResult,
    *,
    origin: str = "system",
    actor: str = "system",
) -> list[Proposal]:
    """Store each suggestion as a proposal with its score, features, explanation and ranker
    version, and log it in the audit trail. Pairs that already have a proposal are left as
    they are (a decision already taken is never overwritten). The system's own proposals
    (``origin="system"``, the automatic step) are only those at the review cut
    (``matcher.confidence.REVIEW_CUT``); what staff or an entrepreneur chose is kept whole."""
    existing = {
        p.entrepreneur_id: p
        for p in session.exec(select(Proposal).where(Proposal.challenge_id == challenge.id))
    }
    created = []
    chosen = {s.id for s in for_review(result.suggestions)} if origin == "system" else None
    for rank, s in enumerate(result.suggestions, start=1):
        if s.id in existing or (chosen is not None and s.id not in chosen):
            continue
        created.append(
            record_proposal(
                session,
                challenge,
                s,
                Origin(origin, actor, "propose"),
                ranker_version=result.ranker_version,
                rank=rank,
            )
        )
    return created


def save_each(
    session: Session, lists: Iterable[tuple[Challenge, MatchResult]]
) -> Iterator[tuple[Challenge, MatchResult]]:
    """Save the proposals of each list as it comes, one need per transaction: a crash keeps
    what is done (proposal and audit line together), and running again adds only what is
    missing."""
    for challenge, result in lists:
        save_proposals(session, challenge, result)
        session.commit()
        yield challenge, result
