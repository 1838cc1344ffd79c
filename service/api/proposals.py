"""Routes for proposals, their transitions, interest and the audit log."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from models.tables import Challenge, Entrepreneur, Organisation, Proposal, ReviewEvent, User
from models.vocabulary import REJECTION_REASONS
from service.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    RuntimeDep,
    SessionDep,
    client_address,
    require,
    set_csrf_cookie,
    set_session_cookie,
)
from service.api.errors import ERROR_RESPONSES, answered_as_http, get_or_404
from service.api.types import (
    Email,
    IdPath,
    IdQuery,
    Note,
    Outcome,
    ProposalStatus,
    RejectionReason,
    RowId,
    ShortQuery,
)
from service.proposals import (
    MARKET_DIALOGUE,
    express_interest,
    next_statuses,
    send_to_review,
    transition,
)
from service.schemas import (
    ChallengeRef,
    EntrepreneurRef,
    Page,
    challenge_ref,
    entrepreneur_ref,
    from_row,
)
from service.security import (
    TooManyAttempts,
    can_edit_challenge,
    can_list_proposals,
    can_see_audit_trail,
    can_see_challenge,
    can_see_proposal,
    end_session,
    log_in,
    start_session,
    visible_challenge_ids,
)

router = APIRouter(prefix="/api/v1", tags=["vurdering"], responses=ERROR_RESPONSES)


class ProposalPublic(BaseModel):
    id: int
    challenge: ChallengeRef
    entrepreneur: EntrepreneurRef
    origin: str
    status: str
    score: float
    rank: int | None
    explanation: dict[str, Any]
    ranker_version: str
    next_statuses: list[str]
    created_at: datetime
    updated_at: datetime
    notice: str = MARKET_DIALOGUE


class EventPublic(BaseModel):
    id: int
    proposal_id: int
    actor: str
    action: str
    from_status: str | None
    to_status: str
    reason: str | None
    score: float | None
    ranker_version: str
    explanation: dict[str, Any]
    created_at: datetime


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_status: ProposalStatus
    reason: Note | None = None
    reason_code: RejectionReason | None = None


def _public(session: Session, p: Proposal) -> ProposalPublic:
    ch = session.get(Challenge, p.challenge_id)
    ent = session.get(Entrepreneur, p.entrepreneur_id)
    # Both always exist: an erased entrepreneur keeps an emptied row for its proposals.
    assert ch is not None and ent is not None
    return from_row(
        ProposalPublic,
        p,
        id=p.id or 0,
        challenge=challenge_ref(ch),
        entrepreneur=entrepreneur_ref(ent),
        next_statuses=next_statuses(session, p),
    )


def _event(e: ReviewEvent) -> EventPublic:
    return from_row(EventPublic, e, id=e.id or 0)


def _get(session: Session, user: User, proposal_id: int) -> Proposal:
    return get_or_404(
        session, Proposal, proposal_id, "forslag", lambda p: can_see_proposal(session, user, p)
    )


@router.get("/proposals", response_model=Page[ProposalPublic])
def list_proposals(
    session: SessionDep,
    user: CurrentUser,
    status: ProposalStatus | None = None,
    challenge_id: IdQuery | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Page[ProposalPublic]:
    if not can_list_proposals(user):
        raise HTTPException(403, "Rollen din har ikke tilgang til forslag.")
    query = select(Proposal).order_by(col(Proposal.id))
    if status:
        query = query.where(Proposal.status == status)
    if challenge_id is not None:
        query = query.where(Proposal.challenge_id == challenge_id)
    rows = [p for p in session.exec(query) if can_see_proposal(session, user, p)]
    return Page(
        items=[_public(session, p) for p in rows[offset : offset + limit]],
        total=len(rows),
        offset=offset,
        limit=limit,
    )


@router.get("/proposals/{proposal_id}", response_model=ProposalPublic)
def get_proposal(proposal_id: IdPath, session: SessionDep, user: CurrentUser) -> ProposalPublic:
    return _public(session, _get(session, user, proposal_id))


@router.post("/proposals/{proposal_id}/transition", response_model=ProposalPublic)
def change_status(
    proposal_id: IdPath,
    body: TransitionIn,
    session: SessionDep,
    user: Annotated[User, Depends(require("reviewer"))],
) -> ProposalPublic:
    p = _get(session, user, proposal_id)
    with answered_as_http():
        transition(
            session, p, body.to_status, actor=user, reason=body.reason, reason_code=body.reason_code
        )
    return _public(session, p)


@router.get("/proposals/{proposal_id}/events", response_model=list[EventPublic])
def proposal_events(
    proposal_id: IdPath, session: SessionDep, user: CurrentUser
) -> list[EventPublic]:
    p = _get(session, user, proposal_id)
    if not can_see_audit_trail(user):
        raise HTTPException(403, "Revisjonsloggen er for saksbehandlere og kommunen.")
    rows = session.exec(
        select(ReviewEvent).where(ReviewEvent.proposal_id == p.id).order_by(col(ReviewEvent.id))
    )
    return [_event(e) for e in rows]


@router.get("/audit", response_model=Page[EventPublic])
def audit_log(
    session: SessionDep,
    user: Annotated[User, Depends(require("reviewer", "admin"))],
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Page[EventPublic]:
    rows = session.exec(select(ReviewEvent).order_by(col(ReviewEvent.id))).all()
    return Page(
        items=[_event(e) for e in rows[offset : offset + limit]],
        total=len(rows),
        offset=offset,
        limit=limit,
    )


@router.get("/rejection-reasons")
def rejection_reasons() -> dict[str, str]:
    return dict(REJECTION_REASONS)


@router.post("/challenges/{challenge_id}/interest", response_model=ProposalPublic, status_code=201)
def interest(
    challenge_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("entrepreneur"))],
) -> ProposalPublic:
    ch = get_or_404(session, Challenge, challenge_id, "åpent behov", lambda c: c.status == "open")
    with answered_as_http():
        p = express_interest(session, rt.store, user, ch)
    return _public(session, p)


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entrepreneur_ids: list[RowId] = Field(min_length=1, max_length=50)


@router.post(
    "/challenges/{challenge_id}/proposals", response_model=list[ProposalPublic], status_code=201
)
def send_suggestions_to_review(
    challenge_id: IdPath,
    body: SendIn,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("municipal", "admin"))],
) -> list[ProposalPublic]:
    """Pass chosen suggestions on to the review queue (origin ``staff``); pairs that already
    have a proposal are left as they are."""
    ch = get_or_404(
        session, Challenge, challenge_id, "behov", lambda c: can_see_challenge(session, user, c)
    )
    if not can_edit_challenge(session, user, ch):
        raise HTTPException(403, "Du kan bare sende forslag for din egen organisasjons behov.")
    with answered_as_http():
        created = send_to_review(session, rt.store, user, ch, body.entrepreneur_ids)
    return [_public(session, p) for p in created]


# -- pipeline and outcomes ----------------------------------------------------------------


def _visible_challenges(
    session: Session, user: User, organisation: str | None, challenge_id: int | None
) -> set[int] | None:
    ids = visible_challenge_ids(session, user)
    if organisation:
        org = session.exec(select(Organisation).where(Organisation.name == organisation)).first()
        if org is None:
            raise HTTPException(404, f"Fant ikke organisasjonen «{organisation}».")
        mine = {
            c.id
            for c in session.exec(select(Challenge).where(Challenge.organisation_id == org.id))
            if c.id is not None
        }
        ids = mine if ids is None else ids & mine
    if challenge_id is not None:
        ids = {challenge_id} if ids is None else ids & {challenge_id}
    return ids


@router.get("/pipeline")
def pipeline_view(
    session: SessionDep,
    user: Annotated[User, Depends(require("reviewer", "admin", "municipal"))],
    organisation: ShortQuery | None = None,
    challenge_id: IdQuery | None = None,
) -> dict[str, Any]:
    """How many proposals are in each status, how long each step took (median days), and
    each proposal's dated timeline, per challenge or organisation."""
    from service.proposals import pipeline

    return pipeline(session, _visible_challenges(session, user, organisation, challenge_id))


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Outcome
    note: Note | None = None


