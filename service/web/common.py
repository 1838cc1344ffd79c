"""What every web page shares: templates, the logged-in user, CSRF on forms, role checks,
navigation per role, and the Norwegian formatting filters.

The browser session is the same token as the API's (an HttpOnly cookie). Every form carries
the CSRF cookie's value in a hidden field; a POST without the matching value is refused
before the route runs (double submit: another site can make the browser send the cookie,
but cannot read it to put it in the form).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from pydantic import StringConstraints

from matcher.ranking import phrase_words
from models.tables import User, aware
from models.vocabulary import REJECTION_REASONS, THEMES
from service import formatting
from service.api.deps import CSRF_COOKIE, SESSION_COOKIE, SessionDep, set_csrf_cookie
from service.proposals import MARKET_DIALOGUE, STATUS_LABELS
from service.security import user_for_token

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

ROLE_LABELS = {
    "admin": "administrator",
    "reviewer": "saksbehandler",
    "municipal": "kommuneansatt",
    "entrepreneur": "entreprenør",
    "organiser": "arrangør",
}
ORIGIN_LABELS = {
    "system": "foreslått av systemet",
    "staff": "sendt av kommunen",
    "entrepreneur": "entreprenøren meldte interesse",
}
ACTION_LABELS = {"propose": "Foreslått", "interest": "Interesse meldt", "outcome": "Resultat"}

# The main menu of each role: (path, label). The first entry is the role's start page.
NAV: dict[str | None, list[tuple[str, str]]] = {
    None: [("/", "Åpne behov"), ("/kontakter", "Kontaktpersoner")],
    "municipal": [
        ("/mine-behov", "Mine behov"),
        ("/behov/nytt", "Nytt behov"),
        ("/", "Åpne behov"),
        ("/kontakter", "Kontaktpersoner"),
    ],
    "reviewer": [
        ("/vurdering", "Vurderingskø"),
        ("/tavle", "Tavle"),
        ("/", "Åpne behov"),
        ("/kontakter", "Kontaktpersoner"),
    ],
    "entrepreneur": [
        ("/for-deg", "Behov for deg"),
        ("/profil", "Min profil"),
        ("/kontakter", "Kontaktpersoner"),
    ],
    "admin": [
        ("/admin", "Drift"),
        ("/admin/brukere", "Brukere"),
        ("/admin/organisasjoner", "Organisasjoner"),
        ("/vurdering", "Vurderingskø"),
        ("/", "Åpne behov"),
    ],
    "organiser": [
        ("/konferanser", "Konferanser"),
        ("/", "Åpne behov"),
        ("/kontakter", "Kontaktpersoner"),
    ],
}


# Messages after a form was sent (redirect-after-post): the URL carries a code, never text.
MESSAGES = {
    "lagret": "Behovet er lagret. Forslagene står under «Forslag til entreprenører» lenger ned "
    "på siden.",
    "lagret-igjen": "Behovet var allerede lagret fra dette skjemaet; endringene er lagret på "
    "det samme behovet (ingen kopi er laget).",
    "sendt": "De valgte forslagene er sendt til vurderingskøen.",
    "ingen-valgt": "Du valgte ingen forslag. Kryss av for dem du vil sende til vurdering.",
    "interesse": "Interessen din er meldt. Kommunen ser den i vurderingskøen.",
    "profil": "Profilen er lagret. Kommunene finner den nye teksten i søket om noen sekunder.",
    "vurdert": "Den nye statusen er lagret og ført i historikken. Ingen e-post sendes for "
    "dette steget.",
    "godkjent": "Forslaget er godkjent og ført i historikken. Under «E-post» ser du hvem "
    "introduksjons-e-posten er lagt i utboksen til, og om den er sendt. Neste steg: "
    "sett «Kontaktet» når partene har snakket sammen.",
    "avvist": "Forslaget er avvist, og begrunnelsen er ført i historikken. Entreprenøren får "
    "ingen e-post om avvisningen.",
    "bruker": "Brukeren er opprettet.",
    "trukket": "Alle tokenene til brukeren er trukket tilbake.",
    "organisasjon": "Organisasjonen er lagret.",
}


# On every page, in the footer: what the service is, and the two statements a public body's
# service must publish.
FOOTER_LINKS = [
    ("/om", "Om Brobygger"),
    ("/tilgjengelighet", "Tilgjengelighetserklæring"),
    ("/personvern", "Personvernerklæring"),
]


def start_page(user: User | None) -> str:
    return NAV[user.role if user else None][0][0]


# -- errors that pages turn into answers --------------------------------------------------------


class LoginRequired(Exception):
    """The page needs a logged-in user: the browser is sent to the log-in page and back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageError(Exception):
    """An error page in Norwegian with the right status code."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def login_redirect(request: Request, exc: Exception) -> Response:
    from fastapi.responses import RedirectResponse

    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/logg-inn?neste={quote(exc.next_path, safe='/')}", status_code=303)


def error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    user = getattr(request.state, "web_user", None)
    return render(
        request,
        "error.html",
        user,
        status_code=exc.status,
        title=exc.title,
        # not "message": base.html shows that one as the notice after a form was sent
        detail=exc.message,
    )


# -- the user and CSRF ------------------------------------------------------------------------


async def web_user(request: Request, session: SessionDep) -> User | None:
    """The user of the session cookie, or None. POSTs must carry the CSRF field."""
    token = request.cookies.get(SESSION_COOKIE)
    user = user_for_token(session, token) if token else None
    request.state.web_user = user
    if request.method == "POST":
        form = await request.form()
        sent = form.get("csrf")
        if not isinstance(sent, str) or not sent or sent != request.cookies.get(CSRF_COOKIE):
            raise PageError(
                403,
                "Skjemaet var utløpt",
                "Skjemaet kunne ikke sendes fordi sikkerhetsnøkkelen manglet eller var "
                "utløpt. Gå tilbake, last siden på nytt og prøv igjen.",
            )
    return user


WebUser = Annotated[User | None, Depends(web_user)]


def role(*roles: str) -> Callable[..., User]:
    """A dependency: the logged-in user, who must have one of ``roles``."""

    def check(request: Request, user: WebUser) -> User:
        if user is None:
            path = request.url.path if request.method == "GET" else start_page(None)
            if request.method == "GET" and request.url.query:
                path += "?" + request.url.query
            raise LoginRequired(path)
        if user.role not in roles:
            raise PageError(
                403,
                "Ingen tilgang",
                "Rollen din har ikke tilgang til denne siden. Bruk menyen for å finne dine sider.",
            )
        return user

    return check


def safe_next(value: str | None) -> str | None:
    """Only paths on this site (never ``//host`` or ``https://…``) after log-in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


# -- rendering --------------------------------------------------------------------------------


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
            "nav": NAV[user.role if user else None],
            "csrf": token,
            "message": MESSAGES.get(request.query_params.get("melding", "")),
            **context,
        },
        status_code=status_code,
    )
    if request.cookies.get(CSRF_COOKIE) != token:
        set_csrf_cookie(response, token)
    return response


