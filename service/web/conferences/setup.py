"""The list of conferences, and a new one: the form, the participants templates, and the
upload that stores it and starts planning."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from models.tables import User
from service.api.deps import RuntimeDep, SessionDep
from service.conference import (
    COLUMNS,
    MAX_UPLOAD,
    NewConferenceError,
    Upload,
    conference_list,
    new_conference,
    template_csv,
    template_xlsx,
)
from service.web.common import render
from service.web.conferences.common import ORGANISER, XLSX, response_file, start_planning

router = APIRouter(include_in_schema=False)


@router.get("/konferanser", response_class=HTMLResponse)
def conferences(
    request: Request, session: SessionDep, user: Annotated[User, ORGANISER]
) -> Response:
    return render(request, "conferences.html", user, conferences=conference_list(session))


def _new_form(
    request: Request, user: User, values: dict[str, Any], refused: NewConferenceError | None
) -> Response:
    return render(
        request,
        "conference_new.html",
        user,
        values=values,
        errors=refused.problems if refused else {},
        file_errors=[str(e) for e in refused.file_errors] if refused else [],
        columns=COLUMNS,
        status_code=422 if refused else 200,
    )


@router.get("/konferanser/ny", response_class=HTMLResponse)
def new_conference_form(request: Request, user: Annotated[User, ORGANISER]) -> Response:
    values = {
        "slots": "12",
        "slot_minutes": "15",
        "start": "09:00",
        "tables": "20",
        "date": date.today().isoformat(),
    }
    return _new_form(request, user, values, None)


@router.get("/konferanser/ny/mal.csv")
def template_file_csv(user: Annotated[User, ORGANISER]) -> Response:
    """The participants template, as Norwegian Excel opens it (``;``, UTF-8 with BOM)."""
    return response_file(
        template_csv(), "text/csv; charset=utf-8", "attachment", "deltakerliste-mal.csv"
    )


@router.get("/konferanser/ny/mal.xlsx")
def template_file_xlsx(user: Annotated[User, ORGANISER]) -> Response:
    return response_file(template_xlsx(), XLSX, "attachment", "deltakerliste-mal.xlsx")


Short = Annotated[str, Field(max_length=200)]


class NewConferenceForm(BaseModel):
    """The form as typed: checked by ``new_conference``, shown again with its errors."""

    name: Short = ""
    date: Annotated[str, Field(max_length=20)] = ""
    place: Short = ""
    slots: Short = ""
    slot_minutes: Short = ""
    start: Short = ""
    tables: Short = ""
    max_per_organisation: Short = ""


@router.post("/konferanser/ny", response_class=HTMLResponse)
async def create_conference_form(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, ORGANISER],
    form: Annotated[NewConferenceForm, Form()],
    participants: Annotated[UploadFile | None, File()] = None,
) -> Response:
    values = form.model_dump()
    upload = None
    if participants is not None and participants.filename:
        upload = Upload(participants.filename, await participants.read(MAX_UPLOAD + 1))
    try:
        conf = new_conference(session, values, upload)
    except NewConferenceError as exc:
        return _new_form(request, user, values, exc)
    start_planning(request, rt, conf.id or 0)
    return RedirectResponse(f"/konferanser/{conf.id}", status_code=303)
