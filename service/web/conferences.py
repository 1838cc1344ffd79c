"""The organiser's pages: conferences, importing participants (with a template to fill in),
planning with progress, reviewing the plan (lock, move, remove, add meetings; record
no-shows; re-plan the rest), publishing, and the agendas and files to hand out.

After every change to a plan the browser comes back to the place it acted on (the meeting's
row, the slot, the form) and finds the answer there, in words: what happened and what happens
next. The answer travels in a short-lived cookie, never in the URL, so a link cannot make the
page say something the server did not."""

from __future__ import annotations

import json
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.db import session_scope
from models.importing import ImportValidationError
from models.tables import Conference, Meeting, User
from models.tables import Participant as Row
from service import formatting
from service.api.deps import RuntimeDep, SessionDep
from service.api.errors import IdPath
from service.conference import (
    BOUND_TEXT,
    COLUMNS,
    MEETINGS_CSV,
    MEETINGS_XLSX,
    PAIRS_CSV,
    STATUS_TEXT,
    SUMMARY_HTML,
    SUMMARY_JSON,
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
    plan_text,
    publish,
    quality_text,
    read_participants,
    record_no_show,
    remove_meeting,
    set_locked,
    share_text,
    stored_agenda,
    stored_files,
    template_csv,
    template_xlsx,
)
from service.runtime import Runtime
from service.web import jobs
from service.web.common import PageError, render, role
from service.web.jobs import Job

router = APIRouter(include_in_schema=False)

ORGANISER = Depends(role("organiser", "admin"))
MAX_UPLOAD = 5 * 1024 * 1024
ANSWER_COOKIE = "brobygger_svar"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The solver's steps (matcher.scheduling) as an organiser would say them.
PHASES = {
    "øvre grense": "regner ut det beste som er mulig",
    "valg av par": "velger hvem som skal møtes",
    "plassering i tidsluker": "setter møtene i tidsluker",
    "samlet modell for par og tidsluker": "prøver å gjøre planen enda bedre",
    "fyller ledige plasser": "fyller ledige plasser",
    "ferdig": "skriver planen",
}


def _plan_text(phase: str, done: float, total: float) -> str:
    if not phase:
        return "Starter planleggingen …"
    share = formatting.percent(done / total if total else 0.0)
    return f"Planlegger møtene: {PHASES.get(phase, phase)} ({share})."


def _start_planning(request: Request, rt: Runtime, conference_id: int) -> None:
    def work(job: Job) -> list[str]:
        with session_scope(rt.engine) as session:
            conf = session.get(Conference, conference_id)
            assert conf is not None
            s = plan(session, rt.store, conf, progress=lambda step, x: job.progress(step, x))
            return [plan_text(len(s.meetings), s.objective, s.upper_bound, s.status)]

    jobs.start(request, f"konferanse-{conference_id}", Job(_plan_text), work)


def _conference(session: Session, conference_id: int) -> Conference:
    conf = session.get(Conference, conference_id)
    if conf is None:
        raise PageError(
            404, "Fant ikke konferansen", f"Det finnes ingen konferanse {conference_id}."
        )
    return conf


# -- file names -------------------------------------------------------------------------------


def _slug(text: str) -> str:
    """``SosEnt 2026`` → ``sosent-2026`` (letters æøå kept)."""
    return re.sub(r"[^\wæøå]+", "-", text.lower()).strip("-_")[:60] or "fil"


def _ascii(name: str) -> str:
    for a, b in (("æ", "ae"), ("ø", "o"), ("å", "a"), ("Æ", "AE"), ("Ø", "O"), ("Å", "A")):
        name = name.replace(a, b)
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "fil"


def disposition(kind: str, filename: str) -> str:
    """A Content-Disposition header for a file name with æøå: an ASCII ``filename`` for old
    clients and the real name as ``filename*`` (RFC 5987/6266), which browsers prefer."""
    return f"{kind}; filename=\"{_ascii(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"


# -- the answer after a change, shown where the user acted -----------------------------------


@dataclass(frozen=True)
class Answer:
    where: str  # id of the element the answer belongs to; also the URL's anchor
    text: str
    ok: bool


