"""Shared dependencies of the API routes: runtime, session, the current user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from models.tables import User
from service.runtime import Runtime
from service.security import user_for_token


def get_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def get_session(rt: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[Session]:
    with Session(rt.engine, expire_on_commit=False) as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="API-token fra «brobygger users create»")


SESSION_COOKIE = "brobygger_session"
CSRF_COOKIE = "brobygger_csrf"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SESSION_SECONDS = 8 * 3600


def set_session_cookie(response: Response, token: str) -> None:
    """The browser session: the token in an HttpOnly cookie (JavaScript cannot read it)."""
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", max_age=SESSION_SECONDS
    )


def set_csrf_cookie(response: Response, value: str) -> None:
    """The CSRF cookie is readable on purpose: pages echo it in forms and headers."""
    response.set_cookie(CSRF_COOKIE, value, httponly=False, samesite="lax", max_age=SESSION_SECONDS)


def optional_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """The logged-in user (bearer token, or the web session cookie), or None for the anonymous
    public. A bad token is an error, never silently anonymous. With the cookie, a request that
    changes something must also send the CSRF cookie's value in ``X-CSRF-Token`` (double
    submit): another site can make the browser send the cookie, but cannot read it."""
    token = credentials.credentials if credentials is not None else None
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
        if token is None:
            return None
        if request.method not in SAFE_METHODS:
            csrf = request.cookies.get(CSRF_COOKIE)
            if not csrf or request.headers.get("X-CSRF-Token") != csrf:
                raise HTTPException(403, "Mangler eller feil CSRF-token.")
    user = user_for_token(session, token)
    if user is None:
        raise HTTPException(
            401, "Ugyldig eller tilbakekalt token.", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise HTTPException(
            401,
            "Du må logge inn (Authorization: Bearer <token>).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]

# On routes that the public may use too: a token is optional (OpenAPI: an empty requirement).
PUBLIC: dict[str, Any] = {"security": [{}]}


def require(*roles: str) -> Callable[[User], User]:
    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(403, "Rollen din har ikke tilgang til dette.")
        return user

    return check


def client_address(request: Request) -> str:
    """The address the request came from (the direct peer: behind a reverse proxy, run
    uvicorn with ``--proxy-headers`` so that this is the client, not the proxy)."""
    return request.client.host if request.client else "ukjent"
