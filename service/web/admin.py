"""The operator's pages: index status and re-indexing with progress, users and their tokens,
organisations. And the organiser's list of conferences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.importing import ImportValidationError
from models.tables import (
    ApiToken,
    Challenge,
    Entrepreneur,
    Organisation,
    Proposal,
    User,
)
from models.vocabulary import ORGANISATION_KINDS, ROLES
from service import organisations
from service.api.deps import RuntimeDep, SessionDep
from service.api.types import IdPath
from service.conflicts import Conflict
from service.runtime import Runtime
from service.search import WAITING, sync_engine
from service.security import (
    NewUser,
    UserError,
    new_api_token,
    register_user,
    withdraw_tokens,
)
from service.web import jobs
from service.web.common import ROLE_LABELS, Line, PageError, field_errors, render, role
from service.web.jobs import Job

router = APIRouter(include_in_schema=False)

ADMIN = Depends(role("admin"))
INDEX_NAMES = {"entrepreneurs": "entreprenører", "challenges": "behov", "setninger": "setninger"}


# -- re-indexing in the background, with progress ------------------------------------------------


def _index_text(phase: str, done: float, total: float) -> str:
    if phase == WAITING:
        return f"Venter på at en annen prosess blir ferdig med søkeindeksen ({done:.0f} s) …"
    if not total:
        return "Sjekker indeksen mot databasen …"
    return f"Bygger {INDEX_NAMES.get(phase, phase)}: {done:.0f} av {total:.0f} tekster."


def _reindex(rt: Runtime, full: bool) -> Callable[[Job], list[str]]:
    def work(job: Job) -> list[str]:
        reports = sync_engine(rt.engine, rt.store, progress=job.progress, rebuild=full)
        return [
            f"{INDEX_NAMES.get(r.name, r.name).capitalize()}: {r.count} søkbare, "
            f"{r.added} lagt til, {r.removed} fjernet, {r.embedded} tekster lest av "
            "språkmodellen for første gang."
            for r in reports
        ]

    return work


def _counts(session: Session) -> dict[str, int]:
    def n(model: Any, *where: Any) -> int:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())

    return {
        "Entreprenører": n(Entrepreneur),
        "Åpne behov": n(Challenge, col(Challenge.status) == "open"),
        "Forslag som venter": n(Proposal, col(Proposal.status) == "proposed"),
        "Organisasjoner": n(Organisation),
        "Brukere": n(User),
    }


@router.get("/admin", response_class=HTMLResponse)
def operations(
    request: Request, session: SessionDep, rt: RuntimeDep, user: Annotated[User, ADMIN]
) -> Response:
    verify = {r.name: r for r in rt.store.verify(session)}
    manifests = rt.store.manifests()
    indexes = [
        {"name": INDEX_NAMES[name], "report": verify[name], "manifest": manifests.get(name)}
        for name in ("entrepreneurs", "challenges")
    ]
    return render(
        request,
        "admin.html",
        user,
        counts=_counts(session),
        indexes=indexes,
        job=jobs.current(request, "indeks"),
        embedder=rt.store.embedder_key,
    )


@router.post("/admin/indeks")
def reindex(
    request: Request,
    rt: RuntimeDep,
    user: Annotated[User, ADMIN],
    full: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    jobs.start(request, "indeks", Job(_index_text), _reindex(rt, full == "ja"))
    return RedirectResponse("/admin#indeks", status_code=303)


@router.get("/admin/indeks/status")
def reindex_status(request: Request, user: Annotated[User, ADMIN]) -> JSONResponse:
    return jobs.status(request, "indeks", "Ingen ombygging er startet.")


# -- users and tokens --------------------------------------------------------------------------


def _users_page(
    request: Request,
    session: Session,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    new_token: tuple[User, str] | None = None,
    status_code: int = 200,
) -> Response:
    users = list(session.exec(select(User).order_by(col(User.role), col(User.email))))
    tokens = dict(
        session.exec(
            select(ApiToken.user_id, func.count())
            .where(col(ApiToken.revoked_at).is_(None))
            .group_by(col(ApiToken.user_id))
        ).all()
    )
    orgs = list(session.exec(select(Organisation).order_by(col(Organisation.name))))
    ents = list(
        session.exec(
            select(Entrepreneur)
            .where(col(Entrepreneur.erased_at).is_(None))
            .order_by(col(Entrepreneur.name))
        )
    )
    return render(
        request,
        "users.html",
        user,
        status_code=status_code,
        users=users,
        tokens=tokens,
        org_names={o.id: o.name for o in orgs},
        ent_names={e.id: e.name for e in ents},
        organisations=orgs,
        entrepreneurs=ents,
        roles={r: ROLE_LABELS[r] for r in ROLES},
        role_options=[(r, ROLE_LABELS[r].capitalize()) for r in ROLES],
        entrepreneur_options=[(e.external_id, e.name) for e in ents],
        errors=errors or {},
        values=values or {"role": "municipal"},
        new_token=new_token,
    )


@router.get("/admin/brukere", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, user: Annotated[User, ADMIN]) -> Response:
    return _users_page(request, session, user)


class NewUserForm(BaseModel):
    """The new-user form (the role is sent as new_role: "role" names the signed-in user's)."""

    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] = ""
    name: Line = ""
    new_role: Line = ""
    organisation: Line = ""
    entrepreneur: Line = ""
    password: Annotated[str, Field(max_length=200)] = ""