def _back(conf: Conference, answer: Answer) -> RedirectResponse:
    response = RedirectResponse(f"/konferanser/{conf.id}#{answer.where}", status_code=303)
    value = quote(json.dumps([answer.where, answer.text, answer.ok]), safe="")
    response.set_cookie(
        ANSWER_COOKIE,
        value,
        max_age=600,
        path=f"/konferanser/{conf.id}",
        httponly=True,
        samesite="lax",
    )
    return response


def _answer(request: Request) -> Answer | None:
    raw = request.cookies.get(ANSWER_COOKIE)
    if not raw:
        return None
    try:
        where, text, ok = json.loads(unquote(raw))
    except (ValueError, TypeError):  # not ours, or from an older version: say nothing
        return None
    if not (isinstance(where, str) and isinstance(text, str) and isinstance(ok, bool)):
        return None
    return Answer(where[:40], text[:600], ok)


def _change(
    session: Session,
    conf: Conference,
    change: Callable[[], Answer],
    refused: Callable[[str], Answer],
) -> RedirectResponse:
    """Apply one change to the plan and go back to where it was made, with the answer; a
    refusal is shown there as well and nothing is saved."""
    try:
        answer = change()
    except ConferenceError as exc:
        session.rollback()
        return _back(conf, refused(str(exc)))
    session.commit()
    return _back(conf, answer)


def _slot_time(conf: Conference, slot: int) -> str:
    begin, end = _agenda(conf).times(slot)
    return f"tidsluke {slot} ({begin:%H:%M}–{end:%H:%M})"


def _pair(session: Session, m: Meeting) -> str:
    a, b = session.get(Row, m.municipal_id), session.get(Row, m.entrepreneur_id)
    return f"{a.name if a else '?'} – {b.name if b else '?'}"


def _agenda(conf: Conference) -> Agenda:
    return Agenda(conf.start_time, conf.slot_minutes, conf.event_date, conf.name, conf.place)


# -- list and new -----------------------------------------------------------------------------


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
    file_errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "conference_new.html",
        user,
        values=values,
        errors=errors,
        file_errors=file_errors or [],
        columns=COLUMNS,
        status_code=status_code,
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


@router.get("/konferanser/ny/mal.csv")
def template_file_csv(user: Annotated[User, ORGANISER]) -> Response:
    """The participants template, as Norwegian Excel opens it (``;``, UTF-8 with BOM)."""
    return Response(
        template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition("attachment", "deltakerliste-mal.csv")},
    )


@router.get("/konferanser/ny/mal.xlsx")
def template_file_xlsx(user: Annotated[User, ORGANISER]) -> Response:
    return Response(
        template_xlsx(),
        media_type=XLSX,
        headers={"Content-Disposition": disposition("attachment", "deltakerliste-mal.xlsx")},
    )


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
    file_errors: list[str] = []
    if not name.strip():
        errors["name"] = "Skriv navnet på konferansen."
    try:
        when = date.fromisoformat(day)
    except ValueError:
        errors["date"] = "Velg en dato."
    if not place.strip():
        errors["place"] = "Skriv hvor den holdes."
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
    elif "slots" in numbers:  # the file is checked against the number of slots
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
                    file_errors = [str(e) for e in exc.errors]
                    errors["participants"] = (
                        f"Deltakerlisten har {len(file_errors)} feil og ble ikke lastet opp. "
                        "Rett filen og velg den på nytt."
                    )
    if errors:
        return _new_form(request, user, values, errors, file_errors, status_code=422)
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


# -- the plan ---------------------------------------------------------------------------------


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
    agenda = _agenda(conf)
    times = {s: agenda.times(s) for s in by_slot}
    # the plan as it stands now (after changes by hand), measured against the bound
    objective = round(sum(m.affinity for m in meetings), 4)
    bound = conf.upper_bound or 0.0
    quality: dict[str, str] = {}
    if conf.objective is not None:
        changed = abs(objective - conf.objective) > 1e-6
        quality = {
            "sum": formatting.number(objective, 1),
            "bound": formatting.number(bound, 1),
            "share": share_text(min(1.0, objective / bound)) if bound > 0 else "",
            "text": quality_text(objective, bound),
            "status": (
                "Planen er endret for hånd etter siste planlegging."
                if changed
                else STATUS_TEXT.get(conf.solve_status, "")
            ),
            "bound_text": BOUND_TEXT,
        }
    return {
        "conf": conf,
        "rows": rows,
        "by_slot": by_slot,
        "times": times,
        "count": len(meetings),
        "quality": quality,
        "municipal": [r for r in rows.values() if r.side == "municipal"],
        "entrepreneurs": [r for r in rows.values() if r.side == "entrepreneur"],
        "files": {
            "xlsx": MEETINGS_XLSX,
            "csv": MEETINGS_CSV,
            "summary": SUMMARY_HTML,
            "pairs": PAIRS_CSV,
        },
    }


