"""The reviewer's pages: the review queue (sorted, filtered), one proposal with its
explanation, decision form and audit history, and the pipeline board with dates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session, col, select

from models.tables import (
    Challenge,
    Contact,
    Entrepreneur,
    Organisation,
    OutboxMessage,
    Proposal,
    ReviewEvent,
    User,
    aware,
)
from models.vocabulary import REJECTION_REASONS, THEMES
from service.api.deps import SessionDep
from service.api.types import IdPath
from service.mail import handoff_parties
from service.proposals import (
    STATUS_LABELS,
    STEPS,
    WorkflowError,
    next_statuses,
    pipeline,
    transition,
)
from service.security import can_decide_proposal, can_see_proposal
from service.web.common import ORIGIN_LABELS, ROLE_LABELS, Line, PageError, render, role

router = APIRouter(include_in_schema=False)

REVIEWER = Depends(role("reviewer", "admin"))
SORTS = {
    "poeng": "Høyest treff først",
    "eldst": "Ventet lengst først",
    "nyest": "Nyeste først",
    "behov": "Etter behov",
}
BOARD = ("proposed", "approved", "contacted", "in_dialogue", "agreement")
PAGE = 25
BOARD_CARDS = 12  # per column; the rest are a click away in the queue


def _rows(session: Session, proposals: list[Proposal]) -> list[dict[str, Any]]:
    """Each proposal with its need, organisation and entrepreneur, for the templates."""
    ch_ids = {p.challenge_id for p in proposals}
    ent_ids = {p.entrepreneur_id for p in proposals}
    needs = {c.id: c for c in session.exec(select(Challenge).where(col(Challenge.id).in_(ch_ids)))}
    ents = {
        e.id: e for e in session.exec(select(Entrepreneur).where(col(Entrepreneur.id).in_(ent_ids)))
    }
    orgs = {o.id: o.name for o in session.exec(select(Organisation))}
    return [
        {
            "p": p,
            "need": needs[p.challenge_id],
            "org": orgs.get(needs[p.challenge_id].organisation_id, ""),
            "ent": ents[p.entrepreneur_id],
        }
        for p in proposals
    ]


class QueueFilters(BaseModel):
    """The review queue's filters and page, as the filter form sends them."""

    status: Line = "proposed"
    tema: Line = ""
    organisasjon: Line = ""
    kilde: Line = ""
    sorter: Line = "poeng"
    side: int = 1

    def known(self) -> QueueFilters:
        """These filters with an unknown status or sort order put back to the default."""
        known_status = self.status in STATUS_LABELS or self.status == "alle"
        return self.model_copy(
            update={
                "status": self.status if known_status else "proposed",
                "sorter": self.sorter if self.sorter in SORTS else "poeng",
                "side": max(1, self.side),
            }
        )


@router.get("/vurdering", response_class=HTMLResponse)
def queue(
    request: Request,
    session: SessionDep,
    user: Annotated[User, REVIEWER],
    asked: Annotated[QueueFilters, Query()],
) -> Response:
    """The review queue: proposals waiting for a decision (or any status), filterable by
    theme, organisation and origin, sorted by score, age or need."""
    f = asked.known()
    query = select(Proposal)
    if f.status != "alle":
        query = query.where(Proposal.status == f.status)
    if f.kilde in ORIGIN_LABELS:
        query = query.where(Proposal.origin == f.kilde)
    rows = _rows(session, list(session.exec(query)))
    if f.tema in THEMES:
        rows = [r for r in rows if f.tema in r["need"].themes]
    if f.organisasjon:
        rows = [r for r in rows if r["org"] == f.organisasjon]
    keys = {
        "poeng": lambda r: (-r["p"].score, r["p"].id),
        "eldst": lambda r: (aware(r["p"].created_at), r["p"].id),
        "nyest": lambda r: (-aware(r["p"].created_at).timestamp(), -r["p"].id),
        "behov": lambda r: (r["need"].title.lower(), -r["p"].score),
    }
    rows.sort(key=keys[f.sorter])
    pages = max(1, -(-len(rows) // PAGE))
    orgs = sorted({o.name for o in session.exec(select(Organisation))})
    return render(
        request,
        "queue.html",
        user,
        rows=rows[(f.side - 1) * PAGE : f.side * PAGE],
        total=len(rows),
        side=min(f.side, pages),
        pages=pages,
        filters=f.model_dump(exclude={"side"}),
        sorts=SORTS,
        status_options=[("alle", "Alle")] + [(s, t.capitalize()) for s, t in STATUS_LABELS.items()],
        origin_options=[(k, t.capitalize()) for k, t in ORIGIN_LABELS.items()],
        organisations=orgs,
        now=datetime.now(UTC),
    )


def _proposal(session: Session, user: User, proposal_id: int) -> Proposal:
    p = session.get(Proposal, proposal_id)
    if p is None or not can_see_proposal(session, user, p):
        raise PageError(404, "Fant ikke forslaget", f"Det finnes ikke noe forslag {proposal_id}.")
    return p


def _recipients(session: Session, mails: list[OutboxMessage]) -> dict[int | None, str]:
    """Each mail's recipients by name where a contact has the address ("Kari Nordmann"), else
    the address itself (a contact erased since keeps no name)."""
    addresses = {a for m in mails for a in m.recipients}
    names = {
        c.email: c.name
        for c in session.exec(select(Contact).where(col(Contact.email).in_(addresses)))
        if c.email
    }
    return {m.id: ", ".join(names.get(a) or a for a in m.recipients) for m in mails}


def _proposal_page(
    request: Request,
    session: Session,
    user: User,
    p: Proposal,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    row = _rows(session, [p])[0]
    events = list(
        session.exec(
            select(ReviewEvent).where(ReviewEvent.proposal_id == p.id).order_by(col(ReviewEvent.id))
        )
    )
    municipal, entrepreneur = handoff_parties(session, p)
    mails = list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.proposal_id == p.id)
            .order_by(col(OutboxMessage.id))
        )
    )
    return render(
        request,
        "proposal.html",
        user,
        status_code=status_code,
        row=row,
        events=events,
        nexts=[s for s in next_statuses(session, p) if s != "rejected"],
        can_reject="rejected" in next_statuses(session, p),
        can_decide=can_decide_proposal(user),
        errors=errors or {},
        form=form or {},
        actors=actor_names(session, [e.actor for e in events]),
        parties={"municipal": municipal, "entrepreneur": entrepreneur},
        mails=mails,
        mail_to=_recipients(session, mails),
        mail_now=bool(request.app.state.runtime.settings.smtp_host),
    )


