"""The entrepreneur's pages: the profile, the open needs that fit it with the named contact
person of each, and expressing interest."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session, select

from models.importing import ImportValidationError
from models.tables import Challenge, Contact, Entrepreneur, Organisation, Proposal, User
from models.vocabulary import ENTREPRENEUR_STAGES, LANGUAGES
from service.api.deps import RuntimeDep, SessionDep
from service.api.types import IdPath
from service.matching import contacts_for, discover
from service.proposals import WorkflowError, express_interest
from service.records import save_entrepreneur
from service.web.common import Line, PageError, Text, field_errors, render, role, split_list

router = APIRouter(include_in_schema=False)

ENTREPRENEUR = Depends(role("entrepreneur"))
STAGES = {"": "Ikke oppgitt", **{s: s.capitalize() for s in ENTREPRENEUR_STAGES}}
# The profile form's labels, for the error summary (a message from the import rules, such as
# "«123» har feil lengde", does not say which field it is about).
LABELS = {
    "name": "Navn på virksomheten",
    "org_nr": "Organisasjonsnummer",
    "description": "Hva dere tilbyr",
    "themes": "Temaer",
    "service_areas": "Hvor dere jobber",
    "target_groups": "Målgrupper",
    "stage": "Fase",
    "capacity": "Kapasitet",
    "language": "Språk i teksten",
    "website": "Nettside",
    "contact_name": "Kontaktperson",
    "contact_email": "E-post",
}


def _own(session: Session, user: User) -> Entrepreneur:
    ent = session.get(Entrepreneur, user.entrepreneur_id) if user.entrepreneur_id else None
    if ent is None:
        raise PageError(
            404,
            "Ingen profil",
            "Brukeren din er ikke knyttet til en entreprenørprofil. Kontakt administrator.",
        )
    return ent


def _values(session: Session, ent: Entrepreneur) -> dict[str, Any]:
    contact = session.get(Contact, ent.contact_id) if ent.contact_id else None
    return {
        "name": ent.name,
        "org_nr": ent.org_nr,
        "description": ent.description,
        "themes": ent.themes,
        "service_areas": ", ".join(ent.service_areas),
        "target_groups": ", ".join(ent.target_groups),
        "stage": ent.stage or "",
        "capacity": "" if ent.capacity is None else str(ent.capacity),
        "website": ent.website or "",
        "language": ent.language,
        "contact_name": contact.name if contact else "",
        "contact_email": contact.email if contact and contact.email else "",
    }


def _profile_page(
    request: Request,
    user: User,
    values: dict[str, Any],
    errors: dict[str, str],
    advice: list[str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "profile.html",
        user,
        status_code=status_code,
        values=values,
        errors=errors,
        advice=advice,
        stages=STAGES,
        languages=LANGUAGES,
        labels=LABELS,
    )


@router.get("/profil", response_class=HTMLResponse)
def profile(request: Request, session: SessionDep, user: Annotated[User, ENTREPRENEUR]) -> Response:
    from matcher.text import profile_warnings
    from service.search import entrepreneur_text

    ent = _own(session, user)
    advice = profile_warnings(entrepreneur_text(ent), kind="offer", target_groups=ent.target_groups)
    return _profile_page(request, user, _values(session, ent), {}, advice)


class ProfileForm(BaseModel):
    """The profile form's fields as the form shows them again (lists still as typed)."""

    name: Line = ""
    org_nr: Line = ""
    description: Text = ""
    themes: list[str] = []
    service_areas: Line = ""
    target_groups: Line = ""
    stage: Line = ""
    capacity: Line = ""
    website: Line = ""
    language: Line = "nb"
    contact_name: Line = ""
    contact_email: Line = ""


@router.post("/profil", response_class=HTMLResponse)
def save_profile(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, ENTREPRENEUR],
    form: Annotated[ProfileForm, Form()],
) -> Response:
    ent = _own(session, user)
    values = form.model_dump()
    data = {
        **values,
        "service_areas": split_list(values["service_areas"]),
        "target_groups": split_list(values["target_groups"]),
    }
    try:
        save_entrepreneur(session, rt, data, ent.external_id)
    except ImportValidationError as exc:
        errors = field_errors(exc.errors)
    else:
        return RedirectResponse("/profil?melding=profil", status_code=303)
    return _profile_page(request, user, values, errors, [], status_code=422)


@router.get("/for-deg", response_class=HTMLResponse)
def for_you(
    request: Request, session: SessionDep, rt: RuntimeDep, user: Annotated[User, ENTREPRENEUR]
) -> Response:
    """Open needs that fit the profile, best first, each with its named contact person."""
    ent = _own(session, user)
    # The weak ones too, in a section of their own: an entrepreneur should see more than the
    # few needs that are sure matches, and never an empty page while needs are open.
    result = discover(session, rt.store, ent, limit=15)
    mine = {
        p.challenge_id: p
        for p in session.exec(select(Proposal).where(Proposal.entrepreneur_id == ent.id))
    }
    orgs = {o.id: o.name for o in session.exec(select(Organisation))}
    items: list[dict[str, Any]] = []
    for s in result.suggestions:
        ch: Challenge = result.rows[s.id]
        items.append(
            {
                "need": ch,
                "org": orgs.get(ch.organisation_id, ""),
                "s": s,
                "people": contacts_for(session, ch),
                "mine": mine.get(ch.id or 0),
            }
        )
    return render(
        request,
        "for_you.html",
        user,
        entrepreneur=ent,
        good=[it for it in items if it["s"].explanation["confidence"]["level"] != "svakt"],
        more=[it for it in items if it["s"].explanation["confidence"]["level"] == "svakt"][:8],
    )


@router.post("/behov/{challenge_id}/interesse")
def interest(
    challenge_id: IdPath,
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, ENTREPRENEUR],
) -> Response:
    ch = session.get(Challenge, challenge_id)
    if ch is None or ch.status != "open":
        raise PageError(404, "Fant ikke behovet", "Behovet finnes ikke eller er ikke åpent.")
    try:
        express_interest(session, rt.store, user, ch)
    except WorkflowError as exc:
        raise PageError(exc.status, "Kunne ikke melde interesse", str(exc)) from exc
    back = "/for-deg" if "for-deg" in request.headers.get("referer", "") else f"/behov/{ch.id}"
    return RedirectResponse(f"{back}?melding=interesse", status_code=303)
