"""Routes for challenges, entrepreneurs, suggestions, search. Authorisation on every route:
anonymous callers are the public; rules live in service.security."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.importing import ImportValidationError
from models.tables import Challenge, Contact, Entrepreneur, Organisation, User
from service import organisations
from service.api.deps import CurrentUser, OptionalUser, RuntimeDep, SessionDep, require
from service.api.errors import (
    ERROR_RESPONSES,
    MAX_ID,
    PUBLIC,
    ChallengeStatus,
    Description,
    Email,
    IdPath,
    Language,
    Name,
    OrganisationKind,
    Short,
    ShortQuery,
    Stage,
    Tag,
    Tags,
    Theme,
    Themes,
)
from service.api.links import (
    challenge_links,
    contact_links,
    entrepreneur_links,
    organisation_links,
)
from service.conflicts import Conflict
from service.matching import (
    CHALLENGES,
    ENTREPRENEURS,
    discover,
    search_text,
    suggest,
)
from service.records import API_INDEX_WAIT, NotAllowed, save_challenge, save_entrepreneur
from service.schemas import (
    ChallengePublic,
    ContactPublic,
    DiscoveriesPublic,
    EntrepreneurPublic,
    Page,
    SuggestionsPublic,
    challenge_public,
    contact_public,
    discoveries_public,
    entrepreneur_public,
    suggestions_public,
)
from service.security import STAFF, can_edit_challenge, can_see_challenge
from service.workflow import MARKET_DIALOGUE

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)

Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Hopp over så mange treff")]
Limit = Annotated[int, Query(ge=1, le=100, description="Antall treff per side")]


def _org_name(session: Session, org_id: int) -> str:
    org = session.get(Organisation, org_id)
    return org.name if org else ""


def _validation_error(exc: ImportValidationError) -> HTTPException:
    return HTTPException(422, [{"felt": e.field, "feil": e.reason} for e in exc.errors])


# -- challenges ------------------------------------------------------------------------------


class ChallengeIn(BaseModel):
    """A need, with the same fields and validation as the import format (SPEC §6)."""

    model_config = ConfigDict(extra="forbid")

    id: Tag | None = None
    organisation: Short | None = None
    title: Name
    description: Description
    themes: Themes
    language: Language = "nb"
    target_groups: Tags = []
    contact_name: Short | None = None
    contact_email: Email | None = None
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


def _save_challenge(
    session: Session, rt: Any, user: User, body: ChallengeIn, existing: Challenge | None
) -> ChallengeSaved:
    data = body.model_dump(exclude={"propose"})
    try:
        saved = save_challenge(
            session,
            rt,
            user,
            data,
            existing,
            propose=body.propose,
            wait=API_INDEX_WAIT,
            new=existing is None,
        )
    except ImportValidationError as exc:
        raise _validation_error(exc) from exc
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from exc
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    ch = saved.challenge
    return ChallengeSaved(
        challenge=challenge_public(ch, _org_name(session, ch.organisation_id)),
        proposals_created=len(saved.proposals),
        warnings=saved.warnings,
    )


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
    return _save_challenge(session, rt, user, body, None)


@router.get(
    "/challenges/{challenge_id}",
    response_model=ChallengePublic,
    tags=["behov"],
    openapi_extra=PUBLIC,
)
def get_challenge(challenge_id: IdPath, session: SessionDep, user: OptionalUser) -> ChallengePublic:
    ch = session.get(Challenge, challenge_id)
    if ch is None or not can_see_challenge(session, user, ch):
        raise HTTPException(404, f"Fant ikke behov {challenge_id}.")
    return challenge_public(ch, _org_name(session, ch.organisation_id))


@router.put("/challenges/{challenge_id}", response_model=ChallengeSaved, tags=["behov"])
def update_challenge(
    challenge_id: IdPath, body: ChallengeIn, session: SessionDep, rt: RuntimeDep, user: CurrentUser
) -> ChallengeSaved:
    ch = session.get(Challenge, challenge_id)
    if ch is None:
        raise HTTPException(404, f"Fant ikke behov {challenge_id}.")
    if not can_edit_challenge(session, user, ch):
        raise HTTPException(403, "Du kan bare endre behov fra din egen organisasjon.")
    body.id = ch.external_id
    return _save_challenge(session, rt, user, body, ch)


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
    ch = session.get(Challenge, challenge_id)
    if ch is None:
        raise HTTPException(404, f"Fant ikke behov {challenge_id}.")
    if user.role == "municipal" and not can_edit_challenge(session, user, ch):
        raise HTTPException(403, "Du ser bare forslag for din egen organisasjons behov.")
    if ch.status != "open":
        raise HTTPException(409, "Behovet er ikke åpent, så det gis ingen forslag.")
    return suggestions_public(ch, suggest(session, rt.store, ch, limit=limit))


# -- entrepreneurs ---------------------------------------------------------------------------


class EntrepreneurPrivate(EntrepreneurPublic):
    contact: ContactPublic | None


class EntrepreneurIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    org_nr: Annotated[str, Field(min_length=1, max_length=20)]
    description: Description
    themes: Themes
    service_areas: Tags
    language: Language = "nb"
    target_groups: Tags = []
    stage: Stage | None = None
    capacity: Annotated[int, Field(ge=0, le=100_000)] | None = None
    website: Annotated[str, Field(max_length=300)] | None = None
    contact_name: Short | None = None
    contact_email: Email | None = None


def live_entrepreneur(session: Session, entrepreneur_id: int) -> Entrepreneur:
    """The entrepreneur with this id, or 404 (also for one whose data was erased)."""
    ent = session.get(Entrepreneur, entrepreneur_id)
    if ent is None or ent.erased_at is not None:
        raise HTTPException(404, f"Fant ikke entreprenør {entrepreneur_id}.")
    return ent


def _may_see_contact(user: User | None, ent: Entrepreneur) -> bool:
    if user is None:
        return False
    return user.role in STAFF or (user.role == "entrepreneur" and user.entrepreneur_id == ent.id)


def _private(session: Session, ent: Entrepreneur) -> EntrepreneurPrivate:
    contact = session.get(Contact, ent.contact_id) if ent.contact_id else None
    return EntrepreneurPrivate(
        **entrepreneur_public(ent).model_dump(),
        contact=contact_public(contact) if contact else None,
    )


@router.get("/entrepreneurs", response_model=Page[EntrepreneurPublic], tags=["entreprenører"])
def list_entrepreneurs(
    session: SessionDep,
    offset: Offset = 0,
    limit: Limit = 20,
    theme: Theme | None = None,
    area: ShortQuery | None = None,
) -> Page[EntrepreneurPublic]:
    rows = session.exec(
        select(Entrepreneur)
        .where(col(Entrepreneur.erased_at).is_(None))
        .order_by(col(Entrepreneur.id))
    ).all()
    if theme:
        rows = [e for e in rows if theme in e.themes]
    if area:
        rows = [e for e in rows if area in e.service_areas]
    items = [entrepreneur_public(e) for e in rows[offset : offset + limit]]
    return Page(items=items, total=len(rows), offset=offset, limit=limit)


@router.get(
    "/entrepreneurs/{entrepreneur_id}",
    tags=["entreprenører"],
    response_model=EntrepreneurPrivate | EntrepreneurPublic,
    openapi_extra=PUBLIC,
)
def get_entrepreneur(
    entrepreneur_id: IdPath, session: SessionDep, user: OptionalUser
) -> EntrepreneurPublic:
    ent = live_entrepreneur(session, entrepreneur_id)
    return _private(session, ent) if _may_see_contact(user, ent) else entrepreneur_public(ent)


def _upsert_entrepreneur(
    session: Session, rt: Any, body: EntrepreneurIn, ext: str, *, new: bool = False
) -> Entrepreneur:
    try:
        ent, _advice = save_entrepreneur(
            session, rt, body.model_dump(), ext, wait=API_INDEX_WAIT, new=new
        )
    except ImportValidationError as exc:
        raise _validation_error(exc) from exc
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    return ent


@router.post(
    "/entrepreneurs",
    response_model=EntrepreneurPrivate,
    status_code=201,
    tags=["entreprenører"],
    openapi_extra=entrepreneur_links(201),
)
def create_entrepreneur(
    body: EntrepreneurIn,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("admin"))],
    external_id: Annotated[str | None, Query(max_length=100)] = None,
) -> EntrepreneurPrivate:
    ext = external_id or f"se-{body.org_nr}"
    return _private(session, _upsert_entrepreneur(session, rt, body, ext, new=True))


@router.put(
    "/entrepreneurs/{entrepreneur_id}", response_model=EntrepreneurPrivate, tags=["entreprenører"]
)
def update_entrepreneur(
    entrepreneur_id: IdPath,
    body: EntrepreneurIn,
    session: SessionDep,
    rt: RuntimeDep,
    user: CurrentUser,
) -> EntrepreneurPrivate:
    ent = live_entrepreneur(session, entrepreneur_id)
    if not (
        user.role == "admin" or (user.role == "entrepreneur" and user.entrepreneur_id == ent.id)
    ):
        raise HTTPException(403, "Du kan bare endre din egen profil.")
    return _private(session, _upsert_entrepreneur(session, rt, body, ent.external_id))


@router.get(
    "/entrepreneurs/{entrepreneur_id}/challenges",
    response_model=DiscoveriesPublic,
    tags=["forslag"],
)
def entrepreneur_challenges(
    entrepreneur_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> DiscoveriesPublic:
    ent = live_entrepreneur(session, entrepreneur_id)
    if user.role == "entrepreneur" and user.entrepreneur_id != ent.id:
        raise HTTPException(403, "Du ser bare behov som passer din egen profil.")
    return discoveries_public(session, ent, discover(session, rt.store, ent, limit=limit))


# -- organisations, contacts ------------------------------------------------------------------


class OrganisationPublic(BaseModel):
    id: int
    name: str
    kind: str
    parent: str | None
    kommunenummer: str | None
    contacts: list[ContactPublic]


@router.get(
    "/organisations",
    response_model=list[OrganisationPublic],
    tags=["organisasjoner"],
    openapi_extra={**PUBLIC, **organisation_links(200, "/0")},
)
def list_organisations(session: SessionDep, user: OptionalUser) -> list[OrganisationPublic]:
    """Organisations and their contact persons per field (public contacts for everyone, all
    contacts for staff)."""
    orgs = session.exec(select(Organisation).order_by(col(Organisation.name))).all()
    names = {o.id: o.name for o in orgs}
    staff = user is not None and user.role in STAFF
    out = []
    for o in orgs:
        contacts = session.exec(select(Contact).where(Contact.organisation_id == o.id)).all()
        out.append(
            OrganisationPublic(
                id=o.id or 0,
                name=o.name,
                kind=o.kind,
                parent=names.get(o.parent_id) if o.parent_id else None,
                kommunenummer=o.kommunenummer,
                contacts=[contact_public(c) for c in contacts if staff or c.public],
            )
        )
    return out


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation: Name
    name: Name
    role: Short | None = None
    fields: Themes = []
    email: Email | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    public: bool = False
    away: bool = False
    deputy_email: Email | None = None


class ContactSaved(ContactPublic):
    id: int
    organisation: str
    public: bool
    away: bool
    deputy: str | None


def _refused(exc: Exception) -> HTTPException:
    """A refusal from service.organisations as the documented error answer."""
    if isinstance(exc, ImportValidationError):
        return _validation_error(exc)
    status = {NotAllowed: 403, Conflict: 409}[type(exc)]
    return HTTPException(status, str(exc))


REFUSALS = (ImportValidationError, NotAllowed, Conflict)


def _contact_saved(session: Session, contact: Contact) -> ContactSaved:
    org = session.get(Organisation, contact.organisation_id) if contact.organisation_id else None
    deputy = session.get(Contact, contact.deputy_id) if contact.deputy_id else None
    return ContactSaved(
        **contact_public(contact).model_dump(),
        id=contact.id or 0,
        organisation=org.name if org else "",
        public=contact.public,
        away=contact.away,
        deputy=deputy.email if deputy else None,
    )


def _organisation_contact(session: Session, contact_id: int) -> Contact:
    """A contact person of an organisation (an entrepreneur's contact is not one), or 404."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.organisation_id is None:
        raise HTTPException(404, f"Fant ikke kontaktperson {contact_id}.")
    return contact


@router.post(
    "/contacts",
    response_model=ContactSaved,
    status_code=201,
    tags=["organisasjoner"],
    openapi_extra=contact_links(201),
)
def create_contact(
    body: ContactIn,
    session: SessionDep,
    user: Annotated[User, Depends(require("municipal", "admin"))],
) -> ContactSaved:
    """A contact person in an organisation that exists; as with an import row, one with the
    same e-mail (without e-mail: the same name) in that organisation is updated instead."""
    try:
        contact = organisations.save_contact(session, user, body.model_dump())
    except REFUSALS as exc:
        raise _refused(exc) from exc
    return _contact_saved(session, contact)


@router.put(
    "/contacts/{contact_id}",
    response_model=ContactSaved,
    tags=["organisasjoner"],
    openapi_extra=contact_links(200),
)
def update_contact(
    contact_id: IdPath,
    body: ContactIn,
    session: SessionDep,
    user: Annotated[User, Depends(require("municipal", "admin"))],
) -> ContactSaved:
    contact = _organisation_contact(session, contact_id)
    try:
        contact = organisations.save_contact(session, user, body.model_dump(), contact)
    except REFUSALS as exc:
        raise _refused(exc) from exc
    return _contact_saved(session, contact)


@router.delete("/contacts/{contact_id}", status_code=204, tags=["organisasjoner"])
def delete_contact(
    contact_id: IdPath,
    session: SessionDep,
    user: Annotated[User, Depends(require("municipal", "admin"))],
) -> None:
    try:
        organisations.delete_contact(session, user, _organisation_contact(session, contact_id))
    except REFUSALS as exc:
        raise _refused(exc) from exc


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    kind: OrganisationKind | None = None
    parent: Short | None = None
    kommunenummer: Annotated[str, Field(pattern=r"^[0-9]{4}$")] | None = None


def _organisation_public(session: Session, o: Organisation) -> OrganisationPublic:
    parent = session.get(Organisation, o.parent_id) if o.parent_id else None
    return OrganisationPublic(
        id=o.id or 0,
        name=o.name,
        kind=o.kind,
        parent=parent.name if parent else None,
        kommunenummer=o.kommunenummer,
        contacts=[],
    )


@router.post(
    "/organisations",
    response_model=OrganisationPublic,
    status_code=201,
    tags=["organisasjoner"],
    openapi_extra=organisation_links(201, ""),
)
def create_organisation(
    body: OrganisationIn, session: SessionDep, user: Annotated[User, Depends(require("admin"))]
) -> OrganisationPublic:
    try:
        org = organisations.create_organisation(session, **body.model_dump())
    except REFUSALS as exc:
        raise _refused(exc) from exc
    return _organisation_public(session, org)


@router.put(
    "/organisations/{organisation_id}",
    response_model=OrganisationPublic,
    tags=["organisasjoner"],
    openapi_extra=organisation_links(200, ""),
)
def update_organisation(
    organisation_id: IdPath,
    body: OrganisationIn,
    session: SessionDep,
    user: Annotated[User, Depends(require("admin"))],
) -> OrganisationPublic:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise HTTPException(404, f"Fant ikke organisasjon {organisation_id}.")
    try:
        organisations.update_organisation(session, org, **body.model_dump())
    except REFUSALS as exc:
        raise _refused(exc) from exc
    return _organisation_public(session, org)


def _delete_unreferenced(session: Session, rt: Any, row: Any, refs: list[Any], why: str) -> None:
    """Delete ``row`` only if nothing refers to it: the audit trail must stay whole."""
    if any(session.exec(q).first() is not None for q in refs):
        raise HTTPException(409, why)
    session.delete(row)
    session.commit()
    rt.indexer.wait(rt.indexer.request(), API_INDEX_WAIT)


@router.delete("/challenges/{challenge_id}", status_code=204, tags=["behov"])
def delete_challenge(
    challenge_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("municipal", "admin"))],
) -> None:
    from models.tables import Proposal

    ch = session.get(Challenge, challenge_id)
    if ch is None:
        raise HTTPException(404, f"Fant ikke behov {challenge_id}.")
    if not can_edit_challenge(session, user, ch):
        raise HTTPException(403, "Du kan bare slette behov fra din egen organisasjon.")
    _delete_unreferenced(
        session,
        rt,
        ch,
        [select(Proposal).where(Proposal.challenge_id == ch.id)],
        "Behovet har forslag og en revisjonslogg; lukk det "
        "(status «closed») i stedet for å slette det.",
    )


