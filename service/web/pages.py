"""Pages: public open needs, public contact persons per field, log in / log out."""

from __future__ import annotations

import secrets
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import col, select

from models.tables import Challenge, Contact, Organisation, User
from models.vocabulary import THEMES
from service.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    OptionalUser,
    SessionDep,
    set_csrf_cookie,
    set_session_cookie,
)
from service.security import authenticate, issue_token, revoke_token

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["THEMES"] = THEMES
router = APIRouter(include_in_schema=False)

ROLE_LABELS = {
    "admin": "administrator",
    "reviewer": "saksbehandler",
    "municipal": "kommuneansatt",
    "entrepreneur": "entreprenør",
    "organiser": "arrangør",
}


def _csrf(request: Request) -> str:
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)


def render(
    request: Request, name: str, user: User | None, status_code: int = 200, **context: Any
) -> Response:
    token = _csrf(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "role_label": ROLE_LABELS.get(user.role, "") if user else "",
            "csrf": token,
            **context,
        },
        status_code=status_code,
    )
    if request.cookies.get(CSRF_COOKIE) != token:
        set_csrf_cookie(response, token)
    return response


@router.get("/", response_class=HTMLResponse)
def open_needs(
    request: Request, session: SessionDep, user: OptionalUser, tema: str | None = None
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
def contacts(request: Request, session: SessionDep, user: OptionalUser) -> Response:
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


@router.get("/logg-inn", response_class=HTMLResponse)
def login_form(request: Request, user: OptionalUser) -> Response:
    return render(request, "login.html", user, errors={}, email="")


@router.post("/logg-inn", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if not csrf or csrf != request.cookies.get(CSRF_COOKIE):
        return render(
            request,
            "login.html",
            None,
            status_code=403,
            email=email,
            errors={"form": "Skjemaet var utløpt. Prøv igjen."},
        )
    errors = {}
    if not email.strip():
        errors["email"] = "Skriv inn e-postadressen din."
    if not password:
        errors["password"] = "Skriv inn passordet ditt."
    found = None if errors else authenticate(session, email, password)
    if not errors and found is None:
        errors["password"] = "Feil e-post eller passord."
    if errors or found is None:
        return render(request, "login.html", None, status_code=400, email=email, errors=errors)
    token = issue_token(session, found, label="nettleser")
    session.commit()
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, token)
    return response


@router.post("/logg-ut")
def logout(request: Request, session: SessionDep, csrf: Annotated[str, Form()] = "") -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and csrf and csrf == request.cookies.get(CSRF_COOKIE) and revoke_token(session, token):
        session.commit()
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
