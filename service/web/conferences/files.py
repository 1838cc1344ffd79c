"""The files of a stored plan for organisers (workbook, CSV, summary) and each participant's
agenda (page, PDF, calendar)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from models.tables import Participant as Row
from service.api.deps import RuntimeDep, SessionDep
from service.api.errors import IdPath
from service.conference import (
    MEETINGS_CSV,
    MEETINGS_XLSX,
    PAIRS_CSV,
    SUMMARY_HTML,
    SUMMARY_JSON,
    ConferenceError,
    agenda_html,
    agenda_ics,
    agenda_of,
    agenda_pdf,
    stored_agenda,
    stored_file,
)
from service.web.common import PageError
from service.web.conferences.common import XLSX, OrganisedConference, response_file, slug

router = APIRouter(include_in_schema=False)

DOWNLOADS = {
    MEETINGS_CSV: "text/csv; charset=utf-8",
    MEETINGS_XLSX: XLSX,
    PAIRS_CSV: "text/csv; charset=utf-8",
    SUMMARY_HTML: "text/html; charset=utf-8",
    SUMMARY_JSON: "application/json",
}


@router.get("/konferanser/{conference_id}/filer/{name}")
def download(conf: OrganisedConference, name: str, session: SessionDep, rt: RuntimeDep) -> Response:
    """The files for organisers, made from the stored plan."""
    if name not in DOWNLOADS:
        raise PageError(404, "Fant ikke filen", f"Det finnes ingen fil «{name[:100]}».")
    try:
        content = stored_file(session, rt.store, conf, name)
    except ConferenceError as exc:
        raise PageError(409, "Ingen plan ennå", str(exc)) from exc
    kind = "inline" if name.endswith(".html") else "attachment"
    return response_file(content, DOWNLOADS[name], kind, f"{slug(conf.name)}-{name}")


@router.get("/konferanser/{conference_id}/agenda/{participant_id}")
def agenda(
    conf: OrganisedConference,
    participant_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    format: str = "html",
) -> Response:
    who = session.get(Row, participant_id)
    if who is None or who.conference_id != conf.id:
        raise PageError(404, "Fant ikke deltakeren", "Deltakeren er ikke med på konferansen.")
    rows = stored_agenda(session, rt.store, conf, who)
    plan = agenda_of(conf)
    stem = f"møteplan-{slug(who.name)}"
    if format == "pdf":
        pdf = agenda_pdf(plan, who.name, who.organisation or "", rows)
        return response_file(pdf, "application/pdf", "inline", f"{stem}.pdf")
    if format == "ics":
        ics = agenda_ics(plan, rows)
        return response_file(ics, "text/calendar; charset=utf-8", "attachment", f"{stem}.ics")
    return HTMLResponse(
        agenda_html(plan, who.name, who.organisation or "", rows, ("?format=pdf", "?format=ics"))
    )
