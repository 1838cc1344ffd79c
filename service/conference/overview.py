"""What the organisers' pages show of stored conferences: the list with counts, and one plan
by slot with its quality in words (after changes by hand too)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.tables import Conference, Meeting
from models.tables import Participant as ParticipantRow
from service import formatting
from service.conference.outputs import MEETINGS_CSV, MEETINGS_XLSX, PAIRS_CSV, SUMMARY_HTML
from service.conference.plans import agenda_of
from service.conference.quality import BOUND_TEXT, STATUS_TEXT, quality_text, share_text


def conference_list(session: Session) -> list[dict[str, Any]]:
    """Every conference, newest first, with its participants per side and its meetings."""
    rows = []
    for conf in session.exec(select(Conference).order_by(col(Conference.event_date).desc())):
        people = session.exec(
            select(ParticipantRow.side, func.count())
            .where(ParticipantRow.conference_id == conf.id)
            .group_by(col(ParticipantRow.side))
        ).all()
        meetings = session.exec(
            select(func.count()).select_from(Meeting).where(Meeting.conference_id == conf.id)
        ).one()
        rows.append({"c": conf, "people": dict(people), "meetings": meetings})
    return rows


def _quality(conf: Conference, meetings: list[Meeting]) -> dict[str, str]:
    """The plan as it stands now (after changes by hand), measured against the bound."""
    if conf.objective is None:
        return {}
    objective = round(sum(m.affinity for m in meetings), 4)
    bound = conf.upper_bound or 0.0
    changed = abs(objective - conf.objective) > 1e-6
    return {
        "sum": formatting.number(objective, 1),
        "bound": formatting.number(bound, 1),
        "share": share_text(min(1.0, objective / bound)) if bound > 0 else "",
        "text": quality_text(objective, bound),
        "status": (
            "Planen er endret for hånd etter siste planlegging."
            if changed
            else STATUS_TEXT.get(conf.solve_status, "")
        ),
        "bound_text": BOUND_TEXT,
    }


def plan_view(session: Session, conf: Conference) -> dict[str, Any]:
    """A conference's plan as its page shows it."""
    rows = {
        r.id: r
        for r in session.exec(
            select(ParticipantRow)
            .where(ParticipantRow.conference_id == conf.id)
            .order_by(col(ParticipantRow.name))
        )
    }
    meetings = list(
        session.exec(
            select(Meeting)
            .where(Meeting.conference_id == conf.id)
            .order_by(col(Meeting.slot), col(Meeting.table_no))
        )
    )
    by_slot: dict[int, list[Meeting]] = {s: [] for s in range(1, conf.slots + 1)}
    for m in meetings:
        by_slot.setdefault(m.slot, []).append(m)
    agenda = agenda_of(conf)
    return {
        "conf": conf,
        "rows": rows,
        "by_slot": by_slot,
        "times": {s: agenda.times(s) for s in by_slot},
        "count": len(meetings),
        "quality": _quality(conf, meetings),
        "municipal": [r for r in rows.values() if r.side == "municipal"],
        "entrepreneurs": [r for r in rows.values() if r.side == "entrepreneur"],
        "files": {
            "xlsx": MEETINGS_XLSX,
            "csv": MEETINGS_CSV,
            "summary": SUMMARY_HTML,
            "pairs": PAIRS_CSV,
        },
    }


def pair_name(session: Session, m: Meeting) -> str:
    """``Kari Nordby – Jobbverkstedet``: the two sides of a meeting."""
    a = session.get(ParticipantRow, m.municipal_id)
    b = session.get(ParticipantRow, m.entrepreneur_id)
    return f"{a.name if a else '?'} – {b.name if b else '?'}"


def slot_time(conf: Conference, slot: int) -> str:
    begin, end = agenda_of(conf).times(slot)
    return f"tidsluke {slot} ({begin:%H:%M}–{end:%H:%M})"
