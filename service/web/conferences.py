"""The organiser's pages: conferences, importing participants, planning with progress,
reviewing the plan (lock, move, remove, add meetings; record no-shows; re-plan the rest),
publishing, and the agendas and files to hand out."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.db import session_scope
from models.importing import ImportValidationError
from models.tables import Conference, Meeting, User
from models.tables import Participant as Row
from service.api.deps import RuntimeDep, SessionDep
from service.api.errors import IdPath
from service.conference import (
    Agenda,
    ConferenceError,
    add_meeting,
    agenda_html,
    agenda_ics,
    agenda_pdf,
    create_conference,
    ensure_editable,
    move_meeting,
    plan,
    publish,
    read_participants,
    record_no_show,
    remove_meeting,
    set_locked,
    stored_agenda,
    stored_files,
)
from service.runtime import Runtime
from service.web import jobs
from service.web.common import PageError, render, role
from service.web.jobs import Job

router = APIRouter(include_in_schema=False)

ORGANISER = Depends(role("organiser", "admin"))
MAX_UPLOAD = 5 * 1024 * 1024


def _plan_text(phase: str, done: float, total: float) -> str:
    return f"Planlegger møtene: {phase} ({done:.0%})." if phase else "Starter planleggingen …"


def _start_planning(request: Request, rt: Runtime, conference_id: int) -> None:
    def work(job: Job) -> list[str]:
        with session_scope(rt.engine) as session:
            conf = session.get(Conference, conference_id)
            assert conf is not None
            schedule = plan(session, rt.store, conf, progress=lambda s, x: job.progress(s, x))
            return [
                f"{len(schedule.meetings)} møter planlagt, avstand til øvre grense "
                f"{schedule.gap:.2%}."
            ]

    jobs.start(request, f"konferanse-{conference_id}", Job(_plan_text), work)


def _conference(session: Session, conference_id: int) -> Conference:
    conf = session.get(Conference, conference_id)
    if conf is None:
        raise PageError(
            404, "Fant ikke konferansen", f"Det finnes ingen konferanse {conference_id}."
        )
    return conf


@router.get("/konferanser", response_class=HTMLResponse)
def conferences(
    request: Request, session: SessionDep, user: Annotated[User, ORGANISER]
) -> Response:
    rows = []
    for conf in session.exec(select(Conference).order_by(col(Conference.event_date).desc())):
        people = session.exec(
            select(Row.side, func.count())
            .where(Row.conference_id == conf.id)
            .group_by(col(Row.side))
        ).all()
        meetings = session.exec(
            select(func.count()).select_from(Meeting).where(Meeting.conference_id == conf.id)
        ).one()
        rows.append({"c": conf, "people": dict(people), "meetings": meetings})
    return render(request, "conferences.html", user, conferences=rows)


def _new_form(
    request: Request,
    user: User,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request, "conference_new.html", user, values=values, errors=errors, status_code=status_code
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
    return _new_form(request, user, values, {})


Short = Annotated[str, Form(max_length=200)]


@router.post("/konferanser/ny", response_class=HTMLResponse)
async def create_conference_form(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, ORGANISER],
    name: Short = "",
    day: Annotated[str, Form(alias="date", max_length=20)] = "",
    place: Short = "",
    slots: Short = "",
    slot_minutes: Short = "",
    start: Short = "",
    tables: Short = "",
    max_per_organisation: Short = "",
    participants: Annotated[UploadFile | None, File()] = None,
) -> Response:
    values = {
        "name": name,
        "date": day,
        "place": place,
        "slots": slots,
        "slot_minutes": slot_minutes,
        "start": start,
        "tables": tables,
        "max_per_organisation": max_per_organisation,
    }
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Skriv navnet på konferansen."
    if not place.strip():
        errors["place"] = "Skriv hvor den holdes."
    try:
        when = date.fromisoformat(day)
    except ValueError:
        errors["date"] = "Velg en dato."
    numbers: dict[str, int | None] = {}
    for key, low, high, text in (
        ("slots", 1, 48, "Antall tidsluker"),
        ("slot_minutes", 5, 120, "Minutter per møte"),
        ("tables", 1, 1000, "Antall bord"),
        ("max_per_organisation", 1, 100, "Taket per organisasjon"),
    ):
        raw = values[key].strip()
        if not raw and key == "max_per_organisation":
            numbers[key] = None
        elif raw.isdigit() and low <= int(raw) <= high:
            numbers[key] = int(raw)
        else:
            errors[key] = f"{text} må være et helt tall fra {low} til {high}."
    hh, _, mm = start.partition(":")
    if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60 and len(mm) == 2):
        errors["start"] = "Skriv starttiden som TT:MM, f.eks. 09:00."
    people = []
    if participants is None or not participants.filename:
        errors["participants"] = "Velg en deltakerliste (CSV eller Excel)."
    elif not errors:
        content = await participants.read(MAX_UPLOAD + 1)
        suffix = Path(participants.filename).suffix.lower()
        if len(content) > MAX_UPLOAD:
            errors["participants"] = "Filen er større enn 5 MB."
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"deltakere{suffix}"
                path.write_bytes(content)
                try:
                    people = read_participants(path, session, numbers["slots"] or 1)
                except ImportValidationError as exc:
                    found = [str(e) for e in exc.errors]
                    errors["participants"] = (
                        f"Deltakerlisten har {len(found)} feil: "
                        + "; ".join(found[:8])
                        + (" …" if len(found) > 8 else "")
                    )
    if errors:
        return _new_form(request, user, values, errors, status_code=422)
    conf = create_conference(
        session,
        name=name.strip(),
        day=when,
        place=place.strip(),
        slots=numbers["slots"] or 1,
        slot_minutes=numbers["slot_minutes"] or 15,
        start=f"{int(hh):02d}:{mm}",
        tables=numbers["tables"] or 1,
        max_per_organisation=numbers["max_per_organisation"],
        people=people,
    )
    session.commit()
    _start_planning(request, rt, conf.id or 0)
    return RedirectResponse(f"/konferanser/{conf.id}", status_code=303)


def _page_data(session: Session, conf: Conference) -> dict[str, Any]:
    rows = {
        r.id: r
        for r in session.exec(
            select(Row).where(Row.conference_id == conf.id).order_by(col(Row.name))
        )
    }
    meetings = list(
        session.exec(
            select(Meeting)
            .where(Meeting.conference_id == conf.id)
            .order_by(col(Meeting.slot), col(Meeting.table_no))
        )
    )
    by_slot: dict[int, list[Meeting]] = {s: [] for s in range(1, conf.slots + 1)}
    for m in meetings:
        by_slot.setdefault(m.slot, []).append(m)
    agenda = Agenda(conf.start_time, conf.slot_minutes, conf.event_date, conf.name)
    times = {s: agenda.times(s) for s in by_slot}
    return {
        "conf": conf,
        "rows": rows,
        "by_slot": by_slot,
        "times": times,
        "count": len(meetings),
        "municipal": [r for r in rows.values() if r.side == "municipal"],
        "entrepreneurs": [r for r in rows.values() if r.side == "entrepreneur"],
    }


@router.get("/konferanser/{conference_id}", response_class=HTMLResponse)
def conference_page(
    request: Request,
    conference_id: IdPath,
    session: SessionDep,
    user: Annotated[User, ORGANISER],
    feil: str = "",
) -> Response:
    conf = _conference(session, conference_id)
    return render(
        request,
        "conference.html",
        user,
        job=jobs.current(request, f"konferanse-{conference_id}"),
        problem=feil[:300],
        **_page_data(session, conf),
    )


@router.get("/konferanser/{conference_id}/status")
def planning_status(
    request: Request, conference_id: IdPath, user: Annotated[User, ORGANISER]
) -> JSONResponse:
    job = jobs.current(request, f"konferanse-{conference_id}")
    if job is None:
        return JSONResponse(
            {
                "running": False,
                "done": 0,
                "total": 0,
                "phase": "",
                "text": "Ingen planlegging pågår.",
                "error": "",
            }
        )
    return JSONResponse(job.state())


def _back(conf: Conference, problem: str = "") -> RedirectResponse:
    from urllib.parse import quote

    query = f"?feil={quote(problem)}" if problem else ""
    return RedirectResponse(f"/konferanser/{conf.id}{query}#plan", status_code=303)


def _change(session: Session, conf: Conference, change: Any) -> RedirectResponse:
    """Apply one change to the plan; a refusal is shown on the page, nothing is saved."""
    try:
        change()
    except ConferenceError as exc:
        session.rollback()
        return _back(conf, str(exc))
    session.commit()
    return _back(conf)


@router.post("/konferanser/{conference_id}/moter/{meeting_id}/laas")
def toggle_lock(
    conference_id: IdPath,
    meeting_id: IdPath,
    session: SessionDep,
    user: Annotated[User, ORGANISER],
    locked: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    conf = _conference(session, conference_id)
    return _change(session, conf, lambda: set_locked(session, conf, meeting_id, locked == "ja"))


@router.post("/konferanser/{conference_id}/moter/{meeting_id}/flytt")
def move(
    conference_id: IdPath,
    meeting_id: IdPath,
    session: SessionDep,
    user: Annotated[User, ORGANISER],
    slot: Annotated[int, Form()] = 0,
) -> Response:
    conf = _conference(session, conference_id)
    return _change(session, conf, lambda: move_meeting(session, conf, meeting_id, slot))


@router.post("/konferanser/{conference_id}/moter/{meeting_id}/fjern")
def remove(
    conference_id: IdPath, meeting_id: IdPath, session: SessionDep, user: Annotated[User, ORGANISER]
) -> Response:
    conf = _conference(session, conference_id)
    return _change(session, conf, lambda: remove_meeting(session, conf, meeting_id))


@router.post("/konferanser/{conference_id}/moter")
def add(
    conference_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, ORGANISER],
    municipal: Annotated[int, Form()] = 0,
    entrepreneur: Annotated[int, Form()] = 0,
    slot: Annotated[int, Form()] = 0,
) -> Response:
    conf = _conference(session, conference_id)
    return _change(
        session, conf, lambda: add_meeting(session, rt.store, conf, municipal, entrepreneur, slot)
    )


@router.post("/konferanser/{conference_id}/uteblitt")
def no_show(
    request: Request,
    conference_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, ORGANISER],
    participant: Annotated[int, Form()] = 0,
    slot: Annotated[int, Form()] = 0,
) -> Response:
    conf = _conference(session, conference_id)
    answer = _change(session, conf, lambda: record_no_show(session, conf, participant, slot))
    if "feil=" not in answer.headers["location"]:
        _start_planning(request, rt, conf.id or 0)  # re-plan the rest of the day
    return answer


@router.post("/konferanser/{conference_id}/planlegg")
def replan(
    request: Request,
    conference_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, ORGANISER],
) -> Response:
    conf = _conference(session, conference_id)
    try:
        ensure_editable(conf)
    except ConferenceError as exc:
        return _back(conf, str(exc))
    _start_planning(request, rt, conf.id or 0)
    return _back(conf)


@router.post("/konferanser/{conference_id}/publiser")
def publish_plan(
    conference_id: IdPath, session: SessionDep, user: Annotated[User, ORGANISER]
) -> Response:
    conf = _conference(session, conference_id)
    return _change(session, conf, lambda: publish(session, conf))


DOWNLOADS = {
    "meetings.csv": "text/csv; charset=utf-8",
    "meetings.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "affinities.csv": "text/csv; charset=utf-8",
    "summary.html": "text/html; charset=utf-8",
    "summary.json": "application/json",
}


@router.get("/konferanser/{conference_id}/filer/{name}")
def download(
    conference_id: IdPath,
    name: str,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, ORGANISER],
) -> Response:
    """The files for organisers, made from the stored plan."""
    conf = _conference(session, conference_id)
    if name not in DOWNLOADS:
        raise PageError(404, "Fant ikke filen", f"Det finnes ingen fil «{name}».")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            stored_files(session, rt.store, conf, Path(tmp))
        except ConferenceError as exc:
            raise PageError(409, "Ingen plan ennå", str(exc)) from exc
        content = (Path(tmp) / name).read_bytes()
    disposition = "inline" if name.endswith(".html") else "attachment"
    return Response(
        content,
        media_type=DOWNLOADS[name],
        headers={"Content-Disposition": f'{disposition}; filename="{conf.id}-{name}"'},
    )


@router.get("/konferanser/{conference_id}/agenda/{participant_id}")
def agenda(
    conference_id: IdPath,
    participant_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, ORGANISER],
    format: str = "html",
) -> Response:
    conf = _conference(session, conference_id)
    who = session.get(Row, participant_id)
    if who is None or who.conference_id != conf.id:
        raise PageError(404, "Fant ikke deltakeren", "Deltakeren er ikke med på konferansen.")
    rows = stored_agenda(session, rt.store, conf, who)
    plan_ = Agenda(conf.start_time, conf.slot_minutes, conf.event_date, conf.name)
    if format == "pdf":
        return Response(
            agenda_pdf(plan_, who.name, who.organisation or "", rows),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="moteplan-{participant_id}.pdf"'},
        )
    if format == "ics":
        return Response(
            agenda_ics(plan_, rows),
            media_type="text/calendar; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="moteplan-{participant_id}.ics"'
            },
        )
    return HTMLResponse(
        agenda_html(plan_, who.name, who.organisation or "", rows, ("?format=pdf", "?format=ics"))
    )