def actor_names(session: Session, actors: list[str]) -> dict[str, str]:
    """Who each audit line's actor is, as a person reads it: the user's name and role; the
    system by name; anything else (a pseudonym after an erasure) as it is stored."""
    out = {"system": "Brobygger (automatisk)"}
    wanted = [a for a in set(actors) if "@" in a]
    if wanted:
        for u in session.exec(select(User).where(col(User.email).in_(wanted))):
            out[u.email] = f"{u.name} ({ROLE_LABELS.get(u.role, u.role)})"
    return out


@router.get("/forslag/{proposal_id}", response_class=HTMLResponse)
def proposal_page(
    request: Request, proposal_id: IdPath, session: SessionDep, user: Annotated[User, REVIEWER]
) -> Response:
    return _proposal_page(request, session, user, _proposal(session, user, proposal_id))


@router.post("/forslag/{proposal_id}/vurder", response_class=HTMLResponse)
def decide(
    request: Request,
    proposal_id: IdPath,
    session: SessionDep,
    user: Annotated[User, REVIEWER],
    to_status: Annotated[str, Form(max_length=40)] = "",
    reason_code: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    p = _proposal(session, user, proposal_id)
    if not can_decide_proposal(user):
        raise PageError(403, "Ingen tilgang", "Bare saksbehandlere kan vurdere forslag.")
    form = {"to_status": to_status, "reason_code": reason_code, "reason": reason}
    errors: dict[str, str] = {}
    if to_status == "rejected" and reason_code not in REJECTION_REASONS:
        errors["reason_code"] = "Velg en begrunnelse for avvisningen."
    elif to_status == "rejected" and reason_code == "annet" and not reason.strip():
        errors["reason"] = "Skriv en begrunnelse når du velger «Annet»."
    if errors:
        return _proposal_page(request, session, user, p, errors=errors, status_code=422, form=form)
    try:
        transition(
            session,
            p,
            to_status,
            actor=user,
            reason=reason or None,
            reason_code=reason_code if to_status == "rejected" else None,
        )
    except WorkflowError as exc:
        session.rollback()
        fresh = _proposal(session, user, proposal_id)
        session.refresh(fresh)
        return _proposal_page(
            request, session, user, fresh, errors={"form": str(exc)}, status_code=exc.status
        )
    # An explicit fragment: the browser would otherwise keep the form's "#feil" (RFC 9110)
    code = DECIDED.get(to_status, "vurdert")
    return RedirectResponse(f"/forslag/{p.id}?melding={code}#innhold", status_code=303)


# The message after each decision says what happens next (common.MESSAGES has the texts).
DECIDED = {"approved": "godkjent", "rejected": "avvist"}


@router.get("/tavle", response_class=HTMLResponse)
def board(
    request: Request, session: SessionDep, user: Annotated[User, REVIEWER], tema: str = ""
) -> Response:
    """The pipeline board: one column per step with the date each proposal reached it, and
    the median days each step has taken."""
    flow = pipeline(session)  # dates each proposal reached each step, median days per step
    dates = {p["proposal_id"]: p["dates"] for p in flow["proposals"]}
    proposals = list(session.exec(select(Proposal).where(col(Proposal.status).in_(BOARD))))
    rows = _rows(session, proposals)
    if tema in THEMES:
        rows = [r for r in rows if tema in r["need"].themes]
    into = {b: f"{a}->{b}" for a, b in STEPS}  # the step that ends in each column
    columns = []
    for status in BOARD:
        cards = [
            {
                **r,
                "since": datetime.fromisoformat(dates[r["p"].id][status])
                if status in dates.get(r["p"].id, {})
                else aware(r["p"].updated_at),
            }
            for r in rows
            if r["p"].status == status
        ]
        cards.sort(key=lambda c: c["since"])
        columns.append(
            {
                "status": status,
                "cards": cards[:BOARD_CARDS],
                "total": len(cards),
                "median": flow["median_days"].get(into.get(status, "")),
            }
        )
    return render(request, "board.html", user, columns=columns, tema=tema, now=datetime.now(UTC))
