"""GDPR: export everything about a person, erase it everywhere while the audit log stays whole,
and retention for closed needs. The erasure tests scan every column of every table for the
person's details afterwards."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import SQLModel, col, select

from models.db import session_scope
from models.tables import (
    Challenge,
    Contact,
    Entrepreneur,
    OutboxMessage,
    Participant,
    Proposal,
    ReviewEvent,
    User,
)
from service.app import create_app
from service.conference import create_conference, read_participants
from service.config import Settings
from service.matching import suggest
from service.privacy import ERASED_ENTREPRENEUR, retention
from service.proposals import IllegalTransition, save_proposals, transition
from service.search import ENTREPRENEURS, sync_engine
from service.security import create_user, issue_token
from tests.conftest import REPO, demo_runtime, run_cli

ENTREPRENEUR = "se-jobbverkstedet"
# Everything that names Jobbverkstedet or the people behind it.
ENTREPRENEUR_DETAILS = [
    "Jobbverkstedet Grorud AS",
    "923804668",
    "post@jobbverkstedet.example.no",
    "Amina Hassan",
    "Ola Leder",
    "jobbverkstedet.example.no",
    "sykkelverksted og en kantine",
]
REVIEWER = "kari.nordmann@grorud.oslo.kommune.no"


def _everything(engine) -> list[str]:
    """Every value in every table, as text."""
    out = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                out += [
                    v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                    for v in row
                    if not isinstance(v, bytes | datetime | date)
                ]
    return out


def _mentions(engine, needles: list[str]) -> list[tuple[str, str]]:
    return [(n, v[:120]) for v in _everything(engine) for n in needles if n.lower() in v.lower()]


def _world(settings: Settings):
    """The demo data, a reviewer who approved a proposal for Jobbverkstedet (one handoff mail
    sent, one waiting), an account for the entrepreneur and a conference it takes part in."""
    rt = demo_runtime(settings)
    with session_scope(rt.engine) as s:
        reviewer = create_user(s, email=REVIEWER, name="Kari Nordmann", role="reviewer")
        # as in the demo data, the account has the contact person's address
        create_user(
            s,
            email="post@jobbverkstedet.example.no",
            name="Ola Leder",
            role="entrepreneur",
            entrepreneur=ENTREPRENEUR,
        )
        admin = create_user(s, email="admin@test.no", role="admin")
        token = issue_token(s, admin)
        ent = s.exec(select(Entrepreneur).where(Entrepreneur.external_id == ENTREPRENEUR)).one()
        for ext in ("ch-grorud-arbeidstrening", "ch-stovner-ungdom-jobb"):
            ch = s.exec(select(Challenge).where(Challenge.external_id == ext)).first()
            if ch is not None:
                save_proposals(s, ch, suggest(s, rt.store, ch, limit=10))
        mine = list(s.exec(select(Proposal).where(Proposal.entrepreneur_id == ent.id)))
        assert mine, "the demo needs must suggest Jobbverkstedet"
        transition(
            s,
            mine[0],
            "approved",
            actor=reviewer,
            reason="Jobbverkstedet Grorud AS har plass til tolv deltakere.",
        )
        s.flush()
        mails = list(
            s.exec(
                select(OutboxMessage)
                .where(OutboxMessage.proposal_id == mine[0].id)
                .order_by(col(OutboxMessage.id))
            )
        )
        assert len(mails) >= 2  # the handoff: one mail to each side
        mails[0].status, mails[0].sent_at = "sent", datetime.now(UTC)
        people = read_participants(REPO / "data/demo/konferanse.csv", s, 6)
        create_conference(
            s,
            name="SosEnt 2026",
            day=date(2026, 12, 1),
            place="Oslo",
            slots=6,
            slot_minutes=15,
            start="09:00",
            tables=10,
            max_per_organisation=None,
            people=people,
        )
    return rt, token, ent.id, mine[0].id


def test_erasing_an_entrepreneur_leaves_no_trace_but_keeps_the_audit_log(
    db_url: str, tmp_path: Path
) -> None:
    rt, token, ent_id, proposal_id = _world(Settings(home=tmp_path / "home", database_url=db_url))
    auth = {"Authorization": f"Bearer {token}"}
    with session_scope(rt.engine) as s:
        events_before = [
            (e.id, e.proposal_id, e.action, e.from_status, e.to_status)
            for e in s.exec(select(ReviewEvent).order_by(col(ReviewEvent.id)))
        ]
        proposals_before = len(list(s.exec(select(Proposal))))
    assert _mentions(rt.engine, ENTREPRENEUR_DETAILS)  # the scan finds them before

    with TestClient(create_app(rt)) as client:
        exported = client.get(f"/api/v1/privacy/entrepreneurs/{ent_id}", headers=auth).json()
        assert exported["entreprenør"]["org_nr"] == "923804668"
        assert exported["kontaktperson"]["e-post"] == "post@jobbverkstedet.example.no"
        assert exported["brukerkontoer"][0]["e-post"] == "post@jobbverkstedet.example.no"
        assert {m["status"] for m in exported["e-post"]} == {"sent", "pending"}
        assert any(p["id"] == proposal_id and p["hendelser"] for p in exported["forslag"])
        assert exported["konferansedeltakelser"]

        report = client.post(f"/api/v1/privacy/entrepreneurs/{ent_id}/erase", headers=auth)
        assert report.status_code == 200, report.text
        assert report.json()["e-post_renset"] == 1 and report.json()["e-post_ikke_sendt"] >= 1
        assert report.json()["brukerkontoer_anonymisert"] == 1  # counted (and renamed) once

        # gone from the API, the index and search
        assert client.get(f"/api/v1/entrepreneurs/{ent_id}", headers=auth).status_code == 404
        listed = client.get("/api/v1/entrepreneurs", params={"limit": 100}, headers=auth).json()
        assert ent_id not in {e["id"] for e in listed["items"]}
        hits = client.get(
            "/api/v1/search",
            headers=auth,
            params={"q": "sykkelverksted og kantine med arbeidstrening", "kind": "entrepreneurs"},
        ).json()
        assert ent_id not in {h["id"] for h in hits}
        assert (
            client.post(f"/api/v1/privacy/entrepreneurs/{ent_id}/erase", headers=auth).status_code
            == 404
        )
        # the proposal is still there, under the tombstone's name
        p = client.get(f"/api/v1/proposals/{proposal_id}", headers=auth).json()
        assert p["entrepreneur"]["name"] == ERASED_ENTREPRENEUR and p["status"] == "approved"
        assert p["next_statuses"] == []  # nobody left to contact or agree with
    assert rt.store.index(ENTREPRENEURS).hash_of(ent_id) is None

    # nothing left anywhere in the database
    assert _mentions(rt.engine, ENTREPRENEUR_DETAILS) == []
    with session_scope(rt.engine) as s:
        # the audit log: the same lines in the same order with the same decisions
        events_after = [
            (e.id, e.proposal_id, e.action, e.from_status, e.to_status)
            for e in s.exec(select(ReviewEvent).order_by(col(ReviewEvent.id)))
        ]
        assert events_after == events_before
        assert len(list(s.exec(select(Proposal)))) == proposals_before
        account = s.exec(select(User).where(User.role == "entrepreneur")).one()
        assert not account.active and account.email.endswith("@slettet.invalid")
        assert s.exec(select(OutboxMessage).where(OutboxMessage.status != "sent")).all() == []
        people = s.exec(select(Participant).where(Participant.name == "Slettet deltaker")).all()
        assert people and all(p.entrepreneur_id is None for p in people)
    with session_scope(rt.engine) as s:  # the tombstone's case goes no further
        reviewer = s.exec(select(User).where(User.email == REVIEWER)).one()
        tomb = s.get(Proposal, proposal_id)
        assert tomb is not None
        with pytest.raises(IllegalTransition, match="slettet"):
            transition(s, tomb, "contacted", actor=reviewer)
    # the index still agrees with the database
    assert sync_engine(rt.engine, rt.store)[0].removed == 0
    rt.engine.dispose()


def test_erasing_a_reviewer_contact_pseudonymises_their_audit_lines(tmp_path: Path) -> None:
    rt, token, ent_id, proposal_id = _world(Settings(home=tmp_path / "home"))
    with session_scope(rt.engine) as s:
        org = (
            s.exec(select(Challenge).where(Challenge.external_id == "ch-grorud-arbeidstrening"))
            .one()
            .organisation_id
        )
        kari = Contact(
            organisation_id=org,
            name="Kari Nordmann",
            email=REVIEWER,
            phone="22 33 44 55",
            role="Rådgiver",
        )
        s.add(kari)
        s.flush()
        owned = s.exec(select(Challenge).where(Challenge.organisation_id == org)).first()
        owned.owner_contact_id = kari.id
        kari_id, owned_id = kari.id, owned.id
    home = tmp_path / "home"
    out = tmp_path / "kari.json"
    run_cli(home, "privacy", "export", "contact", REVIEWER, "--out", str(out))
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["kontaktperson"]["telefon"] == "22 33 44 55"
    assert [c["id"] for c in exported["eier_behov"]] == [owned_id]
    lines = exported["brukerkontoer"][0]["hendelser_i_revisjonsloggen"]
    assert [e["til"] for e in lines] == ["approved"]

    refused = run_cli(home, "privacy", "erase", "contact", str(kari_id), check=False)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    done = run_cli(home, "privacy", "erase", "contact", str(kari_id), "--yes")
    assert "pseudonym" in done.stdout

    assert _mentions(rt.engine, ["Kari Nordmann", REVIEWER, "22 33 44 55"]) == []
    with session_scope(rt.engine) as s:
        event = s.exec(
            select(ReviewEvent).where(
                ReviewEvent.proposal_id == proposal_id, ReviewEvent.to_status == "approved"
            )
        ).one()
        assert event.actor.startswith("slettet-") and "@" not in event.actor
        assert s.get(Challenge, owned_id).owner_contact_id is None
        assert s.get(Contact, kari_id) is None
    rt.engine.dispose()


def test_privacy_routes_are_for_administrators_only(tmp_path: Path) -> None:
    rt, token, ent_id, _ = _world(Settings(home=tmp_path / "home"))
    with session_scope(rt.engine) as s:
        tokens = {
            role: issue_token(
                s,
                create_user(
                    s,
                    email=f"{role}@x.no",
                    role=role,
                    **({"organisation": "Bydel Grorud"} if role == "municipal" else {}),
                ),
            )
            for role in ("reviewer", "municipal", "organiser")
        }
    with TestClient(create_app(rt)) as client:
        for path in (f"/api/v1/privacy/entrepreneurs/{ent_id}", "/api/v1/privacy/contacts/1"):
            assert client.get(path).status_code == 401
            for role, tok in tokens.items():
                r = client.get(path, headers={"Authorization": f"Bearer {tok}"})
                assert r.status_code == 403, role
            r = client.post(
                path + "/erase", headers={"Authorization": f"Bearer {tokens['reviewer']}"}
            )
            assert r.status_code == 403
    rt.engine.dispose()


def test_retention_unlinks_owners_of_old_closed_needs_only(tmp_path: Path) -> None:
    rt, _, _, proposal_id = _world(Settings(home=tmp_path / "home"))
    now = datetime.now(UTC)
    with session_scope(rt.engine) as s:
        proposal = s.get(Proposal, proposal_id)
        old = s.get(Challenge, proposal.challenge_id)
        recent = s.exec(
            select(Challenge).where(
                Challenge.id != old.id, col(Challenge.owner_contact_id).is_not(None)
            )
        ).first()
        for ch, age in ((old, 800), (recent, 10)):
            ch.status = "closed"
            s.add(ch)
            s.flush()
            s.execute(
                sa.update(Challenge)
                .where(col(Challenge.id) == ch.id)
                .values(updated_at=now - timedelta(days=age))
            )
        old_id, recent_id = old.id, recent.id
        assert old.owner_contact_id is not None
    with session_scope(rt.engine) as s:
        dry = retention(s, 730, apply=False)
        assert dry.closed_needs == 1 and dry.mails == 2 and dry.owner_links == 1
        assert s.get(Challenge, old_id).owner_contact_id is not None  # a dry run changes nothing
    out = run_cli(tmp_path / "home", "privacy", "retention", "--apply").stdout
    assert "Fjernet: 1 koblinger til eiere og 2 e-postkopier" in out
    with session_scope(rt.engine) as s:
        old = s.get(Challenge, old_id)
        assert old.owner_contact_id is None and old.status == "closed"
        assert (now - old.updated_at.replace(tzinfo=UTC)).days >= 799  # not "changed" by it
        assert s.get(Challenge, recent_id).owner_contact_id is not None
        assert s.exec(select(OutboxMessage)).all() == []
        assert s.exec(select(ReviewEvent).where(ReviewEvent.proposal_id == proposal_id)).all()
        assert retention(s, 730, apply=False).owner_links == 0
    rt.engine.dispose()
