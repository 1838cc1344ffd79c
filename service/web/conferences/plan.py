"""One conference's plan: the page, the planning status, and every change to the plan (lock,
move, remove, add meetings; record a no-show; re-plan the rest; publish), each answered where
the organiser acted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from models.tables import Meeting, User
from service.api.deps import RuntimeDep, SessionDep
from service.api.errors import IdPath
from service.conference import (
    ConferenceError,
    add_meeting,
    ensure_editable,
    move_meeting,
    pair_name,
    plan_view,
    publish,
    record_no_show,
    remove_meeting,
    set_locked,
    slot_time,
)
from service.web import jobs
from service.web.common import render
from service.web.conferences.common import (
    ANSWER_COOKIE,
    ORGANISER,
    Answer,
    OrganisedConference,
    back,
    change_and_back,
    job_key,
    shown_answer,
    start_planning,
)

router = APIRouter(include_in_schema=False)


@router.get("/konferanser/{conference_id}", response_class=HTMLResponse)
def conference_page(
    request: Request,
    conf: OrganisedConference,
    session: SessionDep,
    user: Annotated[User, ORGANISER],
) -> Response:
    job = jobs.current(request, job_key(conf.id or 0))
    response = render(
        request,
        "conference.html",
        user,
        job=job,
        answer=shown_answer(request),
        **plan_view(session, conf),
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
    job = jobs.current(request, job_key(conference_id))
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
    conf: OrganisedConference,
    meeting_id: IdPath,
    session: SessionDep,
    locked: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    where = f"mote-{meeting_id}"

    def change() -> Answer:
        m = set_locked(session, conf, meeting_id, locked=locked == "ja")
        if m.locked:
            text = (
                f"Møtet {pair_name(session, m)} er låst i {slot_time(conf, m.slot)}. Det blir "
                "stående der når resten planlegges på nytt."
            )
        else:
            text = (
                f"Møtet {pair_name(session, m)} er låst opp. Det kan bli flyttet eller byttet ut "
                "når resten planlegges på nytt."
            )
        return Answer(where, text, True)

    return change_and_back(
        session, conf, change, lambda why: Answer(where, f"Møtet ble ikke endret: {why}", False)
    )


@router.post("/konferanser/{conference_id}/moter/{meeting_id}/flytt")
def move(
    conf: OrganisedConference,
    meeting_id: IdPath,
    session: SessionDep,
    slot: Annotated[int, Form()] = 0,
) -> Response:
    where = f"mote-{meeting_id}"
    before = session.get(Meeting, meeting_id)
    old_slot = before.slot if before else 0

    def change() -> Answer:
        m = move_meeting(session, conf, meeting_id, slot)
        if m.slot == old_slot:
            text = (
                f"Møtet {pair_name(session, m)} står i {slot_time(conf, m.slot)}, bord "
                f"{m.table_no}, og er nå låst der."
            )
        else:
            text = (
                f"Møtet {pair_name(session, m)} er flyttet til {slot_time(conf, m.slot)}, bord "
                f"{m.table_no}, og låst der. Plassen i tidsluke {old_slot} står tom til du "
                "planlegger resten på nytt."
            )
        return Answer(where, text, True)

    return change_and_back(
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
def remove(conf: OrganisedConference, meeting_id: IdPath, session: SessionDep) -> Response:
    m = session.get(Meeting, meeting_id)
    found = m is not None and m.conference_id == conf.id
    pair, slot = (pair_name(session, m), m.slot) if m is not None and found else ("", 0)

    def change() -> Answer:
        remove_meeting(session, conf, meeting_id)
        return Answer(
            f"tidsluke-{slot}",
            f"Møtet {pair} i tidsluke {slot} er fjernet. Paret settes ikke opp igjen når "
            "resten planlegges på nytt; plassen står tom til da.",
            True,
        )

    return change_and_back(
        session,
        conf,
        change,
        lambda why: Answer(
            f"mote-{meeting_id}" if found else "plan", f"Møtet ble ikke fjernet: {why}", False
        ),
    )


@router.post("/konferanser/{conference_id}/moter")
def add(
    conf: OrganisedConference,
    session: SessionDep,
    rt: RuntimeDep,
    municipal: Annotated[int, Form()] = 0,
    entrepreneur: Annotated[int, Form()] = 0,
    slot: Annotated[int, Form()] = 0,
) -> Response:

    def change() -> Answer:
        m = add_meeting(session, rt.store, conf, municipal, entrepreneur, slot)
        return Answer(
            f"mote-{m.id}",
            f"Møtet {pair_name(session, m)} er lagt til i {slot_time(conf, m.slot)}, bord "
            f"{m.table_no}, og låst der.",
            True,
        )

    return change_and_back(
        session,
        conf,
        change,
        lambda why: Answer("legg-til", f"Møtet ble ikke lagt til: {why}", False),
    )


@router.post("/konferanser/{conference_id}/uteblitt")
def no_show(
    request: Request,
    conf: OrganisedConference,
    session: SessionDep,
    rt: RuntimeDep,
    participant: Annotated[int, Form()] = 0,
    slot: Annotated[int, Form()] = 0,
) -> Response:
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

    answer = change_and_back(
        session,
        conf,
        change,
        lambda why: Answer("uteblitt", f"Ikke registrert: {why}", False),
    )
    if done:
        start_planning(request, rt, conf.id or 0)  # re-plan the rest of the day
    return answer


@router.post("/konferanser/{conference_id}/planlegg")
def replan(request: Request, conf: OrganisedConference, rt: RuntimeDep) -> Response:
    try:
        ensure_editable(conf)
    except ConferenceError as exc:
        return back(conf, Answer("handlinger", f"Ikke planlagt på nytt: {exc}", False))
    start_planning(request, rt, conf.id or 0)
    return back(
        conf,
        Answer(
            "handlinger",
            "Planleggingen er startet. Låste møter blir stående; resten planlegges på nytt. "
            "Framdriften og resultatet står under «Planlegging» øverst på siden.",
            True,
        ),
    )


@router.post("/konferanser/{conference_id}/publiser")
def publish_plan(conf: OrganisedConference, session: SessionDep) -> Response:

    def change() -> Answer:
        publish(session, conf)
        return Answer(
            "handlinger",
            "Planen er publisert og kan ikke endres lenger. Deltakerne får ikke e-post "
            "automatisk: åpne møteplanen til hver deltaker fra navnet i planen, og skriv den "
            "ut eller send dem PDF-en eller kalenderfilen (.ics) selv.",
            True,
        )

    return change_and_back(
        session,
        conf,
        change,
        lambda why: Answer("handlinger", f"Planen ble ikke publisert: {why}", False),
    )
