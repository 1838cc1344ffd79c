"""API routes for needs (challenges): list, read, create, change, delete, and a need's ranked
suggestions. Anonymous callers are the public; the rules live in service.security."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from models.tables import Challenge, Organisation, User
from service import records
from service.api.deps import PUBLIC, CurrentUser, OptionalUser, RuntimeDep, SessionDep, require
from service.api.errors import ERROR_RESPONSES, answered_as_http, get_or_404
from service.api.links import challenge_links
from service.api.types import (
    ChallengeStatus,
    IdPath,
    Limit,
    Name,
    Offset,
    RecordIn,
    Short,
    ShortQuery,
    Tag,
    Theme,
)
from service.matching import suggest
from service.proposals import MARKET_DIALOGUE
from service.records import API_INDEX_WAIT, save_challenge
from service.runtime import Runtime
from service.schemas import (
    ChallengePublic,
    Page,
    SuggestionsPublic,
    challenge_public,
    suggestions_public,
)
from service.security import can_edit_challenge, can_see_challenge, can_see_suggestions

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)


class ChallengeIn(RecordIn):
    """A need, with the same fields and validation as the import format (SPEC §6)."""

    id: Tag | None = None
    organisation: Short | None = None
    title: Name
    deadline: Annotated[str, Field(max_length=10)] | None = None
    status: ChallengeStatus = "open"
    propose: bool = Field(
        default=True,
        description="Send forslag over terskelen rett til vurderingskøen (ellers velger "
        "kommunen selv hvilke som sendes)",
    )


class ChallengeSaved(BaseModel):
    challenge: ChallengePublic
    proposals_created: int
    warnings: list[str]
    notice: str = MARKET_DIALOGUE


def _org_name(session: Session, org_id: int) -> str:
    org = session.get(Organisation, org_id)
    return org.name if org else ""


def _save(
    session: Session, rt: Runtime, user: User, body: ChallengeIn, existing: Challenge | None
) -> ChallengeSaved:
    with answered_as_http():
        saved = save_challenge(
            session,
            rt,
            user,
            body.model_dump(exclude={"propose"}),
            existing,
            propose=body.propose,
            wait=API_INDEX_WAIT,
            new=existing is None,
        )
    ch = saved.challenge
    return ChallengeSaved(
        challenge=challenge_public(ch, _org_name(session, ch.organisation_id)),
        proposals_created=len(saved.proposals),
        warnings=saved.warnings,
    )


def _editable(session: Session, user: User, challenge_id: int, refusal: str) -> Challenge:
    ch = get_or_404(session, Challenge, challenge_id, "behov")
    if not can_edit_challenge(session, user, ch):
        raise HTTPException(403, refusal)
    return ch


@router.get(
    "/challenges", response_model=Page[ChallengePublic], tags=["behov"], openapi_extra=PUBLIC
)
def list_challenges(
    session: SessionDep,
    user: OptionalUser,
    offset: Offset = 0,
    limit: Limit = 20,
    status: Annotated[
        ChallengeStatus | None, Query(description="draft, open eller closed")
    ] = "open",
    theme: Theme | None = None,
    organisation: ShortQuery | None = None,
) -> Page[ChallengePublic]:
    query = select(Challenge, Organisation).join(
        Organisation, col(Organisation.id) == col(Challenge.organisation_id)
    )
    if status:
        query = query.where(Challenge.status == status)
    if organisation:
        query = query.where(Organisation.name == organisation)
    rows = [
        (c, o)
        for c, o in session.exec(query.order_by(col(Challenge.id))).all()
        if can_see_challenge(session, user, c)
    ]
    if theme:
        rows = [r for r in rows if theme in r[0].themes]
    items = [challenge_public(c, o.name) for c, o in rows[offset : offset + limit]]
    return Page(items=items, total=len(rows), offset=offset, limit=limit)


@router.post(
    "/challenges",
    response_model=ChallengeSaved,
    status_code=201,
    tags=["behov"],
    openapi_extra=challenge_links(201),
)
def create_challenge(
    body: ChallengeIn,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("municipal", "admin"))],
) -> ChallengeSaved:
    return _save(session, rt, user, body, None)


@router.get(
    "/challenges/{challenge_id}",
    response_model=ChallengePublic,
    tags=["behov"],
    openapi_extra=PUBLIC,
)
def get_challenge(challenge_id: IdPath, session: SessionDep, user: OptionalUser) -> ChallengePublic:
    ch = get_or_404(
        session, Challenge, challenge_id, "behov", lambda c: can_see_challenge(session, user, c)
    )
    return challenge_public(ch, _org_name(session, ch.organisation_id))


@router.put("/challenges/{challenge_id}", response_model=ChallengeSaved, tags=["behov"])
def update_challenge(
    challenge_id: IdPath, body: ChallengeIn, session: SessionDep, rt: RuntimeDep, user: CurrentUser
) -> ChallengeSaved:
    ch = _editable(
        session, user, challenge_id, "Du kan bare endre behov fra din egen organisasjon."
    )
    body.id = ch.external_id
    return _save(session, rt, user, body, ch)


@router.get(
    "/challenges/{challenge_id}/suggestions", response_model=SuggestionsPublic, tags=["forslag"]
)
def challenge_suggestions(
    challenge_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("municipal", "reviewer", "admin"))],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SuggestionsPublic:
    ch = get_or_404(session, Challenge, challenge_id, "behov")
    if not can_see_suggestions(session, user, ch):
        raise HTTPException(403, "Du ser bare forslag for din egen organisasjons behov.")
    if ch.status != "open":
        raise HTTPException(409, "Behovet er ikke åpent, så det gis ingen forslag.")
    return suggestions_public(ch, suggest(session, rt.store, ch, limit=limit))


@router.delete("/challenges/{challenge_id}", status_code=204, tags=["behov"])
def delete_challenge(
    challenge_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("municipal", "admin"))],
) -> None:
    ch = _editable(
        session, user, challenge_id, "Du kan bare slette behov fra din egen organisasjon."
    )
    with answered_as_http():
        records.delete_challenge(session, rt, ch)
