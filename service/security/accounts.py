"""Accounts: passwords, API tokens, browser sessions, log-in throttling and creating users.

Passwords: scrypt (a memory-hard KDF from the standard library; n=2**14, r=8, p=1, 16-byte
salt), stored as ``scrypt$n$r$p$salt$hash``. Tokens: 32 random bytes, shown once, stored as
SHA-256 (a token has full entropy, so a fast hash is enough and lookup stays an index hit).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, func, select

from models.tables import (
    ApiToken,
    Entrepreneur,
    LoginFailure,
    User,
    aware,
)
from models.vocabulary import ROLES
from service.conflicts import Conflict, broken_rule

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    enc = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${enc(salt).decode()}${enc(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, label: str = "") -> str:
    """Create a token for ``user``; the plain token is returned once and never stored."""
    token = "bb_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id or 0, token_hash=token_hash(token), label=label))
    session.flush()
    return token


# A browser session (the token behind the log-in cookie) ends 8 hours after log-in, or after
# an hour without use; API tokens made by an administrator last until they are revoked.
SESSION_LABEL = "nettleser"
SESSION_ABSOLUTE = timedelta(hours=8)
SESSION_IDLE = timedelta(hours=1)
TOUCH_EVERY = timedelta(minutes=1)


def user_for_token(session: Session, token: str, now: datetime | None = None) -> User | None:
    """The active user behind a token, or None (unknown, revoked or an expired session). A
    browser session's last use is recorded at most once a minute (committed at once: this
    runs before the request does anything else)."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    now = now or datetime.now(UTC)
    browser = row.label == SESSION_LABEL
    idle = now - aware(row.last_used_at or row.created_at)
    if browser and (now - aware(row.created_at) > SESSION_ABSOLUTE or idle > SESSION_IDLE):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if browser and idle > TOUCH_EVERY:
        row.last_used_at = now
        session.add(row)
        session.commit()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (same answer for a wrong e-mail
    and a wrong password, so the answer does not reveal who has an account)."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.active or not verify_password(password, user.password_hash):
        return None
    return user


# -- log-in throttling ---------------------------------------------------------------------------

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_ACCOUNT_FAILURES = 5  # failed log-ins for one e-mail address within the window
MAX_CLIENT_FAILURES = 20  # failed log-ins from one client address (many accounts tried)


