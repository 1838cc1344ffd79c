"""The API's error answers: one documented shape for every error, Norwegian messages for
validation errors, and the one translation of domain refusals (``ImportValidationError``,
``NotAllowed``, ``Conflict``) and of missing rows into HTTP errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from models.importing import ImportValidationError

# Still imported from here by the conference routes; the types live in service.api.types.
from service.api.types import IdPath as IdPath
from service.api.types import RowId as RowId
from service.api.types import SlotNumber as SlotNumber
from service.conflicts import Conflict
from service.proposals.workflow import WorkflowError
from service.records import NotAllowed

T = TypeVar("T")


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

# What a service refuses with; each becomes its documented status in ``refused``.
REFUSALS = (ImportValidationError, NotAllowed, Conflict, WorkflowError)


def refused(exc: Exception) -> HTTPException:
    """A refusal from a service function (one of ``REFUSALS``) as the documented error."""
    if isinstance(exc, ImportValidationError):
        return HTTPException(422, [{"felt": e.field, "feil": e.reason} for e in exc.errors])
    if isinstance(exc, WorkflowError):
        return HTTPException(exc.status, str(exc))
    status = {NotAllowed: 403, Conflict: 409}[type(exc)]
    return HTTPException(status, str(exc))


@contextmanager
def answered_as_http() -> Iterator[None]:
    """Inside it, a service's refusal becomes its documented error (``refused``)."""
    try:
        yield
    except REFUSALS as exc:
        raise refused(exc) from exc


def get_or_404(
    session: Session,
    model: type[T],
    row_id: int,
    what: str,
    visible: Callable[[T], bool] | None = None,
) -> T:
    """The row, or 404 "Fant ikke <what> <id>." also when ``visible`` says the caller may not
    know it exists (a hidden row answers like a missing one)."""
    row = session.get(model, row_id)
    if row is None or (visible is not None and not visible(row)):
        raise HTTPException(404, f"Fant ikke {what} {row_id}.")
    return row


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
