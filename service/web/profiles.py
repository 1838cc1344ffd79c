"""An entrepreneur's profile as the municipality sees it (``/entrepreneurer/{id}``): what they
offer, themes, areas, target groups, stage, capacity, website and the contact person, linked
from the suggestions on a need and from a proposal.

Who may see it (the rule is ``service.security.can_see_entrepreneur_profile``):

- Logged-in staff (municipal, reviewer, admin, organiser): they follow up the suggestions
  and need the person to call.
- The entrepreneur's own users: to check what the municipality sees, before it matters.
- Not other entrepreneurs and not the public. The page names the contact person with e-mail
  and phone: personal data, given to Brobygger so that the municipality can get in touch,
  not to publish. Competitors gain nothing a municipality needs from it either. The public
  fields (offer, themes, areas) are open to anyone in the API (``/api/v1/entrepreneurs``);
  one page that showed different things to different roles would be easy to get wrong, so
  there is one page, for those who may see all of it.

An erased entrepreneur (a tombstone kept for the audit log) is not found: 404 for everyone.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from models.tables import Contact, Entrepreneur, User
from models.vocabulary import LANGUAGES
from service.api.deps import SessionDep
from service.api.types import IdPath
from service.security import STAFF, can_see_entrepreneur_profile
from service.web.common import PageError, render, role
from service.web.entrepreneur import STAGES

router = APIRouter(include_in_schema=False)

VIEWERS = Depends(role(*STAFF, "entrepreneur"))


@router.get("/entrepreneurer/{entrepreneur_id}", response_class=HTMLResponse)
def entrepreneur_profile(
    request: Request,
    entrepreneur_id: IdPath,
    session: SessionDep,
    user: Annotated[User, VIEWERS],
) -> Response:
    ent = session.get(Entrepreneur, entrepreneur_id)
    if ent is None or ent.erased_at is not None:
        raise PageError(
            404,
            "Fant ikke entreprenøren",
            f"Det finnes ingen entreprenør {entrepreneur_id}. Profilen kan være slettet.",
        )
    if not can_see_entrepreneur_profile(user, ent):
        raise PageError(
            403,
            "Ingen tilgang",
            "Bare ansatte i kommunen og entreprenøren selv ser hele profilen, med "
            "kontaktpersonen. Bruk menyen for å finne dine sider.",
        )
    contact = session.get(Contact, ent.contact_id) if ent.contact_id else None
    return render(
        request,
        "entrepreneur_profile.html",
        user,
        ent=ent,
        contact=contact,
        stage=STAGES.get(ent.stage or "", ent.stage or ""),
        language=LANGUAGES.get(ent.language, ent.language),
        own=user.role == "entrepreneur",
    )
