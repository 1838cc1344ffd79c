"""Proposals as the record of what was suggested, and the ranker learned from decisions."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from matcher.learned import Decision, LearnedModel, TrainResult, train
from matcher.ranking import FEATURES, for_review, linear_scorer
from models.tables import Challenge, Proposal, ReviewEvent
from service.matching import APPROVED_STATUSES, MatchResult


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
        proposal = Proposal(
            challenge_id=challenge.id or 0,
            entrepreneur_id=s.id,
            origin=origin,
            score=s.score,
            rank=rank,
            features={k: float(v) for k, v in s.features.items()},
            explanation=s.explanation,
            ranker_version=result.ranker_version,
            status="proposed",
        )
        session.add(proposal)
        session.flush()
        session.add(
            ReviewEvent(
                proposal_id=proposal.id or 0,
                actor=actor,
                action="propose",
                from_status=None,
                to_status="proposed",
                score=s.score,
                explanation=s.explanation,
                ranker_version=result.ranker_version,
            )
        )
        created.append(proposal)
    return created


def collect_decisions(session: Session) -> list[Decision]:
    """Every reviewed proposal as a training example (approved or further = 1, rejected = 0)."""
    out = []
    for p in session.exec(select(Proposal).where(Proposal.status != "proposed")):
        if not all(f in p.features for f in FEATURES):
            continue
        label = 1 if p.status in APPROVED_STATUSES else 0
        out.append(
            Decision(
                group=p.challenge_id, features={f: p.features[f] for f in FEATURES}, label=label
            )
        )
    return out


def train_ranker(session: Session, folder: Path) -> TrainResult:
    """Train on the decisions so far; save the model (active or not) beside the index."""
    result = train(collect_decisions(session), FEATURES, linear_scorer())
    if result.model is not None:
        result.model.save(folder)
    return result


def current_model(folder: Path) -> LearnedModel | None:
    return LearnedModel.load(folder)
