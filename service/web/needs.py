"""Needs: one page per need for everyone, and for municipal staff the form to post and edit
a need, its ranked suggestions with their explanations, live suggestions while typing, and
the choice of which suggestions go on to the review queue."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from matcher.ranking import TOLERANCE
from matcher.text import profile_warnings
from models.importing import ImportValidationError
from models.tables import Challenge, Contact, Organisation, Proposal, User, aware, utcnow
from models.validation import visible
from models.vocabulary import CHALLENGE_STATUSES, LANGUAGES, THEMES
from service.api.deps import RuntimeDep, SessionDep
from service.api.errors import IdPath
from service.conflicts import Conflict
from service.formatting import number
from service.matching import (
    CHALLENGES,
    candidate_pool,
    challenge_text,
    contacts_for,
    preview,
    suggest,
)
from service.records import NotAllowed, save_challenge
from service.security import can_edit_challenge, can_see_challenge, organisation_ids
from service.web.common import PageError, WebUser, field_errors, render, role, split_list
from service.workflow import WorkflowError, send_to_review

router = APIRouter(include_in_schema=False)

STATUS_NAMES = {"draft": "utkast", "open": "åpent", "closed": "lukket"}
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
    if user.role == "municipal":
        query = query.where(col(Challenge.organisation_id).in_(organisation_ids(session, user)))
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


def _form_context(values: dict[str, Any], errors: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "statuses": {s: STATUS_NAMES[s] for s in CHALLENGE_STATUSES},
        "languages": LANGUAGES,
        **extra,
    }


def _values(ch: Challenge | None) -> dict[str, Any]:
    if ch is None:
        return {"themes": [], "status": "open", "language": "nb"}
    return {
        "title": ch.title,
        "description": ch.description,
        "themes": ch.themes,
        "target_groups": ", ".join(ch.target_groups),
        "deadline": ch.deadline.isoformat() if ch.deadline else "",
        "status": ch.status,
        "language": ch.language,
    }


def _owner_values(session: Session, ch: Challenge, values: dict[str, Any]) -> dict[str, Any]:
    if ch.owner_contact_id:
        owner = session.get(Contact, ch.owner_contact_id)
        if owner:
            values.update(contact_name=owner.name, contact_email=owner.email or "")
    return values


@router.get("/behov/nytt", response_class=HTMLResponse)
def new_need_form(request: Request, user: Annotated[User, MUNICIPAL]) -> Response:
    return render(
        request,
        "need_form.html",
        user,
        **_form_context(
            {**_values(None), "contact_name": user.name, "contact_email": user.email}, {}
        ),
        need=None,
        form_key=new_form_key(),
    )


# A new need's form carries a key made when the form was shown; the need is saved under the
# external id derived from it. Sending the same form twice (a double click, a retry after a
# timeout, the back button) saves the same need again instead of a second one.
FORM_KEY = re.compile(r"[0-9a-f]{16}")


def new_form_key() -> str:
    return secrets.token_hex(8)


def _saved_by(session: Session, key: str | None) -> int | None:
    found = session.exec(select(Challenge).where(Challenge.external_id == f"behov-{key}")).first()
    return found.id if found else None


# A form the back button brought back carries a new key; the same text sent again by the same
# organisation within this time is still the same need (nobody posts one need twice in ten
# minutes on purpose).
RESUBMIT_WINDOW = timedelta(minutes=10)


def _same_text(session: Session, user: User, data: NeedForm) -> Challenge | None:
    """A need of this user's organisation saved moments ago with this very title and text."""
    if user.organisation_id is None:
        return None
    found = session.exec(
        select(Challenge)
        .where(
            Challenge.organisation_id == user.organisation_id,
            Challenge.title == data["title"],
            Challenge.description == data["description"],
        )
        .order_by(col(Challenge.id).desc())
    ).first()
    if found is None or aware(found.created_at) < utcnow() - RESUBMIT_WINDOW:
        return None
    return found if can_edit_challenge(session, user, found) else None


def _keyed(session: Session, user: User, key: str) -> tuple[Challenge | None, str]:
    """For a new-need form's key: the need an earlier submit of this very form saved (if this
    user may change it), and the key to save under. A key that names a need this user may
    not change was not made for them: it is replaced, and that need is never touched."""
    found = session.exec(select(Challenge).where(Challenge.external_id == f"behov-{key}")).first()
    if found is None:
        return None, key
    if can_edit_challenge(session, user, found):
        return found, key
    return None, new_form_key()


