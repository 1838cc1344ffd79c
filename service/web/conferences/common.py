"""What the organisers' conference pages share: the role check, finding the conference,
file names for downloads, planning in the background, and the answer after a change, shown
where the user acted (a short-lived cookie, never the URL, so a link cannot make the page say
something the server did not)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, unquote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from models.tables import Conference, User
from service import formatting
from service.api.deps import SessionDep
from service.api.types import IdPath
from service.conference import ConferenceError, plan_stored
from service.runtime import Runtime
from service.web import jobs
from service.web.common import PageError, role
from service.web.jobs import Job

ORGANISER = Depends(role("organiser", "admin"))
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


def job_key(conference_id: int) -> str:
    return f"konferanse-{conference_id}"


def start_planning(request: Request, rt: Runtime, conference_id: int) -> None:
    def work(job: Job) -> list[str]:
        return [plan_stored(rt.engine, rt.store, conference_id, job.progress)]

    jobs.start(request, job_key(conference_id), Job(_plan_text), work)


def find_conference(session: Session, conference_id: int) -> Conference:
    conf = session.get(Conference, conference_id)
    if conf is None:
        raise PageError(
            404, "Fant ikke konferansen", f"Det finnes ingen konferanse {conference_id}."
        )
    return conf


def organised_conference(
    conference_id: IdPath, session: SessionDep, user: Annotated[User, ORGANISER]
) -> Conference:
    """The conference the path names, for an organiser: the role is checked first (403), then
    that it exists (404). The request's one session is shared with the route (FastAPI caches
    a dependency within a request)."""
    return find_conference(session, conference_id)


OrganisedConference = Annotated[Conference, Depends(organised_conference)]


# -- file names -------------------------------------------------------------------------------


def slug(text: str) -> str:
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


@dataclass(frozen=True)
class Answer:
    where: str  # id of the element the answer belongs to; also the URL's anchor
    text: str
    ok: bool


def back(conf: Conference, answer: Answer) -> RedirectResponse:
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


def shown_answer(request: Request) -> Answer | None:
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


def change_and_back(
    session: Session,
    conf: Conference,
    change: Callable[[], Answer],
    refused: Callable[[str], Answer],
) -> RedirectResponse:
    """Apply one change to the plan (a service function that commits it) and go back to
    where it was made, with the answer; a refusal is shown there as well, nothing saved."""
    try:
        answer = change()
    except ConferenceError as exc:
        return back(conf, refused(str(exc)))
    return back(conf, answer)


def response_file(content: bytes | str, media_type: str, kind: str, filename: str) -> Response:
    """A file to download (``attachment``) or show (``inline``), named with æøå intact."""
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": disposition(kind, filename)},
    )
