"""Input types of the API: the limits the OpenAPI schema states and the server enforces (the
same limits as the import format, models.importing), so that the schema tells a client
exactly what will be accepted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from models.importing import MAX_DESCRIPTION, MAX_LIST_ITEMS
from models.vocabulary import (
    CHALLENGE_STATUSES,
    ENTREPRENEUR_STAGES,
    LANGUAGES,
    ORGANISATION_KINDS,
    OUTCOMES,
    PROPOSAL_TRANSITIONS,
    REJECTION_REASONS,
    THEMES,
)


def in_vocabulary(values: Iterable[str], what: str) -> AfterValidator:
    """Refuse a string outside a fixed vocabulary, in Norwegian."""
    allowed = tuple(values)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"ukjent {what} «{value[:40]}»; gyldige: {', '.join(allowed)}")
        return value

    return AfterValidator(check)


def enum_schema(values: Iterable[str]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(values)})


Theme = Annotated[str, in_vocabulary(THEMES, "tema"), enum_schema(THEMES)]
Language = Annotated[str, in_vocabulary(LANGUAGES, "språk"), enum_schema(LANGUAGES)]
ChallengeStatus = Annotated[
    str, in_vocabulary(CHALLENGE_STATUSES, "status"), enum_schema(CHALLENGE_STATUSES)
]
Stage = Annotated[str, in_vocabulary(ENTREPRENEUR_STAGES, "fase"), enum_schema(ENTREPRENEUR_STAGES)]
OrganisationKind = Annotated[
    str, in_vocabulary(ORGANISATION_KINDS, "type"), enum_schema(ORGANISATION_KINDS)
]
ProposalStatus = Annotated[
    str, in_vocabulary(PROPOSAL_TRANSITIONS, "status"), enum_schema(PROPOSAL_TRANSITIONS)
]
RejectionReason = Annotated[
    str, in_vocabulary(REJECTION_REASONS, "begrunnelse"), enum_schema(REJECTION_REASONS)
]
Outcome = Annotated[str, in_vocabulary(OUTCOMES, "utfall"), enum_schema(OUTCOMES)]
# Database ids and slot numbers: anything larger is certainly unknown, and would not fit a
# database integer.
MAX_ID = 2**31 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _plain_digits(value: object) -> object:
    """An id in a URL is digits and nothing else: pydantic would read "8\t" or " 8" as 8, so
    that a path the schema refuses (not an integer) would still be answered."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("må være et heltall")
    return value


IdPath = Annotated[int, BeforeValidator(_plain_digits), Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int, BeforeValidator(_plain_digits), Query(ge=1, le=MAX_ID)]
SlotNumber = Annotated[int, Field(ge=1, le=1000)]
# No control characters (tab and line breaks are allowed): nobody types them, and
# PostgreSQL cannot store NUL.
TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT)]
Short = Annotated[str, Field(max_length=200, pattern=TEXT)]
Tag = Annotated[str, Field(max_length=100, pattern=TEXT)]
Email = Annotated[str, Field(max_length=254, pattern=TEXT)]
Description = Annotated[str, Field(min_length=1, max_length=MAX_DESCRIPTION, pattern=TEXT)]
Note = Annotated[str, Field(max_length=MAX_DESCRIPTION, pattern=TEXT)]
ShortQuery = Annotated[str, Query(max_length=200, pattern=TEXT)]
Themes = Annotated[list[Theme], Field(max_length=MAX_LIST_ITEMS)]
Tags = Annotated[list[Tag], Field(max_length=MAX_LIST_ITEMS)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Hopp over så mange treff")]
Limit = Annotated[int, Query(ge=1, le=100, description="Antall treff per side")]


class RecordIn(BaseModel):
    """The fields a need and a profile share, with the limits of the import format (SPEC §6):
    what is offered or needed, for whom, in which language, and who to contact."""

    model_config = ConfigDict(extra="forbid")

    description: Description
    themes: Themes
    language: Language = "nb"
    target_groups: Tags = []
    contact_name: Short | None = None
    contact_email: Email | None = None
