"""Proposals: what was suggested to whom, how reviewers decide, and what came of it.

- ``saving``: a proposal and its first audit line, written together (system, staff,
  entrepreneur);
- ``workflow``: the review states and the moves between them, each logged in the audit trail;
- ``outcomes``: where proposals stand (the pipeline view) and what came of approved ones;
- ``learning``: the ranker learned from reviewers' decisions.
"""

from service.proposals.learning import (
    collect_decisions,
    current_model,
    train_ranker,
)
from service.proposals.outcomes import (
    STEPS,
    outcomes_by_field,
    pipeline,
    record_outcome,
)
from service.proposals.saving import (
    Origin,
    record_proposal,
    save_each,
    save_proposals,
)
from service.proposals.workflow import (
    ERASED_PARTY,
    MARKET_DIALOGUE,
    STATUS_LABELS,
    IllegalTransition,
    MissingReason,
    WorkflowError,
    express_interest,
    next_statuses,
    propose_for_challenge,
    send_to_review,
    transition,
)

__all__ = [
    "ERASED_PARTY",
    "next_statuses",
    "IllegalTransition",
    "MARKET_DIALOGUE",
    "MissingReason",
    "Origin",
    "STATUS_LABELS",
    "STEPS",
    "WorkflowError",
    "collect_decisions",
    "current_model",
    "express_interest",
    "outcomes_by_field",
    "pipeline",
    "propose_for_challenge",
    "record_outcome",
    "record_proposal",
    "save_each",
    "save_proposals",
    "send_to_review",
    "train_ranker",
    "transition",
]