@router.post("/admin/brukere", response_class=HTMLResponse)
def create_user_form(
    request: Request,
    session: SessionDep,
    user: Annotated[User, ADMIN],
    form: Annotated[NewUserForm, Form()],
) -> Response:
    values = form.model_dump(exclude={"password", "new_role"}) | {"role": form.new_role}
    new = NewUser(
        email=form.email,
        role=form.new_role,
        name=form.name,
        password=form.password or None,
        organisation=form.organisation or None,
        entrepreneur=form.entrepreneur or None,
    )
    try:
        register_user(session, new)
    except UserError as exc:
        errors, status = {_FIELDS.get(exc.field, exc.field): str(exc)}, 422
    except Conflict as exc:  # the same address saved by another request just now
        errors, status = {exc.field: str(exc)}, 409
    else:
        return RedirectResponse("/admin/brukere?melding=bruker", status_code=303)
    return _users_page(request, session, user, errors=errors, values=values, status_code=status)


# The form's name for a field a UserError is about (the form says new_role: "role" is taken).
_FIELDS = {"role": "new_role"}


def _target(session: Session, user_id: int) -> User:
    target = session.get(User, user_id)
    if target is None:
        raise PageError(404, "Fant ikke brukeren", f"Det finnes ingen bruker {user_id}.")
    return target


@router.post("/admin/brukere/{user_id}/token", response_class=HTMLResponse)
def new_token(
    request: Request, user_id: IdPath, session: SessionDep, user: Annotated[User, ADMIN]
) -> Response:
    """A new API token, shown once on the page that answers (only its hash is stored)."""
    target = _target(session, user_id)
    token = new_api_token(session, target, label="nettside")
    response = _users_page(request, session, user, new_token=(target, token))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/brukere/{user_id}/trekk-tilbake")
def revoke(user_id: IdPath, session: SessionDep, user: Annotated[User, ADMIN]) -> Response:
    withdraw_tokens(session, _target(session, user_id))
    return RedirectResponse("/admin/brukere?melding=trukket", status_code=303)


# -- organisations -------------------------------------------------------------------------------


def _organisations_page(
    request: Request,
    session: Session,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    orgs = list(session.exec(select(Organisation).order_by(col(Organisation.name))))
    needs = dict(
        session.exec(
            select(Challenge.organisation_id, func.count()).group_by(col(Challenge.organisation_id))
        ).all()
    )
    return render(
        request,
        "organisations.html",
        user,
        status_code=status_code,
        organisations=orgs,
        names={o.id: o.name for o in orgs},
        needs=needs,
        kinds=ORGANISATION_KINDS,
        errors=errors or {},
        values=values or {"kind": "bydel"},
    )


@router.get("/admin/organisasjoner", response_class=HTMLResponse)
def organisations_page(
    request: Request, session: SessionDep, user: Annotated[User, ADMIN]
) -> Response:
    return _organisations_page(request, session, user)


class NewOrganisationForm(BaseModel):
    name: Line = ""
    kind: Line = ""
    parent: Line = ""
    kommunenummer: Line = ""


@router.post("/admin/organisasjoner", response_class=HTMLResponse)
def create_organisation(
    request: Request,
    session: SessionDep,
    user: Annotated[User, ADMIN],
    form: Annotated[NewOrganisationForm, Form()],
) -> Response:
    values = form.model_dump()
    try:
        organisations.create_organisation(session, **values)
    except ImportValidationError as exc:
        errors, status = field_errors(exc.errors), 422
    except Conflict as exc:
        errors, status = {exc.field or "name": str(exc)}, 409
    else:
        return RedirectResponse("/admin/organisasjoner?melding=organisasjon", status_code=303)
    return _organisations_page(
        request, session, user, errors=errors, values=values, status_code=status
    )