@router.get("/konferanser/{conference_id}", response_class=HTMLResponse)
def conference_page(
    request: Request,
    conference_id: IdPath,
    session: SessionDep,
    user: Annotated[User, ORGANISER],
) -> Response:
    conf = _conference(session, conference_id)
    job = jobs.current(request, f"konferanse-{conference_id}")
    response = render(
        request,
        "conference.html",
        user,
        job=job,
        answer=_answer(request),
        **_page_data(session, conf),
    )
    # The answer is shown once; while a plan is being made it is kept for the reload that
    # shows the result (app.js), so it is still there, at its place, when the plan is ready.
    if ANSWER_COOKIE in request.cookies and not (job and job.running):
        response.delete_cookie(ANSWER_COOKIE, path=f"/konferanser/{conf.id}")
    return response


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


@router.post("/konferanser/{conference_id}/moter/{meeting_id}/laas")
def toggle_lock(
    conference_id: IdPath,
    meeting_id: IdPath,
    session: SessionDep,
    user: Annotated[User, ORGANISER],
    locked: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    conf = _conference(session, conference_id)
    where = f"mote-{meeting_id}"

    def change() -> Answer:
        m = set_locked(session, conf, meeting_id, locked == "ja")
        if m.locked:
            text = (
                f"Møtet {_pair(session, m)} er låst i {_slot_time(conf, m.slot)}. Det blir "
                "stående der når resten planlegges på nytt."
            )
        else:
            text = (
                f"Møtet {_pair(session, m)} er låst opp. Det kan bli flyttet eller byttet ut "
                "når resten planlegges på nytt."
            )
        return Answer(where, text, True)

    return _change(
        session, conf, change, lambda why: Answer(where, f"Møtet ble ikke endret: {why}", False)
    )


@router.post("/konferanser/{conference_id}/moter/{meeting_id}/flytt")
def move(
    conference_id: IdPath,
    meeting_id: IdPath,
    session: SessionDep,
    user: Annotated[User, ORGANISER],
    slot: Annotated[int, Form()] = 0,
) -> Response:
    conf = _conference(session, conference_id)
    where = f"mote-{meeting_id}"
    before = session.get(Meeting, meeting_id)
    old_slot = before.slot if before else 0

    def change() -> Answer:
        m = move_meeting(session, conf, meeting_id, slot)
        if m.slot == old_slot:
            text = (
                f"Møtet {_pair(session, m)} står i {_slot_time(conf, m.slot)}, bord "
                f"{m.table_no}, og er nå låst der."
            )
        else:
            text = (
                f"Møtet {_pair(session, m)} er flyttet til {_slot_time(conf, m.slot)}, bord "
                f"{m.table_no}, og låst der. Plassen i tidsluke {old_slot} står tom til du "
                "planlegger resten på nytt."
            )
        return Answer(where, text, True)

    return _change(
        session,
        conf,
        change,
        lambda why: Answer(
            where,
            f"Møtet ble ikke flyttet: {why} Det står der det stod. Velg en annen tidsluke, "
            "eller flytt først det som står i veien.",
            False,
        ),
    )


@router.post("/konferanser/{conference_id}/moter/{meeting_id}/fjern")
def remove(
    conference_id: IdPath, meeting_id: IdPath, session: SessionDep, user: Annotated[User, ORGANISER]
) -> Response:
    conf = _conference(session, conference_id)
    m = session.get(Meeting, meeting_id)
    found = m is not None and m.conference_id == conf.id
    pair, slot = (_pair(session, m), m.slot) if m is not None and found else ("", 0)

    def change() -> Answer:
        remove_meeting(session, conf, meeting_id)
        return Answer(
            f"tidsluke-{slot}",
            f"Møtet {pair} i tidsluke {slot} er fjernet. Paret settes ikke opp igjen når "
            "resten planlegges på nytt; plassen står tom til da.",
            True,
        )

    return _change(
        session,
        conf,
        change,
        lambda why: Answer(
            f"mote-{meeting_id}" if found else "plan", f"Møtet ble ikke fjernet: {why}", False
        ),
    )


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

    def change() -> Answer:
        m = add_meeting(session, rt.store, conf, municipal, entrepreneur, slot)
        session.flush()
        return Answer(
            f"mote-{m.id}",
            f"Møtet {_pair(session, m)} er lagt til i {_slot_time(conf, m.slot)}, bord "
            f"{m.table_no}, og låst der.",
            True,
        )

    return _change(
        session,
        conf,
        change,
        lambda why: Answer("legg-til", f"Møtet ble ikke lagt til: {why}", False),
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
    done: list[bool] = []

    def change() -> Answer:
        who = record_no_show(session, conf, participant, slot)
        done.append(True)
        return Answer(
            "uteblitt",
            f"Registrert at {who.name} ikke kom fra tidsluke {slot}. Møtene før står som de "
            f"var; møtene til {who.name} fra tidsluke {slot} er tatt ut, og resten av dagen "
            f"planlegges på nytt uten {who.name}. Framdriften og resultatet står under "
            "«Planlegging» øverst på siden.",
            True,
        )

    answer = _change(
        session,
        conf,
        change,
        lambda why: Answer("uteblitt", f"Ikke registrert: {why}", False),
    )
    if done:
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
        return _back(conf, Answer("handlinger", f"Ikke planlagt på nytt: {exc}", False))
    _start_planning(request, rt, conf.id or 0)
    return _back(
        conf,
        Answer(
            "handlinger",
            "Planleggingen er startet. Låste møter blir stående; resten planlegges på nytt. "
            "Framdriften og resultatet står under «Planlegging» øverst på siden.",
            True,
        ),
    )


@router.post("/konferanser/{conference_id}/publiser")
def publish_plan(
    conference_id: IdPath, session: SessionDep, user: Annotated[User, ORGANISER]
) -> Response:
    conf = _conference(session, conference_id)

    def change() -> Answer:
        publish(session, conf)
        return Answer(
            "handlinger",
            "Planen er publisert og kan ikke endres lenger. Deltakerne får ikke e-post "
            "automatisk: åpne møteplanen til hver deltaker fra navnet i planen, og skriv den "
            "ut eller send dem PDF-en eller kalenderfilen (.ics) selv.",
            True,
        )

    return _change(
        session,
        conf,
        change,
        lambda why: Answer("handlinger", f"Planen ble ikke publisert: {why}", False),
    )


# -- files and agendas ------------------------------------------------------------------------

DOWNLOADS = {
    MEETINGS_CSV: "text/csv; charset=utf-8",
    MEETINGS_XLSX: XLSX,
    PAIRS_CSV: "text/csv; charset=utf-8",
    SUMMARY_HTML: "text/html; charset=utf-8",
    SUMMARY_JSON: "application/json",
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
        raise PageError(404, "Fant ikke filen", f"Det finnes ingen fil «{name[:100]}».")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            stored_files(session, rt.store, conf, Path(tmp))
        except ConferenceError as exc:
            raise PageError(409, "Ingen plan ennå", str(exc)) from exc
        content = (Path(tmp) / name).read_bytes()
    kind = "inline" if name.endswith(".html") else "attachment"
    return Response(
        content,
        media_type=DOWNLOADS[name],
        headers={"Content-Disposition": disposition(kind, f"{_slug(conf.name)}-{name}")},
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
    plan_ = _agenda(conf)
    stem = f"møteplan-{_slug(who.name)}"
    if format == "pdf":
        return Response(
            agenda_pdf(plan_, who.name, who.organisation or "", rows),
            media_type="application/pdf",
            headers={"Content-Disposition": disposition("inline", f"{stem}.pdf")},
        )
    if format == "ics":
        return Response(
            agenda_ics(plan_, rows),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": disposition("attachment", f"{stem}.ics")},
        )
    return HTMLResponse(
        agenda_html(plan_, who.name, who.organisation or "", rows, ("?format=pdf", "?format=ics"))
    )
