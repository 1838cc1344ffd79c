"""Pages for everyone: open needs, public contact persons per field, log in / log out, and
the start page of each role."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import col, select

from models.tables import Challenge, Contact, Organisation
from models.vocabulary import THEMES
from service.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SessionDep,
    client_address,
    set_session_cookie,
)
from service.security import (
    SESSION_LABEL,
    TooManyAttempts,
    issue_token,
    log_in,
    revoke_token,
)
from service.web.common import WebUser, render, safe_next, start_page

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def open_needs(
    request: Request, session: SessionDep, user: WebUser, tema: str | None = None
) -> Response:
    rows = session.exec(
        select(Challenge, Organisation)
        .join(Organisation, col(Organisation.id) == col(Challenge.organisation_id))
        .where(Challenge.status == "open")
        .order_by(col(Challenge.created_at).desc())
    ).all()
    if tema in THEMES:
        rows = [r for r in rows if tema in r[0].themes]
    return render(request, "needs.html", user, needs=rows, theme=tema if tema in THEMES else None)


@router.get("/kontakter", response_class=HTMLResponse)
def contacts(request: Request, session: SessionDep, user: WebUser) -> Response:
    by_field: dict[str, list[tuple[Contact, str]]] = defaultdict(list)
    orgs = {o.id: o.name for o in session.exec(select(Organisation))}
    for c in session.exec(
        select(Contact)
        .where(col(Contact.public).is_(True), col(Contact.organisation_id).is_not(None))
        .order_by(col(Contact.name))
    ):
        for field in c.fields or []:
            by_field[field].append((c, orgs.get(c.organisation_id, "")))
    fields = [(slug, THEMES[slug], by_field[slug]) for slug in THEMES if by_field.get(slug)]
    return render(request, "contacts.html", user, fields=fields)


@router.get("/start")
def start(user: WebUser) -> Response:
    """Each role's own start page (log in first when needed)."""
    if user is None:
        return RedirectResponse("/logg-inn?neste=/start", status_code=303)
    return RedirectResponse(start_page(user), status_code=303)


@router.get("/logg-inn", response_class=HTMLResponse)
def login_form(request: Request, user: WebUser, neste: str | None = None) -> Response:
    return render(request, "login.html", user, errors={}, email="", neste=safe_next(neste) or "")


@router.post("/logg-inn", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    neste: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    target = safe_next(neste) or ""
    if not csrf or csrf != request.cookies.get(CSRF_COOKIE):
        return render(
            request,
            "login.html",
            None,
            status_code=403,
            email=email,
            neste=target,
            errors={"form": "Skjemaet var utløpt. Prøv igjen."},
        )
    errors = {}
    if not email.strip():
        errors["email"] = "Skriv inn e-postadressen din."
    if not password:
        errors["password"] = "Skriv inn passordet ditt."
    found, status = None, 400
    if not errors:
        try:
            found = log_in(session, email, password, client_address(request))
        except TooManyAttempts as exc:
            errors["form"], status = str(exc), 429
        except PermissionError as exc:
            errors["password"] = str(exc)
    if errors or found is None:
        return render(
            request,
            "login.html",
            None,
            status_code=status,
            email=email,
            neste=target,
            errors=errors,
        )
    token = issue_token(session, found, label=SESSION_LABEL)
    session.commit()
    response = RedirectResponse(target or start_page(found), status_code=303)
    set_session_cookie(response, token)
    return response


@router.post("/logg-ut")
def logout(request: Request, session: SessionDep, csrf: Annotated[str, Form()] = "") -> Response:
    """Log out: the session token is revoked, not only forgotten by the browser. Without the
    form's CSRF value nothing happens (another site cannot log a user out)."""
    if not csrf or csrf != request.cookies.get(CSRF_COOKIE):
        return RedirectResponse("/", status_code=303)
    token = request.cookies.get(SESSION_COOKIE)
    if token and revoke_token(session, token):
        session.commit()
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
