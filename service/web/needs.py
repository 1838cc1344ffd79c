"""Needs: one page per need for everyone, and for municipal staff the form to post and edit
a need, its ranked suggestions with their explanations, live suggestions while typing, and
the choice of which suggestions go on to the review queue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from matcher.ranking import TOLERANCE
from matcher.text import profile_warnings
from models.importing import ImportValidationError
from models.tables import Challenge, Organisation, Proposal, User
from models.vocabulary import THEMES
from service.api.deps import RuntimeDep, SessionDep
from service.api.types import IdPath
from service.conflicts import Conflict
from service.matching import MatchResult, candidate_pool, contacts_for, preview, suggest
from service.proposals import WorkflowError, send_to_review
from service.records import NotAllowed, save_challenge
from service.runtime import Runtime
from service.search import CHALLENGES, challenge_text
from service.security import (
    can_edit_challenge,
    can_see_challenge,
    can_see_suggestions,
    is_entrepreneur,
    visible_challenge_ids,
)
from service.web import jobs
from service.web.common import PageError, WebUser, field_errors, render, role
from service.web.need_form import (
    STATUS_NAMES,
    NeedForm,
    NeedFormDep,
    form_context,
    form_errors,
    form_values,
    keyed,
    new_form_key,
    owner_values,
    same_text,
    saved_by,
)

router = APIRouter(include_in_schema=False)

STATUS_ORDER = {"open": 0, "draft": 1, "closed": 2}
MUNICIPAL = Depends(role("municipal", "admin"))
STAFF = Depends(role("municipal", "reviewer", "admin"))
SHOWN = 10  # suggestions on a need's page


def _need(session: Session, user: User | None, challenge_id: int) -> Challenge:
    ch = session.get(Challenge, challenge_id)
    if ch is None or not can_see_challenge(session, user, ch):
        raise PageError(
            404,
            "Fant ikke behovet",
            f"Det finnes ikke noe behov {challenge_id} som du har tilgang til.",
        )
    return ch


def _editable(session: Session, user: User, challenge_id: int) -> Challenge:
    ch = _need(session, user, challenge_id)
    if not can_edit_challenge(session, user, ch):
        raise PageError(403, "Ingen tilgang", "Du kan bare endre behov fra din egen organisasjon.")
    return ch


@router.get("/mine-behov", response_class=HTMLResponse)
def my_needs(request: Request, session: SessionDep, user: Annotated[User, MUNICIPAL]) -> Response:
    query = select(Challenge).order_by(col(Challenge.updated_at).desc())
    mine = visible_challenge_ids(session, user)
    if mine is not None:
        query = query.where(col(Challenge.id).in_(mine))
    # Open needs first, then drafts, closed last; the newest change first within each.
    needs = sorted(session.exec(query), key=lambda c: STATUS_ORDER.get(c.status, 3))
    counts: dict[int, dict[str, int]] = {}
    if needs:
        for cid, status, n in session.exec(
            select(Proposal.challenge_id, Proposal.status, func.count())
            .where(col(Proposal.challenge_id).in_([c.id for c in needs]))
            .group_by(col(Proposal.challenge_id), col(Proposal.status))
        ):
            counts.setdefault(cid, {})[status] = n
    org = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    return render(
        request,
        "my_needs.html",
        user,
        needs=needs,
        counts=counts,
        organisation=org.name if org else "",
        status_names=STATUS_NAMES,
    )


@router.get("/behov/nytt", response_class=HTMLResponse)
def new_need_form(request: Request, user: Annotated[User, MUNICIPAL]) -> Response:
    return render(
        request,
        "need_form.html",
        user,
        **form_context(
            {**form_values(None), "contact_name": user.name, "contact_email": user.email}, {}
        ),
        need=None,
        form_key=new_form_key(),
    )


def _save(
    request: Request,
    session: Session,
    rt: Any,
    user: User,
    data: NeedForm,
    existing: Challenge | None,
) -> Response:
    key = data.pop("form_key", None)
    resubmit = False  # the same new-need form sent again (see FORM_KEY)
    if existing is None and key:
        existing, key = keyed(session, user, key)
        resubmit = existing is not None
        data["id"] = None if resubmit else f"behov-{key}"
    if existing is None and not resubmit:
        again = same_text(session, user, data)
        if again is not None:
            return RedirectResponse(f"/behov/{again.id}?melding=lagret-igjen", status_code=303)
    errors = form_errors(data)
    if (existing is None or resubmit) and not data["contact_name"] and not data["contact_email"]:
        # Nobody named: the one who posts it owns it until someone else is written in.
        data["contact_name"], data["contact_email"] = user.name or None, user.email
    if not errors:
        try:
            saved = save_challenge(
                session, rt, user, data, existing, propose=False, new=existing is None
            )
        except ImportValidationError as exc:
            errors = field_errors(exc.errors)
        except Conflict:  # the same form sent twice at the very same moment: the other won
            return RedirectResponse(f"/behov/{saved_by(session, key)}?melding=lagret-igjen", 303)
        except NotAllowed as exc:
            raise PageError(403, "Ingen tilgang", str(exc)) from exc
        else:
            code = "lagret-igjen" if resubmit else "lagret"
            return RedirectResponse(f"/behov/{saved.challenge.id}?melding={code}", status_code=303)
    values = {**data, "target_groups": ", ".join(data["target_groups"])}
    return render(
        request,
        "need_form.html",
        user,
        status_code=422,
        **form_context(values, errors),
        need=None if resubmit else existing,
        form_key=key if existing is None or resubmit else None,
    )


@router.post("/behov/nytt", response_class=HTMLResponse)
def create_need(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, MUNICIPAL],
    data: NeedFormDep,
) -> Response:
    return _save(request, session, rt, user, data, None)


@router.get("/behov/forhandsvisning", response_class=HTMLResponse)
def live_suggestions(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, MUNICIPAL],
    tittel: Annotated[str, Query(max_length=300)] = "",
    beskrivelse: Annotated[str, Query(max_length=5000)] = "",
    tema: Annotated[list[str], Query()] = [],  # noqa: B006
) -> Response:
    """Suggestions for the draft being typed (an HTML fragment the form's script shows)."""
    words = len(f"{tittel} {beskrivelse}".split())
    result = None
    advice: list[str] = []
    if words >= 6:
        draft = Challenge(
            organisation_id=user.organisation_id or 0,
            title=tittel,
            description=beskrivelse,
            themes=[t for t in tema if t in THEMES],
            external_id="utkast",
        )
        result = preview(session, rt.store, draft)
        advice = profile_warnings(challenge_text(draft), kind="need")
    return render(
        request,
        "_live.html",
        user,
        result=result,
        words=words,
        advice=advice,
        themes_chosen=bool(tema),
    )


def _suggestions(
    session: Session, rt: Runtime, ch: Challenge, *, show_all: bool
) -> MatchResult | None:
    """An open need's suggestions; None while it is not searchable yet (or not open)."""
    if ch.status != "open":
        return None
    if not rt.store.holds(CHALLENGES, ch.id, challenge_text(ch)):
        # Saved moments ago and not searchable yet: the indexer is at it (asking again is
        # free, and covers a server that restarted before it got to this need).
        rt.indexer.request()
        return None
    pool = candidate_pool(SHOWN)
    return suggest(session, rt.store, ch, limit=pool if show_all else SHOWN, pool=pool)


@router.get("/behov/{challenge_id}", response_class=HTMLResponse)
def need_page(
    request: Request,
    challenge_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: WebUser,
    alle: bool = False,
) -> Response:
    ch = _need(session, user, challenge_id)
    org = session.get(Organisation, ch.organisation_id)
    staff_view = user is not None and can_see_suggestions(session, user, ch)
    result = _suggestions(session, rt, ch, show_all=alle) if staff_view else None
    preparing = staff_view and ch.status == "open" and result is None
    proposals = {
        p.entrepreneur_id: p
        for p in session.exec(select(Proposal).where(Proposal.challenge_id == ch.id))
    }
    people = [c for c in contacts_for(session, ch) if c.public or user is not None]
    advice = (
        profile_warnings(challenge_text(ch), kind="need", target_groups=ch.target_groups)
        if user is not None and can_edit_challenge(session, user, ch)
        else []
    )
    mine = None
    if is_entrepreneur(user):
        mine = proposals.get(user.entrepreneur_id or 0)
    return render(
        request,
        "need.html",
        user,
        need=ch,
        organisation=org.name if org else "",
        result=result,
        proposals=proposals if staff_view else {},
        can_send=user is not None and can_edit_challenge(session, user, ch),
        pickable=sum(1 for s in (result.suggestions if result else []) if s.id not in proposals),
        people=people,
        mine=mine,
        can_show_interest=is_entrepreneur(user) and ch.status == "open",
        advice=advice,
        show_all=alle,
        status_names=STATUS_NAMES,
        preparing=preparing,
        index_error=rt.indexer.error,
        shown=SHOWN,
        tolerance_points=round(TOLERANCE * 100),
        best=result.best_score if result else None,
    )


@router.get("/behov/{challenge_id}/forslag-status")
def suggestions_state(
    challenge_id: IdPath, session: SessionDep, rt: RuntimeDep, user: Annotated[User, STAFF]
) -> dict[str, Any]:
    """Whether a need's suggestions are ready (polled by its page while they are prepared);
    in the shape of a background job's state, which the page's script follows."""
    ch = _need(session, user, challenge_id)
    ready = ch.status != "open" or rt.store.holds(CHALLENGES, ch.id, challenge_text(ch))
    if not ready:
        rt.indexer.request()
    text = "Forslagene er klare." if ready else PREPARING
    if rt.indexer.error and not ready:
        text = f"Søkeindeksen kunne ikke oppdateres ({rt.indexer.error}). Prøver igjen …"
    return jobs.state(running=not ready, text=text)


PREPARING = "Behovet er lagret. Forslagene gjøres klare – det tar vanligvis noen sekunder."


@router.get("/behov/{challenge_id}/endre", response_class=HTMLResponse)
def edit_need_form(
    request: Request, challenge_id: IdPath, session: SessionDep, user: Annotated[User, MUNICIPAL]
) -> Response:
    ch = _editable(session, user, challenge_id)
    values = owner_values(session, ch, form_values(ch))
    return render(request, "need_form.html", user, **form_context(values, {}), need=ch)


@router.post("/behov/{challenge_id}/endre", response_class=HTMLResponse)
def edit_need(
    request: Request,
    challenge_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, MUNICIPAL],
    data: NeedFormDep,
) -> Response:
    return _save(request, session, rt, user, data, _editable(session, user, challenge_id))


@router.post("/behov/{challenge_id}/send")
def send_chosen(
    challenge_id: IdPath,
    session: SessionDep,
    rt: RuntimeDep,
    user: Annotated[User, MUNICIPAL],
    entrepreneur: Annotated[list[int], Form()] = [],  # noqa: B006
) -> Response:
    ch = _editable(session, user, challenge_id)
    if not entrepreneur:
        return RedirectResponse(f"/behov/{ch.id}?melding=ingen-valgt#forslag", status_code=303)
    try:
        send_to_review(session, rt.store, user, ch, entrepreneur)
    except WorkflowError as exc:
        raise PageError(exc.status, "Kunne ikke sende", str(exc)) from exc
    return RedirectResponse(f"/behov/{ch.id}?melding=sendt#forslag", status_code=303)
