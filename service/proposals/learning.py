"""The ranker learned from reviewers' decisions: the examples, training and the model in use."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from matcher.learned import Decision, LearnedModel, TrainResult, train
from matcher.ranking import FEATURES, linear_scorer
from models.tables import Proposal
from service.matching import APPROVED_STATUSES


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
