"""Pages for everyone: open needs, public contact persons per field, log in / log out, the
start page of each role, and what the service is (/om) with its accessibility statement
(/tilgjengelighet) and privacy statement (/personvern).

The two statements are written from what the code does; the figures in them (session
lifetimes, retention, log-in throttling, test viewports) come from the code and settings
that decide them, so the text cannot drift from the behaviour."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.tables import Contact
from models.validation import CONTROL
from models.vocabulary import THEMES
from service import browse
from service.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    RuntimeDep,
    SessionDep,
    client_address,
    set_session_cookie,
)
from service.security import (
    SESSION_ABSOLUTE,
    SESSION_IDLE,
    THROTTLE_WINDOW,
    TooManyAttempts,
    end_session,
    log_in,
    start_session,
)
from service.web.common import WebUser, render, safe_next, start_page

router = APIRouter(include_in_schema=False)


# The search fields of the two list pages: query parameter (and field id) per filter.
FILTER_FIELDS = {"text": "sok", "organisation": "organisasjon", "theme": "tema"}


@dataclass(frozen=True)
class ListQuery:
    """A list page's search: the filters, their errors, and the values to show in the form
    again (without control characters, which have no place in a page)."""

    found: browse.Filters
    errors: dict[str, str]
    values: dict[str, str]


def list_query(
    session: SessionDep,
    sok: str | None = None,
    organisasjon: str | None = None,
    tema: str | None = None,
) -> ListQuery:
    found, problems = browse.filters(session, text=sok, organisation=organisasjon, theme=tema)
    errors = {FILTER_FIELDS[k]: v for k, v in problems.items()}
    sent = {"sok": sok, "organisasjon": organisasjon, "tema": tema}
    return ListQuery(found, errors, {k: CONTROL.sub("", v or "") for k, v in sent.items()})


ListQueryDep = Annotated[ListQuery, Depends(list_query)]


@router.get("/", response_class=HTMLResponse)
def open_needs(
    request: Request, session: SessionDep, user: WebUser, query: ListQueryDep
) -> Response:
    """The open needs, searchable and filtered by organisation and theme (a GET form: the
    query stays in the address, and the page works without JavaScript)."""
    found, errors, values = query.found, query.errors, query.values
    return render(
        request,
        "needs.html",
        user,
        status_code=422 if errors else 200,
        needs=browse.open_needs(session, found),
        filters=found,
        errors=errors,
        values=values,
        organisations=browse.needs_organisations(session),
    )


@router.get("/kontakter", response_class=HTMLResponse)
def contacts(request: Request, session: SessionDep, user: WebUser, query: ListQueryDep) -> Response:
    """The public contact persons per field, searchable and filtered like the needs."""
    found, errors, values = query.found, query.errors, query.values
    rows = browse.public_contacts(session, found)
    by_field: dict[str, list[tuple[Contact, str]]] = defaultdict(list)
    for c, org in rows:
        for field in c.fields or []:
            if found.theme in (None, field):
                by_field[field].append((c, org.name))
    fields = [(slug, THEMES[slug], by_field[slug]) for slug in THEMES if by_field.get(slug)]
    return render(
        request,
        "contacts.html",
        user,
        status_code=422 if errors else 200,
        fields=fields,
        count=len({c.id for people in by_field.values() for c, _ in people}),
        filters=found,
        errors=errors,
        values=values,
        organisations=browse.contacts_organisations(session),
    )


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
    token = start_session(session, found)
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
    if token:
        end_session(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- what the service is, and its two statements -----------------------------------------------

# When the statements were last checked against the service (change it with them).
STATEMENTS_CHECKED = date(2026, 12, 1)
# The screen sizes the browser tests check every page at (tests/web/helpers.py, VIEWPORTS).
TESTED_SIZES = (("mobilstørrelse", 390, 844), ("PC-størrelse", 1280, 900))


def _about(request: Request, rt: RuntimeDep, user: WebUser, name: str) -> Response:
    settings = rt.settings
    return render(
        request,
        name,
        user,
        operator=settings.operator,
        contact_email=settings.contact_email,
        retention_days=settings.retention_days,
        session_hours=int(SESSION_ABSOLUTE.total_seconds() // 3600),
        idle_hours=int(SESSION_IDLE.total_seconds() // 3600),
        throttle_minutes=int(THROTTLE_WINDOW.total_seconds() // 60),
        tested_sizes=TESTED_SIZES,
        checked=STATEMENTS_CHECKED,
    )


@router.get("/om", response_class=HTMLResponse)
def about(request: Request, rt: RuntimeDep, user: WebUser) -> Response:
    """What Brobygger is, and how an enterprise or a municipality joins."""
    return _about(request, rt, user, "about.html")


@router.get("/tilgjengelighet", response_class=HTMLResponse)
def accessibility(request: Request, rt: RuntimeDep, user: WebUser) -> Response:
    return _about(request, rt, user, "accessibility.html")


@router.get("/personvern", response_class=HTMLResponse)
def privacy(request: Request, rt: RuntimeDep, user: WebUser) -> Response:
    return _about(request, rt, user, "privacy.html")