@router.delete("/entrepreneurs/{entrepreneur_id}", status_code=204, tags=["entreprenører"])
def delete_entrepreneur(
    entrepreneur_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("admin"))],
) -> None:
    from models.tables import Proposal

    ent = live_entrepreneur(session, entrepreneur_id)
    _delete_unreferenced(
        session,
        rt,
        ent,
        [
            select(Proposal).where(Proposal.entrepreneur_id == ent.id),
            select(User).where(User.entrepreneur_id == ent.id),
        ],
        "Entreprenøren har forslag eller brukere knyttet til seg; sletting av personopplysninger "
        "må skje slik at revisjonsloggen beholdes (pseudonymisering).",
    )


@router.delete("/organisations/{organisation_id}", status_code=204, tags=["organisasjoner"])
def delete_organisation(
    organisation_id: IdPath,
    session: SessionDep,
    user: Annotated[User, Depends(require("admin"))],
) -> None:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise HTTPException(404, f"Fant ikke organisasjon {organisation_id}.")
    try:
        organisations.delete_organisation(session, org)
    except REFUSALS as exc:
        raise _refused(exc) from exc


# -- search ----------------------------------------------------------------------------------


class SearchHit(BaseModel):
    id: int
    external_id: str
    title: str
    score: float


@router.get("/search", response_model=list[SearchHit], tags=["søk"], openapi_extra=PUBLIC)
def search(
    session: SessionDep,
    rt: RuntimeDep,
    user: OptionalUser,
    q: Annotated[str, Query(min_length=2, max_length=500, description="Fritekst")],
    kind: Annotated[str, Query(pattern="^(entrepreneurs|challenges)$")] = "challenges",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[SearchHit]:
    """Free text -> ranked entrepreneurs (staff) or open challenges (everyone). The text is
    embedded once; the rest is the hybrid retrieval of the matcher."""
    if kind == "entrepreneurs" and (user is None or user.role not in STAFF):
        raise HTTPException(
            403 if user else 401, "Søk i entreprenører krever innlogging som ansatt."
        )
    name = ENTREPRENEURS if kind == "entrepreneurs" else CHALLENGES
    found = search_text(session, rt.store, name, q, limit)
    wanted = [i for i, _ in found]
    rows: dict[int, tuple[str, str]] = {}
    if kind == "entrepreneurs":
        for e in session.exec(select(Entrepreneur).where(col(Entrepreneur.id).in_(wanted))):
            rows[e.id or 0] = (e.external_id, e.name)
    else:
        for c in session.exec(select(Challenge).where(col(Challenge.id).in_(wanted))):
            rows[c.id or 0] = (c.external_id, c.title)
    return [
        SearchHit(id=i, external_id=rows[i][0], title=rows[i][1], score=round(score, 4))
        for i, score in found
        if i in rows
    ]


@router.get("/stats", tags=["drift"])
def stats(
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, Depends(require("admin", "reviewer"))],
) -> dict[str, object]:
    count = session.exec(select(func.count()).select_from(Entrepreneur)).one()
    open_count = session.exec(
        select(func.count()).select_from(Challenge).where(Challenge.status == "open")
    ).one()
    return {"entrepreneurs": count, "open_challenges": open_count, "index": rt.store.manifests()}