@router.post("/proposals/{proposal_id}/outcome", response_model=ProposalPublic)
def set_outcome(
    proposal_id: IdPath,
    body: OutcomeIn,
    session: SessionDep,
    user: Annotated[User, Depends(require("reviewer"))],
) -> ProposalPublic:
    from service.proposals import record_outcome

    p = _get(session, user, proposal_id)
    with answered_as_http():
        record_outcome(session, p, body.outcome, actor=user, note=body.note)
    return _public(session, p)


@router.get("/outcomes")
def outcomes(
    session: SessionDep,
    user: Annotated[User, Depends(require("reviewer", "admin", "municipal"))],
    organisation: ShortQuery | None = None,
) -> dict[str, dict[str, int]]:
    """Outcomes (pilot, contract, nothing) per field."""
    from service.proposals import outcomes_by_field

    return outcomes_by_field(session, _visible_challenges(session, user, organisation, None))


# -- web session ------------------------------------------------------------------------------


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Annotated[str, Field(max_length=200)]


@router.post("/session", tags=["innlogging"])
def login(
    body: LoginIn, request: Request, session: SessionDep, response: Response
) -> dict[str, str]:
    """Log in with e-mail and password: sets an HttpOnly session cookie (a token stored
    hashed, like API tokens) and a CSRF cookie whose value must accompany changes. Repeated
    failures are throttled (429 with Retry-After)."""
    try:
        user = log_in(session, body.email, body.password, client_address(request))
    except TooManyAttempts as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from exc
    except PermissionError as exc:
        raise HTTPException(401, str(exc)) from exc
    token = start_session(session, user)
    csrf = secrets.token_urlsafe(24)
    set_session_cookie(response, token)
    set_csrf_cookie(response, csrf)
    return {"role": user.role, "email": user.email, "csrf_token": csrf}


@router.delete("/session", status_code=204, tags=["innlogging"])
def logout(request: Request, session: SessionDep, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(session, token)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