def field_errors(errors: Iterable[Any]) -> dict[str, str]:
    """Import-validation errors (field, reason) as form errors keyed by field name."""
    out: dict[str, str] = {}
    for e in errors:
        key = e.field.split("[")[0] or "form"
        text = e.reason[0].upper() + e.reason[1:] if e.reason else "Ugyldig verdi"
        out.setdefault(key, text if text.endswith(".") else text + ".")
    return out


def split_list(value: str) -> list[str]:
    """A comma- or semicolon-separated form field as a list."""
    return [p.strip() for p in re.split(r"[,;\n]", value or "") if p.strip()]


# -- filters ----------------------------------------------------------------------------------


def days_since(value: datetime | str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return max(0, (datetime.now(UTC) - aware(value)).days)


def ranker_label(version: str | None, short: bool = False) -> str:
    """How a score was computed, in words: the documented default weights, or a model learned
    from reviewers' decisions (the version stays visible for an audit)."""
    if not version:
        return ""
    if version.startswith("standard"):
        text = (
            "faste vekter"
            if short
            else "Poengsummen er regnet ut med faste vekter, de samme for alle entreprenører"
        )
    else:
        text = (
            "lært av vurderinger"
            if short
            else "Rekkefølgen er satt av en modell lært av saksbehandlernes tidligere vurderinger"
        )
    return f"{text} ({version})" if short else f"{text} (versjon {version})."


def highlight(text: str | None, phrases: Iterable[str] | None) -> Markup:
    """``text`` escaped, with the words that start with one of ``phrases`` in ``<mark>``.
    Escaping happens first, so user text can never inject markup."""
    safe = str(escape(text or ""))
    named = phrase_words(list(phrases or []))  # "besøksvenner / besøker": both words
    words = sorted({p for p in named if len(p) >= 3}, key=len, reverse=True)
    if not words:
        return Markup(safe)
    pattern = re.compile(
        r"(?<![\wæøå])(" + "|".join(re.escape(str(escape(w))) for w in words) + r")[\wæøå]*",
        re.IGNORECASE,
    )
    return Markup(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", safe))


def page_query(params: Any, page: int) -> str:
    """The current query string with another page number."""
    from urllib.parse import urlencode

    return urlencode({**dict(params), "side": str(page)})


# A form's text fields as the declared form models read them: stripped, and bounded in what is
# read (the browser's maxlength stops typing sooner; longer is refused by the form parser).
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


templates.env.globals.update(
    THEMES=THEMES,
    STATUS_LABELS=STATUS_LABELS,
    ORIGIN_LABELS=ORIGIN_LABELS,
    ACTION_LABELS=ACTION_LABELS,
    REJECTION_REASONS=REJECTION_REASONS,
    MARKET_DIALOGUE=MARKET_DIALOGUE,
    footer_links=FOOTER_LINKS,
)
templates.env.filters.update(
    dato=formatting.day,
    lang_dato=formatting.long_day,
    tid=formatting.moment,
    dager=days_since,
    desimal=formatting.number,
    tall=formatting.number,
    prosent=formatting.percent,
    sekunder=formatting.seconds,
    highlight=highlight,
    rangering=ranker_label,
    urlencode_page=page_query,
)
