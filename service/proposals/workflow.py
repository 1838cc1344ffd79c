"""The review workflow: proposals from the ranking layer, interest, decisions, audit log.

Status flow (SPEC §5): proposed -> approved | rejected; approved -> contacted -> in_dialogue ->
agreement | closed. Every transition appends a ReviewEvent carrying who, when, from, to, why,
and the score, explanation and ranker version that were shown when the decision was made.
A transition is applied with a conditional UPDATE (``WHERE status = <from>``), so of two
reviewers deciding the same proposal at once exactly one wins; the other gets a conflict.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from matcher.ranking import RANKER_VERSION
from models.tables import Challenge, Entrepreneur, Proposal, ReviewEvent, User
from models.vocabulary import PROPOSAL_TRANSITIONS, REJECTION_REASONS
from service.mail import enqueue_handoff
from service.matching import score_pair, suggest
from service.proposals.saving import Origin, record_proposal, save_proposals
from service.search import IndexStore

MARKET_DIALOGUE = (
    "Dette er markedsdialog, ikke tildeling av kontrakt. Et forslag gir ingen rett til "
    "oppdrag, og eventuelle kjøp skjer etter regelverket for offentlige anskaffelser."
)

STATUS_LABELS = {
    "proposed": "foreslått",
    "approved": "godkjent",
    "rejected": "avvist",
    "contacted": "kontaktet",
    "in_dialogue": "i dialog",
    "agreement": "avtale",
    "closed": "avsluttet",
}


class WorkflowError(Exception):
    """A request the workflow refuses; ``status`` is the HTTP code a route should use."""

    status = 400


class IllegalTransition(WorkflowError):
    status = 409


class MissingReason(WorkflowError):
    status = 422


def _check_transition(
    from_status: str, to_status: str, reason: str | None, reason_code: str | None
) -> None:
    """Refuse a move the workflow does not allow, or a rejection without its reason."""
    allowed = PROPOSAL_TRANSITIONS.get(from_status, ())
    if to_status not in allowed:
        nexts = ", ".join(STATUS_LABELS[s] for s in allowed) or "ingen (sluttstatus)"
        raise IllegalTransition(
            f"Kan ikke gå fra «{STATUS_LABELS.get(from_status, from_status)}» til "
            f"«{STATUS_LABELS.get(to_status, to_status)}». Neste mulige: {nexts}."
        )
    if to_status == "rejected":
        if reason_code not in REJECTION_REASONS:
            raise MissingReason(
                "Velg en begrunnelse for avvisningen: "
                + ", ".join(f"{k} ({v})" for k, v in REJECTION_REASONS.items())
                + "."
            )
        if reason_code == "annet" and not (reason or "").strip():
            raise MissingReason("Skriv en begrunnelse når du velger «Annet».")


ERASED_PARTY = (
    "Entreprenøren er slettet etter krav om personvern, så forslaget kan ikke føres videre. "
    "Et forslag som ikke er vurdert ennå, kan avvises."
)


def next_statuses(session: Session, proposal: Proposal) -> list[str]:
    """The statuses ``proposal`` may move to now. A proposal for an erased entrepreneur (the
    emptied row that keeps the audit log whole) can only be rejected: there is nobody to
    introduce, contact or agree with."""
    allowed = list(PROPOSAL_TRANSITIONS.get(proposal.status, ()))
    ent = session.get(Entrepreneur, proposal.entrepreneur_id)
    if ent is None or ent.erased_at is not None:
        return [s for s in allowed if s == "rejected"]
    return allowed


def transition(
    session: Session,
    proposal: Proposal,
    to_status: str,
    *,
    actor: User,
    reason: str | None = None,
    reason_code: str | None = None,
) -> Proposal:
    """Move ``proposal`` to ``to_status``, log it and commit; raises IllegalTransition or
    MissingReason (nothing is written then)."""
    from_status = proposal.status
    _check_transition(from_status, to_status, reason, reason_code)
    if to_status not in next_statuses(session, proposal):
        raise IllegalTransition(ERASED_PARTY)
    now = datetime.now(UTC)
    updated = session.execute(
        sa.update(Proposal)
        .where(col(Proposal.id) == proposal.id, col(Proposal.status) == from_status)
        .values(status=to_status, updated_at=now)
    )
    if updated.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise IllegalTransition(
            "Forslaget ble endret av noen andre samtidig. Last siden på "
            "nytt og se gjeldende status."
        )
    text = reason.strip() if reason else None
    if reason_code:
        text = f"{REJECTION_REASONS[reason_code]}" + (f": {text}" if text else "")
    session.add(
        ReviewEvent(
            proposal_id=proposal.id or 0,
            actor=actor.email,
            action=f"status:{to_status}",
            from_status=from_status,
            to_status=to_status,
            reason=text,
            score=proposal.score,
            explanation=proposal.explanation,
            ranker_version=proposal.ranker_version,
        )
    )
    if to_status == "approved":
        # Same transaction as the decision: no approval without its introduction mail.
        enqueue_handoff(session, proposal)
    session.commit()
    session.refresh(proposal)
    return proposal


def propose_for_challenge(
    session: Session, store: IndexStore, challenge: Challenge, *, limit: int = 10
) -> list[Proposal]:
    """System proposals for an open challenge (called when it is posted or updated)."""
    if challenge.status != "open":
        return []
    return save_proposals(session, challenge, suggest(session, store, challenge, limit=limit))


def _scored_proposal(
    session: Session, store: IndexStore, challenge: Challenge, ent: Entrepreneur, by: Origin
) -> Proposal:
    """A new proposal for one given pair, scored and explained like a system proposal, and
    its first line in the audit log."""
    s = score_pair(session, store, challenge, ent)
    version = s.explanation.get("scorer", RANKER_VERSION)
    return record_proposal(session, challenge, s, by, ranker_version=version)


def express_interest(
    session: Session, store: IndexStore, user: User, challenge: Challenge
) -> Proposal:
    """An entrepreneur's interest in an open challenge becomes a proposal (origin
    ``entrepreneur``) with the same explanation a system proposal would carry; committed."""
    if challenge.status != "open":
        raise IllegalTransition("Behovet er ikke åpent lenger.")
    ent = session.get(Entrepreneur, user.entrepreneur_id) if user.entrepreneur_id else None
    if ent is None:
        raise WorkflowError("Brukeren er ikke knyttet til en entreprenørprofil.")
    existing = session.exec(
        select(Proposal).where(
            Proposal.challenge_id == challenge.id, Proposal.entrepreneur_id == ent.id
        )
    ).first()
    if existing is not None:
        return existing
    by = Origin("entrepreneur", user.email, "interest", "Entreprenøren meldte interesse.")
    proposal = _scored_proposal(session, store, challenge, ent, by)
    session.commit()
    return proposal


def send_to_review(
    session: Session,
    store: IndexStore,
    user: User,
    challenge: Challenge,
    entrepreneur_ids: list[int],
) -> list[Proposal]:
    """Municipal staff pass chosen suggestions on to the review queue (origin ``staff``).

    Each proposal carries the same score and explanation the staff member saw; pairs that
    already have a proposal are left alone (a decision already taken is never overwritten)."""
    if challenge.status != "open":
        raise IllegalTransition("Behovet er ikke åpent, så det kan ikke sendes forslag.")
    existing = set(
        session.exec(
            select(Proposal.entrepreneur_id).where(Proposal.challenge_id == challenge.id)
        ).all()
    )
    by = Origin("staff", user.email, "propose", "Sendt til vurdering av kommunen.")
    created = []
    for eid in dict.fromkeys(entrepreneur_ids):
        ent = session.get(Entrepreneur, eid)
        if ent is None:
            raise WorkflowError(f"Fant ikke entreprenør {eid}.")
        if eid not in existing:
            created.append(_scored_proposal(session, store, challenge, ent, by))
    session.commit()
    return created
