"""Routes for conferences: import participants, plan, review the plan, record no-shows,
publish (organisers and administrators)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from models.tables import Conference, Meeting, User
from models.tables import Participant as Row
from service.api.deps import RuntimeDep, SessionDep, require
from service.api.errors import ERROR_RESPONSES, IdPath, RowId, SlotNumber
from service.conference import (
    MAX_UPLOAD,
    ConferenceError,
    ConferenceSettings,
    NewConferenceError,
    Upload,
    add_meeting,
    change_meeting,
    new_conference,
    no_show_and_replan,
    publish,
    remove_meeting,
    replan,
)
from service.schemas import from_row

router = APIRouter(prefix="/api/v1/conferences", tags=["konferanser"], responses=ERROR_RESPONSES)
Organiser = Annotated[User, Depends(require("organiser", "admin"))]


class ParticipantOut(BaseModel):
    id: int
    external_id: str
    side: str
    name: str
    organisation: str | None
    absent_from: int | None


class MeetingOut(BaseModel):
    id: int
    slot: int
    table: int
    municipal_id: int
    entrepreneur_id: int
    affinity: float
    locked: bool


class ConferenceOut(BaseModel):
    id: int
    name: str
    date: date
    place: str
    slots: int
    slot_minutes: int
    start: str
    tables: int
    max_per_organisation: int | None
    status: str
    objective: float | None
    upper_bound: float | None
    solve_status: str
    notes: list[str]
    published_at: datetime | None
    participants: list[ParticipantOut] = []
    meetings: list[MeetingOut] = []


def _out(session: Session, conf: Conference, full: bool = True) -> ConferenceOut:
    out = from_row(
        ConferenceOut,
        conf,
        id=conf.id or 0,
        date=conf.event_date,
        start=conf.start_time,
        notes=list(conf.notes),
    )
    if full:
        out.participants = [
            from_row(ParticipantOut, r, id=r.id or 0)
            for r in session.exec(
                select(Row).where(Row.conference_id == conf.id).order_by(col(Row.id))
            )
        ]
        out.meetings = [
            from_row(MeetingOut, m, id=m.id or 0, table=m.table_no)
            for m in session.exec(
                select(Meeting)
                .where(Meeting.conference_id == conf.id)
                .order_by(col(Meeting.slot), col(Meeting.table_no))
            )
        ]
    return out


def _get(session: Session, conference_id: int) -> Conference:
    conf = session.get(Conference, conference_id)
    if conf is None:
        raise HTTPException(404, f"Fant ikke konferanse {conference_id}.")
    return conf


def _change(
    session: Session, conference_id: int, change: Callable[[Conference], Any]
) -> ConferenceOut:
    """Apply one change to the conference (a service function that commits it); an unknown
    conference is a 404, a refusal (a clash, a published plan) a 409 and nothing is saved."""
    conf = _get(session, conference_id)
    try:
        change(conf)
    except ConferenceError as exc:
        raise HTTPException(409, str(exc)) from exc
    return _out(session, conf)


@router.get("", response_model=list[ConferenceOut])
def list_conferences(session: SessionDep, user: Organiser) -> list[ConferenceOut]:
    rows = session.exec(select(Conference).order_by(col(Conference.event_date).desc()))
    return [_out(session, c, full=False) for c in rows]


@router.post("", response_model=ConferenceOut, status_code=201)
async def create(
    session: SessionDep,
    user: Organiser,
    participants: Annotated[UploadFile, File(description="CSV eller XLSX (se README)")],
    settings: Annotated[ConferenceSettings, Form()],
) -> ConferenceOut:
    """A conference with its participants; plan it with ``POST /{id}/plan``."""
    upload = Upload(
        participants.filename or "deltakere.csv", await participants.read(MAX_UPLOAD + 1)
    )
    try:
        conf = new_conference(session, settings.model_dump(by_alias=True), upload)
    except NewConferenceError as exc:
        if exc.too_large:
            raise HTTPException(413, exc.problems["participants"]) from exc
        detail = [{"rad": e.row, "felt": e.field, "feil": e.reason} for e in exc.file_errors]
        detail += [{"felt": k, "feil": v} for k, v in exc.problems.items() if k != "participants"]
        raise HTTPException(422, detail) from exc
    return _out(session, conf)


@router.get("/{conference_id}", response_model=ConferenceOut)
def get_conference(conference_id: IdPath, session: SessionDep, user: Organiser) -> ConferenceOut:
    return _out(session, _get(session, conference_id))


@router.post("/{conference_id}/plan", response_model=ConferenceOut)
def plan_conference(
    conference_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Organiser,
    time_limit: Annotated[float, Query(ge=5, le=600)] = 120.0,
) -> ConferenceOut:
    """Plan every meeting that is not locked (locked ones stay)."""
    return _change(
        session,
        conference_id,
        lambda conf: replan(session, rt.store, conf, time_limit=time_limit),
    )


class MeetingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    municipal_id: RowId
    entrepreneur_id: RowId
    slot: SlotNumber


class MeetingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locked: bool | None = None
    slot: SlotNumber | None = None


@router.post("/{conference_id}/meetings", response_model=ConferenceOut, status_code=201)
def add(
    conference_id: IdPath, body: MeetingIn, session: SessionDep, rt: RuntimeDep, user: Organiser
) -> ConferenceOut:
    return _change(
        session,
        conference_id,
        lambda conf: add_meeting(
            session, rt.store, conf, body.municipal_id, body.entrepreneur_id, body.slot
        ),
    )


@router.patch("/{conference_id}/meetings/{meeting_id}", response_model=ConferenceOut)
def change(
    conference_id: IdPath,
    meeting_id: IdPath,
    body: MeetingPatch,
    session: SessionDep,
    user: Organiser,
) -> ConferenceOut:
    """Lock or unlock a meeting, or move it to another slot (which locks it)."""
    return _change(
        session,
        conference_id,
        lambda conf: change_meeting(session, conf, meeting_id, slot=body.slot, locked=body.locked),
    )


@router.delete("/{conference_id}/meetings/{meeting_id}", response_model=ConferenceOut)
def delete(
    conference_id: IdPath, meeting_id: IdPath, session: SessionDep, user: Organiser
) -> ConferenceOut:
    return _change(session, conference_id, lambda conf: remove_meeting(session, conf, meeting_id))


class NoShowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participant_id: RowId
    from_slot: SlotNumber


@router.post("/{conference_id}/no-show", response_model=ConferenceOut)
def no_show(
    conference_id: IdPath, body: NoShowIn, session: SessionDep, rt: RuntimeDep, user: Organiser
) -> ConferenceOut:
    """Record a no-show from a slot on and re-plan the rest of the day."""
    return _change(
        session,
        conference_id,
        lambda conf: no_show_and_replan(
            session, rt.store, conf, body.participant_id, body.from_slot
        ),
    )


@router.post("/{conference_id}/publish", response_model=ConferenceOut)
def publish_plan(conference_id: IdPath, session: SessionDep, user: Organiser) -> ConferenceOut:
    return _change(session, conference_id, lambda conf: publish(session, conf))
