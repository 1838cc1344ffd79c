"""Routes for conferences: import participants, plan, review the plan, record no-shows,
publish (organisers and administrators)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from matcher.scheduling import InfeasibleError
from models.importing import ImportValidationError
from models.tables import Conference, Meeting, User
from models.tables import Participant as Row
from service.api.deps import RuntimeDep, SessionDep, require
from service.api.errors import ERROR_RESPONSES, IdPath, RowId, SlotNumber
from service.conference import (
    ConferenceError,
    add_meeting,
    create_conference,
    move_meeting,
    plan,
    publish,
    read_participants,
    record_no_show,
    remove_meeting,
    set_locked,
)

router = APIRouter(prefix="/api/v1/conferences", tags=["konferanser"], responses=ERROR_RESPONSES)
Organiser = Annotated[User, Depends(require("organiser", "admin"))]
MAX_UPLOAD = 5 * 1024 * 1024


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
    out = ConferenceOut(
        id=conf.id or 0,
        name=conf.name,
        date=conf.event_date,
        place=conf.place,
        slots=conf.slots,
        slot_minutes=conf.slot_minutes,
        start=conf.start_time,
        tables=conf.tables,
        max_per_organisation=conf.max_per_organisation,
        status=conf.status,
        objective=conf.objective,
        upper_bound=conf.upper_bound,
        solve_status=conf.solve_status,
        notes=list(conf.notes),
        published_at=conf.published_at,
    )
    if full:
        out.participants = [
            ParticipantOut(
                id=r.id or 0,
                external_id=r.external_id,
                side=r.side,
                name=r.name,
                organisation=r.organisation,
                absent_from=r.absent_from,
            )
            for r in session.exec(
                select(Row).where(Row.conference_id == conf.id).order_by(col(Row.id))
            )
        ]
        out.meetings = [
            MeetingOut(
                id=m.id or 0,
                slot=m.slot,
                table=m.table_no,
                municipal_id=m.municipal_id,
                entrepreneur_id=m.entrepreneur_id,
                affinity=m.affinity,
                locked=m.locked,
            )
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


def _change(session: Session, conf: Conference, change: Callable[[], Any]) -> ConferenceOut:
    """Apply one change; a refusal (a clash, a published plan) is a 409 and nothing is saved."""
    try:
        change()
    except ConferenceError as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from exc
    session.commit()
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
    name: Annotated[str, Form(min_length=1, max_length=200)],
    day: Annotated[date, Form(alias="date")],
    place: Annotated[str, Form(min_length=1, max_length=200)],
    slots: Annotated[int, Form(ge=1, le=48)],
    slot_minutes: Annotated[int, Form(ge=5, le=120)],
    start: Annotated[str, Form(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")],
    tables: Annotated[int, Form(ge=1, le=1000)],
    max_per_organisation: Annotated[int | None, Form(ge=1, le=100)] = None,
) -> ConferenceOut:
    """A conference with its participants; plan it with ``POST /{id}/plan``."""
    content = await participants.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise HTTPException(413, "Deltakerlisten er større enn 5 MB.")
    suffix = Path(participants.filename or "deltakere.csv").suffix.lower()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"deltakere{suffix}"
        path.write_bytes(content)
        try:
            people = read_participants(path, session, slots)
        except ImportValidationError as exc:
            raise HTTPException(
                422, [{"rad": e.row, "felt": e.field, "feil": e.reason} for e in exc.errors]
            ) from exc
    conf = create_conference(
        session,
        name=name,
        day=day,
        place=place,
        slots=slots,
        slot_minutes=slot_minutes,
        start=start,
        tables=tables,
        max_per_organisation=max_per_organisation,
        people=people,
    )
    session.commit()
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
    conf = _get(session, conference_id)

    def run() -> None:
        try:
            plan(session, rt.store, conf, time_limit=time_limit)
        except InfeasibleError as exc:
            raise ConferenceError(f"Ingen møteplan er mulig: {exc}") from exc

    return _change(session, conf, run)


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
    conf = _get(session, conference_id)
    return _change(
        session,
        conf,
        lambda: add_meeting(
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
    conf = _get(session, conference_id)

    def apply() -> None:
        if body.slot is not None:
            move_meeting(session, conf, meeting_id, body.slot)
        if body.locked is not None:
            set_locked(session, conf, meeting_id, body.locked)

    return _change(session, conf, apply)


@router.delete("/{conference_id}/meetings/{meeting_id}", response_model=ConferenceOut)
def delete(
    conference_id: IdPath, meeting_id: IdPath, session: SessionDep, user: Organiser
) -> ConferenceOut:
    conf = _get(session, conference_id)
    return _change(session, conf, lambda: remove_meeting(session, conf, meeting_id))


class NoShowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participant_id: RowId
    from_slot: SlotNumber


@router.post("/{conference_id}/no-show", response_model=ConferenceOut)
def no_show(
    conference_id: IdPath, body: NoShowIn, session: SessionDep, rt: RuntimeDep, user: Organiser
) -> ConferenceOut:
    """Record a no-show from a slot on and re-plan the rest of the day."""
    conf = _get(session, conference_id)

    def apply() -> None:
        record_no_show(session, conf, body.participant_id, body.from_slot)
        session.flush()
        try:
            plan(session, rt.store, conf)
        except InfeasibleError as exc:
            raise ConferenceError(f"Ingen møteplan er mulig: {exc}") from exc

    return _change(session, conf, apply)


@router.post("/{conference_id}/publish", response_model=ConferenceOut)
def publish_plan(conference_id: IdPath, session: SessionDep, user: Organiser) -> ConferenceOut:
    conf = _get(session, conference_id)
    return _change(session, conf, lambda: publish(session, conf))