NeedForm = dict[str, Any]
# A description's limit is checked with a Norwegian message below, not by the form parser;
# this one only bounds what is read (the browser's maxlength stops typing at 5,000).
DESCRIPTION_MAX = 5000
Text = Annotated[str, Form(max_length=200_000)]
Short = Annotated[str, Form(max_length=300)]


def need_form(
    title: Short = "",
    description: Text = "",
    target_groups: Short = "",
    contact_name: Short = "",
    contact_email: Short = "",
    deadline: Short = "",
    status: Short = "open",
    language: Short = "nb",
    themes: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    skjema: Short = "",
) -> NeedForm:
    """The need form's fields, in import format (one reader for posting and editing)."""
    return {
        "form_key": skjema if FORM_KEY.fullmatch(skjema) else None,
        "title": title.strip(),
        "description": description.strip(),
        "themes": themes,
        "target_groups": split_list(target_groups),
        "contact_name": contact_name.strip() or None,
        "contact_email": contact_email.strip() or None,
        "deadline": deadline.strip() or None,
        "status": status,
        "language": language,
    }


NeedFormDep = Annotated[NeedForm, Depends(need_form)]


def _save(
    request: Request,
    session: Session,
    rt: Any,
    user: User,
    data: NeedForm,
    existing: Challenge | None,
) -> Response:
    errors: dict[str, str] = {}
    key = data.pop("form_key", None)
    resubmit = False  # the same new-need form sent again (see FORM_KEY)
    if existing is None and key:
        existing, key = _keyed(session, user, key)
        resubmit = existing is not None
        data["id"] = None if resubmit else f"behov-{key}"
    if existing is None and not resubmit:
        again = _same_text(session, user, data)
        if again is not None:
            return RedirectResponse(f"/behov/{again.id}?melding=lagret-igjen", status_code=303)
    if not visible(data["title"]):
        errors["title"] = "Skriv en kort tittel."
    if not visible(data["description"]):
        errors["description"] = "Beskriv behovet med noen setninger."
    elif len(data["description"]) > DESCRIPTION_MAX:
        errors["description"] = (
            f"Beskrivelsen er {number(len(data['description']))} tegn; høyst "
            f"{number(DESCRIPTION_MAX)} får plass. Kort den ned – to til fire setninger om "
            "hva som trengs, for hvem og hvor gir best treff."
        )
    if not data["themes"]:
        errors["themes"] = "Velg minst ett tema."
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
            return RedirectResponse(f"/behov/{_saved_by(session, key)}?melding=lagret-igjen", 303)
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
        **_form_context(values, errors),
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
    staff_view = user is not None and (
        user.role in ("reviewer", "admin") or can_edit_challenge(session, user, ch)
    )
    result = None
    preparing = False
    if staff_view and ch.status == "open":
        if rt.store.holds(CHALLENGES, ch.id, challenge_text(ch)):
            result = suggest(
                session,
                rt.store,
                ch,
                limit=candidate_pool(SHOWN) if alle else SHOWN,
                pool=candidate_pool(SHOWN),
            )
        else:
            # Saved moments ago and not searchable yet: the indexer is at it (asking again
            # is free, and covers a server that restarted before it got to this need).
            preparing = True
            rt.indexer.request()
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
    if user is not None and user.role == "entrepreneur" and user.entrepreneur_id:
        mine = proposals.get(user.entrepreneur_id)
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
    return {"running": not ready, "done": 0, "total": 0, "text": text, "error": ""}


PREPARING = "Behovet er lagret. Forslagene gjøres klare – det tar vanligvis noen sekunder."


@router.get("/behov/{challenge_id}/endre", response_class=HTMLResponse)
def edit_need_form(
    request: Request, challenge_id: IdPath, session: SessionDep, user: Annotated[User, MUNICIPAL]
) -> Response:
    ch = _editable(session, user, challenge_id)
    values = _owner_values(session, ch, _values(ch))
    return render(request, "need_form.html", user, **_form_context(values, {}), need=ch)


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
    session.commit()
    return RedirectResponse(f"/behov/{ch.id}?melding=sendt#forslag", status_code=303)
