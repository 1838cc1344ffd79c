"""Changing a stored plan by hand: lock, move, remove and add meetings, record a no-show,
publish. Each public function is one change, committed whole, or not at all when it is
refused (``ConferenceError``)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Concatenate, ParamSpec, TypeVar

from sqlmodel import Session, select

from matcher.scheduling import Schedule
from models.tables import Conference, Meeting
from models.tables import Participant as ParticipantRow
from service.conference.affinity import affinities
from service.conference.plans import (
    ConferenceError,
    ensure_editable,
    participant_of,
    plan_or_refuse,
)
from service.search import IndexStore

T = TypeVar("T")
P = ParamSpec("P")


def _one_change(
    change: Callable[Concatenate[Session, P], T],
) -> Callable[Concatenate[Session, P], T]:
    """Commit the change when it succeeds; a refusal (``ConferenceError``) saves nothing."""

    @functools.wraps(change)
    def apply(session: Session, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            result = change(session, *args, **kwargs)
        except ConferenceError:
            session.rollback()
            raise
        session.commit()
        return result

    return apply


def _meeting(session: Session, conf: Conference, meeting_id: int) -> Meeting:
    m = session.get(Meeting, meeting_id)
    if m is None or m.conference_id != conf.id:
        raise ConferenceError(f"Fant ikke møte {meeting_id} i denne konferansen.")
    return m


def _their_meetings(session: Session, conf: Conference, who: ParticipantRow) -> list[Meeting]:
    column = Meeting.municipal_id if who.side == "municipal" else Meeting.entrepreneur_id
    return list(
        session.exec(select(Meeting).where(Meeting.conference_id == conf.id, column == who.id))
    )


def _free_at(
    session: Session, conf: Conference, who: ParticipantRow, slot: int, skip: int | None
) -> bool:
    if slot in who.unavailable_slots or (who.absent_from is not None and slot >= who.absent_from):
        return False
    return all(m.id == skip for m in _their_meetings(session, conf, who) if m.slot == slot)


def _table_for(session: Session, conf: Conference, slot: int, skip: int | None) -> int:
    used = {
        m.table_no
        for m in session.exec(
            select(Meeting).where(Meeting.conference_id == conf.id, Meeting.slot == slot)
        )
        if m.id != skip
    }
    free = [t for t in range(1, conf.tables + 1) if t not in used]
    if not free:
        raise ConferenceError(f"Alle {conf.tables} bord er i bruk i tidsluke {slot}.")
    return free[0]


def _check_slot_number(conf: Conference, slot: int) -> None:
    if not 1 <= slot <= conf.slots:
        raise ConferenceError(f"Tidsluken må være fra 1 til {conf.slots}.")


def _check_slot(
    session: Session,
    conf: Conference,
    slot: int,
    people: Sequence[ParticipantRow],
    skip: int | None = None,
) -> int:
    _check_slot_number(conf, slot)
    for who in people:
        if not _free_at(session, conf, who, slot, skip):
            raise ConferenceError(f"{who.name} er ikke ledig i tidsluke {slot}.")
    return _table_for(session, conf, slot, skip)


def _lock(session: Session, conf: Conference, meeting_id: int, locked: bool) -> Meeting:
    ensure_editable(conf)
    m = _meeting(session, conf, meeting_id)
    m.locked = locked
    session.add(m)
    return m


def _move(session: Session, conf: Conference, meeting_id: int, slot: int) -> Meeting:
    ensure_editable(conf)
    m = _meeting(session, conf, meeting_id)
    people = [
        session.get(ParticipantRow, m.municipal_id),
        session.get(ParticipantRow, m.entrepreneur_id),
    ]
    m.table_no = _check_slot(session, conf, slot, [p for p in people if p], skip=m.id)
    m.slot, m.locked = slot, True
    session.add(m)
    return m


@_one_change
def set_locked(session: Session, conf: Conference, meeting_id: int, locked: bool) -> Meeting:
    return _lock(session, conf, meeting_id, locked)


@_one_change
def move_meeting(session: Session, conf: Conference, meeting_id: int, slot: int) -> Meeting:
    """Move a meeting to another slot (and lock it there)."""
    return _move(session, conf, meeting_id, slot)


@_one_change
def change_meeting(
    session: Session,
    conf: Conference,
    meeting_id: int,
    *,
    slot: int | None = None,
    locked: bool | None = None,
) -> None:
    """Move a meeting (which locks it) and/or lock or unlock it, as one change."""
    if slot is not None:
        _move(session, conf, meeting_id, slot)
    if locked is not None:
        _lock(session, conf, meeting_id, locked)


@_one_change
def remove_meeting(session: Session, conf: Conference, meeting_id: int) -> None:
    """Take a meeting out; the pair is kept apart when the rest is re-planned."""
    ensure_editable(conf)
    m = _meeting(session, conf, meeting_id)
    mun = session.get(ParticipantRow, m.municipal_id)
    ent = session.get(ParticipantRow, m.entrepreneur_id)
    if mun is not None and ent is not None:
        mun.avoid = [*mun.avoid, ent.external_id]
        mun.want = [w for w in mun.want if w != ent.external_id]
        session.add(mun)
    session.delete(m)


def _new_pair(
    session: Session, conf: Conference, municipal_id: int, entrepreneur_id: int
) -> tuple[ParticipantRow, ParticipantRow]:
    """The two sides of a meeting added by hand, who may meet and have not met yet."""
    mun = session.get(ParticipantRow, municipal_id)
    ent = session.get(ParticipantRow, entrepreneur_id)
    if (
        mun is None
        or ent is None
        or mun.conference_id != conf.id
        or ent.conference_id != conf.id
        or mun.side != "municipal"
        or ent.side != "entrepreneur"
    ):
        raise ConferenceError("Velg én deltaker fra kommunene og én entreprenør.")
    if ent.external_id in mun.avoid or mun.external_id in ent.avoid:
        raise ConferenceError(f"{mun.name} og {ent.name} skal ikke møtes.")
    if session.exec(
        select(Meeting).where(
            Meeting.conference_id == conf.id,
            Meeting.municipal_id == mun.id,
            Meeting.entrepreneur_id == ent.id,
        )
    ).first():
        raise ConferenceError(f"{mun.name} og {ent.name} har allerede et møte.")
    return mun, ent


@_one_change
def add_meeting(
    session: Session,
    store: IndexStore,
    conf: Conference,
    municipal_id: int,
    entrepreneur_id: int,
    slot: int,
) -> Meeting:
    """A meeting the organiser adds by hand, locked in its slot."""
    ensure_editable(conf)
    mun, ent = _new_pair(session, conf, municipal_id, entrepreneur_id)
    table = _check_slot(session, conf, slot, [mun, ent])
    for who in (mun, ent):
        have = len(_their_meetings(session, conf, who))
        if who.max_meetings is not None and have >= who.max_meetings:
            raise ConferenceError(f"{who.name} har allerede {have} møter, som er taket.")
    pm, pe = participant_of(mun, conf), participant_of(ent, conf)
    m = Meeting(
        conference_id=conf.id or 0,
        municipal_id=mun.id or 0,
        entrepreneur_id=ent.id or 0,
        slot=slot,
        table_no=table,
        affinity=float(affinities(session, store, [pm], [pe])[0, 0]),
        locked=True,
    )
    session.add(m)
    session.flush()  # the page names the new meeting by its id
    return m


def _mark_absent(
    session: Session, conf: Conference, participant_id: int, from_slot: int
) -> ParticipantRow:
    ensure_editable(conf)
    who = session.get(ParticipantRow, participant_id)
    if who is None or who.conference_id != conf.id:
        raise ConferenceError("Fant ikke deltakeren i denne konferansen.")
    _check_slot_number(conf, from_slot)
    who.absent_from = from_slot
    session.add(who)
    for m in session.exec(select(Meeting).where(Meeting.conference_id == conf.id)):
        theirs = (m.municipal_id if who.side == "municipal" else m.entrepreneur_id) == who.id
        if m.slot < from_slot:
            m.locked = True  # it took place
            session.add(m)
        elif theirs:
            session.delete(m)
    return who


@_one_change
def record_no_show(
    session: Session, conf: Conference, participant_id: int, from_slot: int
) -> ParticipantRow:
    """Someone did not come from ``from_slot`` on: what happened before stays (locked), their
    later meetings go, and a re-plan fills the places."""
    return _mark_absent(session, conf, participant_id, from_slot)


@_one_change
def no_show_and_replan(
    session: Session, store: IndexStore, conf: Conference, participant_id: int, from_slot: int
) -> ParticipantRow:
    """``record_no_show`` and re-plan the rest of the day, as one change."""
    who = _mark_absent(session, conf, participant_id, from_slot)
    session.flush()
    plan_or_refuse(session, store, conf)
    return who


@_one_change
def replan(
    session: Session, store: IndexStore, conf: Conference, *, time_limit: float = 120.0
) -> Schedule:
    """Plan (or plan again) a stored conference now, in this request, as one change."""
    return plan_or_refuse(session, store, conf, time_limit=time_limit)


@_one_change
def publish(session: Session, conf: Conference) -> Conference:
    ensure_editable(conf)
    if not session.exec(select(Meeting).where(Meeting.conference_id == conf.id)).first():
        raise ConferenceError("Det er ingen møter å publisere ennå.")
    conf.status, conf.published_at = "published", datetime.now(UTC)
    session.add(conf)
    return conf
