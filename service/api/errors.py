"""The API's error answers: one documented shape for every error, Norwegian messages for
validation errors, and the input types whose limits the OpenAPI schema states and the server
enforces (so that the schema tells a client exactly what will be accepted)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, WithJsonSchema

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


class FieldProblem(BaseModel):
    rad: int | None = Field(default=None, description="Raden i en opplastet fil")
    felt: str = Field(description="Feltet det gjelder, f.eks. «title» eller «query.limit»")
    feil: str = Field(description="Hva som er galt, på norsk")


class Problem(BaseModel):
    """Every error the API answers with: a message, or one line per field."""

    detail: str | list[FieldProblem]


def _error(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


# Documented on every API route. Not every route can give every one of them, but a client
# that handles these handles everything the API answers.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Innholdet kunne ikke leses (ugyldig JSON, skjemadata eller tegnkoding)"),
    401: _error("Ikke innlogget, eller ugyldig eller tilbakekalt token"),
    403: _error("Rollen eller organisasjonen din har ikke tilgang"),
    404: _error("Finnes ikke (eller er ikke synlig for deg)"),
    409: _error(
        "Konflikt med det som er lagret: navnet eller id-en er tatt, forslaget er allerede "
        "avgjort, eller noe viser fortsatt hit"
    ),
    413: _error("Forespørselen er for stor"),
    422: _error("Ugyldig inndata, med ett avsnitt per felt"),
    429: _error("For mange forespørsler eller innloggingsforsøk; se Retry-After"),
    503: _error("Databasen er midlertidig utilgjengelig; se Retry-After"),
}

# On routes that the public may use too: a token is optional (OpenAPI: an empty requirement).
PUBLIC: dict[str, Any] = {"security": [{}]}


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


# Input types whose limits are in the schema and enforced by the server (the same limits as
# the import format, models.importing).
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


# -- Norwegian validation errors --------------------------------------------------------------

_MESSAGES = {
    "missing": "feltet mangler",
    "extra_forbidden": "ukjent felt",
    "string_type": "må være tekst",
    "string_too_short": "er for kort (minst {min_length} tegn)",
    "string_too_long": "er for langt (høyst {max_length} tegn)",
    "string_pattern_mismatch": "har feil format eller inneholder kontrolltegn",
    "too_short": "har for få verdier (minst {min_length})",
    "too_long": "har for mange verdier (høyst {max_length})",
    "list_type": "må være en liste",
    "int_type": "må være et heltall",
    "int_parsing": "må være et heltall",
    "int_from_float": "må være et heltall",
    "float_type": "må være et tall",
    "float_parsing": "må være et tall",
    "bool_type": "må være true eller false",
    "bool_parsing": "må være true eller false",
    "greater_than": "må være større enn {gt}",
    "greater_than_equal": "må være minst {ge}",
    "less_than": "må være mindre enn {lt}",
    "less_than_equal": "må være høyst {le}",
    "date_type": "må være en dato (ÅÅÅÅ-MM-DD)",
    "date_parsing": "må være en dato (ÅÅÅÅ-MM-DD)",
    "date_from_datetime_parsing": "må være en dato (ÅÅÅÅ-MM-DD)",
    "date_from_datetime_inexact": "må være en dato (ÅÅÅÅ-MM-DD)",
    "model_attributes_type": "må være et objekt",
    "dict_type": "må være et objekt",
    "model_type": "må være et objekt",
    "json_invalid": "er ikke gyldig JSON",
    "json_type": "er ikke gyldig JSON",
    "literal_error": "må være en av: {expected}",
    "enum": "må være en av: {expected}",
    "string_unicode": "er ikke gyldig tekst (UTF-8)",
}


def _where(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def norwegian(error: dict[str, Any]) -> FieldProblem:
    """One Pydantic error as a Norwegian line."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        message = str(ctx["error"])
    else:
        template = _MESSAGES.get(kind, "har en ugyldig verdi")
        try:
            message = template.format(**ctx)
        except (KeyError, IndexError, ValueError):
            message = template.split(" (")[0]
    return FieldProblem(felt=_where(error.get("loc", ())), feil=message)


def validation_failed(request: Request, exc: Exception) -> Response:
    """422 with one Norwegian line per field, for the API and for forms alike."""
    assert isinstance(exc, RequestValidationError)
    problems = [norwegian(e) for e in exc.errors()]
    return JSONResponse(Problem(detail=problems).model_dump(exclude_none=True), status_code=422)