class TooManyAttempts(Exception):
    """Log-in refused without checking the password: too many recent failures."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            f"For mange mislykkede innlogginger. Vent {minutes} minutt"
            f"{'er' if minutes > 1 else ''} og prøv igjen."
        )


def throttle_key(value: str) -> str:
    """What is stored about a failed log-in instead of the e-mail or address itself."""
    return hashlib.sha256(f"brobygger-innlogging:{value.strip().lower()}".encode()).hexdigest()


def log_in(session: Session, email: str, password: str, client: str) -> User:
    """``authenticate`` with throttling: after ``MAX_ACCOUNT_FAILURES`` failures for one
    address, or ``MAX_CLIENT_FAILURES`` from one client, within ``THROTTLE_WINDOW``, the
    password is not even checked until the oldest failure leaves the window. A failure is
    committed at once (the caller's transaction is about to fail); a success clears the
    account's failures.

    Raises:
        TooManyAttempts: throttled.
        PermissionError: wrong e-mail or password (one message for both).
    """
    now = datetime.now(UTC)
    since = now - THROTTLE_WINDOW
    account, source = throttle_key(email), throttle_key(client)
    session.exec(delete(LoginFailure).where(col(LoginFailure.created_at) < since))
    for column, key, limit in (
        (col(LoginFailure.account_key), account, MAX_ACCOUNT_FAILURES),
        (col(LoginFailure.client_key), source, MAX_CLIENT_FAILURES),
    ):
        count, oldest = session.exec(
            select(func.count(), func.min(LoginFailure.created_at)).where(
                column == key, col(LoginFailure.created_at) >= since
            )
        ).one()
        if count >= limit and oldest is not None:
            left = (aware(oldest) + THROTTLE_WINDOW - now).total_seconds()
            session.commit()
            raise TooManyAttempts(max(1, int(left) + 1))
    user = authenticate(session, email, password)
    if user is None:
        session.add(LoginFailure(account_key=account, client_key=source, created_at=now))
        session.commit()
        raise PermissionError("Feil e-post eller passord.")
    session.exec(delete(LoginFailure).where(col(LoginFailure.account_key) == account))
    return user


def revoke_token(session: Session, token: str) -> bool:
    """Revoke one token (a browser session on log-out); False if it was unknown or revoked."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(UTC)
    return True


def start_session(session: Session, user: User) -> str:
    """A browser session for a user who just logged in: its token (for the cookie). Commits."""
    token = issue_token(session, user, label=SESSION_LABEL)
    session.commit()
    return token


def end_session(session: Session, token: str) -> None:
    """Log out: the session's token is revoked, not only forgotten by the browser. Commits."""
    if revoke_token(session, token):
        session.commit()


def new_api_token(session: Session, user: User, label: str) -> str:
    """A new API token for ``user``, returned once (only its hash is stored). Commits."""
    token = issue_token(session, user, label=label)
    session.commit()
    return token


def withdraw_tokens(session: Session, user: User) -> int:
    """Revoke every token of ``user`` (API tokens and browser sessions). Commits."""
    count = revoke_tokens(session, user)
    session.commit()
    return count


def revoke_tokens(session: Session, user: User) -> int:
    count = 0
    for row in session.exec(
        select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
    ):
        row.revoked_at = datetime.now(UTC)
        count += 1
    return count


@dataclass(frozen=True)
class NewUser:
    """A user to create (``create_user``'s fields)."""

    email: str
    role: str
    name: str = ""
    password: str | None = None
    organisation: str | None = None
    entrepreneur: str | None = None


class UserError(ValueError):
    """Bad input for creating a user (message in Norwegian); ``field`` names the input it is
    about (email, role, password, organisation, entrepreneur), so that a form can show it
    there."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    name: str = "",
    password: str | None = None,
    organisation: str | None = None,
    entrepreneur: str | None = None,
) -> User:
    """Create a user. Municipal users belong to an organisation, entrepreneur users to a
    profile (by external id)."""
    from models.organisations import get_or_create_organisation
    from models.validation import email_problem

    email = email.strip().lower()
    if role not in ROLES:
        raise UserError(f"Ukjent rolle «{role}». Gyldige: {', '.join(ROLES)}.", "role")
    if problem := email_problem(email):
        raise UserError(f"E-postadressen {problem}.", "email")
    if session.exec(select(User).where(User.email == email)).first():
        raise UserError(f"Det finnes allerede en bruker med e-post {email}.", "email")
    user = User(
        email=email,
        name=name or email.split("@")[0],
        role=role,
        password_hash=hash_password(password) if password else None,
    )
    if role == "municipal":
        if not organisation:
            raise UserError("En kommunebruker må høre til en organisasjon.", "organisation")
        user.organisation_id = get_or_create_organisation(session, organisation).id
    if role == "entrepreneur":
        ent = (
            session.exec(
                select(Entrepreneur).where(Entrepreneur.external_id == entrepreneur)
            ).first()
            if entrepreneur
            else None
        )
        if ent is None:
            raise UserError("En entreprenørbruker må knyttes til en profil.", "entrepreneur")
        user.entrepreneur_id = ent.id
    session.add(user)
    session.flush()
    return user


MIN_PASSWORD = 12  # characters, for a password an administrator sets (web or CLI)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None; an empty one means "API token only"."""
    if password and len(password) < MIN_PASSWORD:
        return f"Passordet må ha minst {MIN_PASSWORD} tegn (eller la feltet stå tomt)."
    return None


def register_user(session: Session, new: NewUser) -> User:
    """``create_user`` and commit, for every face alike (the same rules and limits, the
    password's length included); nothing is written when it raises. The same address saved
    by another request at this moment is a ``Conflict`` on the field it concerns."""
    if new.password and (problem := password_problem(new.password)):
        raise UserError(problem, "password")
    try:
        user = create_user(
            session,
            email=new.email,
            role=new.role,
            name=new.name,
            password=new.password,
            organisation=new.organisation,
            entrepreneur=new.entrepreneur,
        )
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        rule = broken_rule(exc)
        field = "organisation" if rule.table == "organisation" else "email"
        raise Conflict(rule.message, field) from exc
    except BaseException:
        session.rollback()
        raise
    return user
