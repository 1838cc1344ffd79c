"""Public response models: what the API and the CLI's JSON output show (never table models)."""

from __future__ import annotations

from datetime import date
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from models.tables import Challenge, Contact, Entrepreneur, Organisation
from service.matching import MatchResult

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class EntrepreneurRef(BaseModel):
    id: int
    external_id: str
    name: str


class ChallengeRef(BaseModel):
    id: int
    external_id: str
    title: str


class ContactPublic(BaseModel):
    name: str
    role: str | None
    fields: list[str]
    email: str | None
    phone: str | None


class EntrepreneurPublic(EntrepreneurRef):
    org_nr: str
    description: str
    themes: list[str]
    service_areas: list[str]
    target_groups: list[str]
    language: str
    stage: str | None
    capacity: int | None
    website: str | None


# A profile with its contact person, for staff and the entrepreneur's own users (no
# docstrings on these: they would become descriptions in the OpenAPI schema).
class EntrepreneurPrivate(EntrepreneurPublic):
    contact: ContactPublic | None


class ContactSaved(ContactPublic):
    id: int
    organisation: str
    public: bool
    away: bool
    deputy: str | None


class OrganisationPublic(BaseModel):
    id: int
    name: str
    kind: str
    parent: str | None
    kommunenummer: str | None
    contacts: list[ContactPublic]


class ChallengePublic(ChallengeRef):
    organisation: str
    description: str
    themes: list[str]
    target_groups: list[str]
    language: str
    status: str
    deadline: date | None


class Confidence(BaseModel):
    """How sure a suggestion is (``matcher.confidence``): a calibrated probability that a
    reviewer finds it a good match, and its label as the pages show it."""

    level: Literal["sterkt", "mulig", "svakt"]
    label: str
    probability: float


class SuggestionPublic(BaseModel):
    entrepreneur: EntrepreneurRef
    score: float
    rank: int
    confidence: Confidence
    explanation: dict[str, Any]


class SuggestionsPublic(BaseModel):
    challenge: ChallengeRef
    ranker_version: str
    suggestions: list[SuggestionPublic]
    message: str | None = None


class DiscoveryPublic(BaseModel):
    challenge: ChallengeRef
    organisation: str
    score: float
    rank: int
    confidence: Confidence
    explanation: dict[str, Any]
    contacts: list[ContactPublic]


class DiscoveriesPublic(BaseModel):
    entrepreneur: EntrepreneurRef
    ranker_version: str
    challenges: list[DiscoveryPublic]
    message: str | None = None


NO_MATCH = "Ingen gode treff ennå."


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


def from_row(model: type[M], row: object, **given: Any) -> M:
    """``model`` as a view of a table row: each field not ``given`` is the row's attribute of
    the same name; ``given`` holds the rest (renamed columns, related rows, ``id=row.id or
    0``). A field the row has no attribute for must be given or have a default."""
    copied = {
        name: getattr(row, name)
        for name in model.model_fields
        if name not in given and hasattr(row, name)
    }
    return model(**copied, **given)


def entrepreneur_ref(e: Entrepreneur) -> EntrepreneurRef:
    return EntrepreneurRef(id=e.id or 0, external_id=e.external_id, name=e.name)


def challenge_ref(c: Challenge) -> ChallengeRef:
    return ChallengeRef(id=c.id or 0, external_id=c.external_id, title=c.title)


def contact_public(c: Contact) -> ContactPublic:
    return from_row(ContactPublic, c)


def entrepreneur_public(e: Entrepreneur) -> EntrepreneurPublic:
    return from_row(EntrepreneurPublic, e, id=e.id or 0)


def entrepreneur_private(e: Entrepreneur, contact: Contact | None) -> EntrepreneurPrivate:
    return EntrepreneurPrivate(
        **entrepreneur_public(e).model_dump(),
        contact=contact_public(contact) if contact else None,
    )


def contact_saved(
    c: Contact, organisation: Organisation | None, deputy: Contact | None
) -> ContactSaved:
    return ContactSaved(
        **contact_public(c).model_dump(),
        id=c.id or 0,
        organisation=organisation.name if organisation else "",
        public=c.public,
        away=c.away,
        deputy=deputy.email if deputy else None,
    )


def organisation_public(
    o: Organisation, parent: str | None, contacts: list[Contact]
) -> OrganisationPublic:
    return from_row(
        OrganisationPublic,
        o,
        id=o.id or 0,
        parent=parent,
        contacts=[contact_public(c) for c in contacts],
    )


def challenge_public(c: Challenge, organisation: str) -> ChallengePublic:
    return from_row(ChallengePublic, c, id=c.id or 0, organisation=organisation)


def suggestions_public(challenge: Challenge, result: MatchResult) -> SuggestionsPublic:
    return SuggestionsPublic(
        challenge=challenge_ref(challenge),
        ranker_version=result.ranker_version,
        suggestions=[
            SuggestionPublic(
                entrepreneur=entrepreneur_ref(result.rows[s.id]),
                score=s.score,
                rank=rank,
                confidence=Confidence(**s.explanation["confidence"]),
                explanation=s.explanation,
            )
            for rank, s in enumerate(result.suggestions, start=1)
        ],
        message=NO_MATCH if result.weak else None,
    )


def discoveries_public(
    session: Any, entrepreneur: Entrepreneur, result: MatchResult
) -> DiscoveriesPublic:
    from service.matching import contacts_for

    items = []
    for rank, s in enumerate(result.suggestions, start=1):
        ch: Challenge = result.rows[s.id]
        org = session.get(Organisation, ch.organisation_id)
        items.append(
            DiscoveryPublic(
                challenge=challenge_ref(ch),
                organisation=org.name if org else "",
                score=s.score,
                rank=rank,
                confidence=Confidence(**s.explanation["confidence"]),
                explanation=s.explanation,
                contacts=[contact_public(c) for c in contacts_for(session, ch)],
            )
        )
    return DiscoveriesPublic(
        entrepreneur=entrepreneur_ref(entrepreneur),
        ranker_version=result.ranker_version,
        challenges=items,
        message=NO_MATCH if result.weak else None,
    )
