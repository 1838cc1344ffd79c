"""The review workflow end to end, and the mail outbox against a real SMTP server."""

from __future__ import annotations

import time
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import select

from models.db import session_scope
from models.tables import Contact, OutboxMessage, Proposal, User
from service.app import create_app
from service.config import Settings
from service.mail import Journal, deliver_due, smtp_sender
from service.proposals import transition
from service.security import create_user, issue_token
from tests.conftest import demo_runtime, free_port, wait_for


class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _world(home: Path, smtp_port: int):
    settings = Settings(home=home, smtp_host="127.0.0.1", smtp_port=smtp_port, outbox_interval=0.2)
    rt = demo_runtime(settings)
    tokens = {}
    with session_scope(rt.engine) as session:
        for role, extra in (
            ("municipal", {"organisation": "Bydel Grorud"}),
            ("reviewer", {}),
            ("entrepreneur", {"entrepreneur": "se-jobbverkstedet"}),
        ):
            user = create_user(session, email=f"{role}@test.no", role=role, **extra)
            tokens[role] = {"Authorization": f"Bearer {issue_token(session, user)}"}
    return rt, tokens


def test_the_whole_journey_over_http(home: Path, smtp) -> None:
    inbox, port = smtp
    rt, h = _world(home, port)
    with TestClient(create_app(rt)) as client:
        # 1. a municipal user posts a need; proposals appear
        r = client.post(
            "/api/v1/challenges",
            headers=h["municipal"],
            json={
                "title": "Arbeidstrening i verksted for unge",
                "description": "Vi trenger arbeidstrening for unge voksne i bydelen som har falt "
                "ut av skolen, gjerne i et verksted med en fast veileder.",
                "themes": ["arbeidsinkludering", "barn-og-unge"],
                "language": "nb",
                "contact_name": "Kari Nordby",
                "contact_email": "kari.nordby@bgr.oslo.kommune.no",
            },
        )
        assert r.status_code == 201, r.text
        saved = r.json()
        assert saved["proposals_created"] >= 1 and "markedsdialog" in saved["notice"]
        cid = saved["challenge"]["id"]

        # 2. a reviewer sees them and approves the workshop
        props = client.get(
            "/api/v1/proposals", headers=h["reviewer"], params={"challenge_id": cid}
        ).json()["items"]
        target = next(p for p in props if p["entrepreneur"]["external_id"] == "se-jobbverkstedet")
        assert target["status"] == "proposed" and target["explanation"]["summary"]
        bad = client.post(
            f"/api/v1/proposals/{target['id']}/transition",
            headers=h["reviewer"],
            json={"to_status": "agreement"},
        )
        assert bad.status_code == 409 and "Neste mulige" in bad.json()["detail"]
        ok = client.post(
            f"/api/v1/proposals/{target['id']}/transition",
            headers=h["reviewer"],
            json={"to_status": "approved", "reason": "God match på verksted."},
        )
        assert ok.status_code == 200 and ok.json()["status"] == "approved"
        late = client.post(
            f"/api/v1/proposals/{target['id']}/transition",
            headers=h["reviewer"],
            json={"to_status": "rejected", "reason_code": "kapasitet"},
        )
        assert late.status_code == 409  # the second reviewer loses, with a clear message

        # a rejection needs a reason from the fixed list
        # (the system sent only the sure ones; the need's owner sends one more of the list)
        listed = client.get(f"/api/v1/challenges/{cid}/suggestions", headers=h["municipal"]).json()[
            "suggestions"
        ]
        extra = next(
            s["entrepreneur"]["id"]
            for s in listed
            if s["entrepreneur"]["id"] not in {p["entrepreneur"]["id"] for p in props}
        )
        sent = client.post(
            f"/api/v1/challenges/{cid}/proposals",
            headers=h["municipal"],
            json={"entrepreneur_ids": [extra]},
        )
        assert sent.status_code == 201, sent.text
        other = sent.json()[0]
        r = client.post(
            f"/api/v1/proposals/{other['id']}/transition",
            headers=h["reviewer"],
            json={"to_status": "rejected"},
        )
        assert r.status_code == 422 and "begrunnelse" in r.json()["detail"]
        r = client.post(
            f"/api/v1/proposals/{other['id']}/transition",
            headers=h["reviewer"],
            json={"to_status": "rejected", "reason_code": "geografi"},
        )
        assert r.status_code == 200

        # 3. the introduction mail reaches both sides, once each
        assert wait_for(lambda: len(inbox.messages) >= 2, timeout=20)
        time.sleep(0.6)  # a further worker pass must not send again
        to = sorted(m["To"] for m in inbox.messages)
        assert to == ["kari.nordby@bgr.oslo.kommune.no", "post@jobbverkstedet.example.no"]
        body = inbox.messages[0].get_payload(decode=True).decode()
        assert "markedsdialog, ikke tildeling" in body

        # 4. the entrepreneur sees the need and the named contact person
        ent_id = target["entrepreneur"]["id"]
        found = client.get(
            f"/api/v1/entrepreneurs/{ent_id}/challenges",
            headers=h["entrepreneur"],
            params={"limit": 50},
        ).json()["challenges"]
        mine = next(c for c in found if c["challenge"]["id"] == cid)
        assert mine["contacts"][0]["name"] == "Kari Nordby"

        # 5. the audit log tells the story
        events = client.get(
            f"/api/v1/proposals/{target['id']}/events", headers=h["reviewer"]
        ).json()
        assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
            ("propose", None, "proposed"),
            ("status:approved", "proposed", "approved"),
        ]
        assert events[1]["actor"] == "reviewer@test.no"
        assert events[1]["reason"] == "God match på verksted."
        assert events[1]["ranker_version"] == "standard-v3"
        assert events[1]["explanation"]["summary"] == target["explanation"]["summary"]
        audit = client.get("/api/v1/audit", headers=h["reviewer"]).json()
        assert any(e["reason"] and "Arbeider ikke i området" in e["reason"] for e in audit["items"])
    rt.engine.dispose()


def _approved_proposal(rt) -> int:
    with session_scope(rt.engine) as session:
        reviewer = session.exec(select(User).where(User.role == "reviewer")).one()
        from service.matching import find_challenge, suggest
        from service.proposals import save_proposals

        ch = find_challenge(session, "ch-asker-praktisk-hjelp")
        [p, *_] = save_proposals(session, ch, suggest(session, rt.store, ch, limit=2))
        transition(session, p, "approved", actor=reviewer)
        return p.id or 0


class Crash(BaseException):
    """Stands in for the worker process dying (not an Exception: nothing may catch it)."""


def test_crash_between_sending_and_marking_sends_once(home: Path, smtp) -> None:
    inbox, port = smtp
    rt, _ = _world(home, port)
    _approved_proposal(rt)
    send, journal = smtp_sender(rt.settings), Journal(home / "outbox-sent.log")

    def die(_row: OutboxMessage) -> None:
        raise Crash

    with pytest.raises(Crash):
        deliver_due(rt.engine, send, journal, after_send=die)
    assert len(inbox.messages) == 1
    with session_scope(rt.engine) as session:
        assert {m.status for m in session.exec(select(OutboxMessage))} == {"sending", "pending"}
    # a fresh worker: the first mail is recognised as delivered, the second is sent
    counts = deliver_due(rt.engine, send, Journal(home / "outbox-sent.log"))
    assert counts == {"sent": 1, "recovered": 1, "retry": 0, "failed": 0}
    assert deliver_due(rt.engine, send, journal)["sent"] == 0
    ids = [m["Message-ID"] for m in inbox.messages]
    assert len(ids) == 2 and len(set(ids)) == 2
    rt.engine.dispose()


def test_a_mail_on_its_way_in_another_worker_is_not_sent_twice(home: Path, smtp) -> None:
    """With several server processes, one worker's pass must not take back a message another
    worker has just claimed and is sending; only a row left behind long enough (a dead
    worker's) is due again, and then it goes out once."""
    inbox, port = smtp
    rt, _ = _world(home, port)
    _approved_proposal(rt)
    send, journal = smtp_sender(rt.settings), Journal(home / "outbox-sent.log")
    with session_scope(rt.engine) as session:  # worker A has claimed the first message
        row = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert row is not None
        row.status, row.attempts = "sending", 1
        claimed = row.id
    assert deliver_due(rt.engine, send, journal)["sent"] == 1  # worker B: only the other one
    with session_scope(rt.engine) as session:
        assert session.get(OutboxMessage, claimed).status == "sending"  # type: ignore[union-attr]
    assert len(inbox.messages) == 1
    # worker A died: once the row counts as stale it is sent, once
    assert deliver_due(rt.engine, send, journal, stale_after=timedelta(0))["sent"] == 1
    assert deliver_due(rt.engine, send, journal, stale_after=timedelta(0))["sent"] == 0
    ids = [m["Message-ID"] for m in inbox.messages]
    assert len(ids) == 2 and len(set(ids)) == 2
    rt.engine.dispose()


def test_server_down_then_back_delivers_exactly_once(home: Path) -> None:
    port = free_port()
    rt, _ = _world(home, port)  # nothing listens on the port yet
    _approved_proposal(rt)
    journal = Journal(home / "outbox-sent.log")
    counts = deliver_due(rt.engine, smtp_sender(rt.settings), journal)
    assert counts["retry"] == 2 and counts["sent"] == 0
    with session_scope(rt.engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
        assert all(r.status == "pending" and r.attempts == 1 and r.last_error for r in rows)
        for r in rows:  # make them due now instead of after the backoff
            r.next_attempt_at = r.created_at
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert deliver_due(rt.engine, smtp_sender(rt.settings), journal)["sent"] == 2
        assert deliver_due(rt.engine, smtp_sender(rt.settings), journal)["sent"] == 0
        assert len(inbox.messages) == 2
    finally:
        controller.stop()
    rt.engine.dispose()


def test_handoff_goes_to_the_deputy_when_the_contact_is_away(home: Path, smtp) -> None:
    inbox, port = smtp
    rt, _ = _world(home, port)
    with session_scope(rt.engine) as session:
        lars = session.exec(select(Contact).where(Contact.name == "Lars Eriksen")).one()
        siri = session.exec(select(Contact).where(Contact.name == "Siri Bakke")).one()
        lars.away, lars.deputy_id = True, siri.id
    pid = _approved_proposal(rt)
    with session_scope(rt.engine) as session:
        to = sorted(
            r
            for m in session.exec(select(OutboxMessage).where(OutboxMessage.proposal_id == pid))
            for r in m.recipients
        )
        assert "siri.bakke@asker.kommune.no" in to and "lars.eriksen@asker.kommune.no" not in to
        assert session.exec(select(Proposal).where(Proposal.id == pid)).one().status == "approved"
    rt.engine.dispose()


def test_pipeline_dates_and_outcomes_per_field(home: Path, smtp) -> None:
    _, port = smtp
    rt, h = _world(home, port)
    pid = _approved_proposal(rt)
    with TestClient(create_app(rt)) as client:
        for step in ("contacted", "in_dialogue", "agreement"):
            r = client.post(
                f"/api/v1/proposals/{pid}/transition",
                headers=h["reviewer"],
                json={"to_status": step},
            )
            assert r.status_code == 200, r.text
        r = client.post(
            f"/api/v1/proposals/{pid}/outcome",
            headers=h["reviewer"],
            json={"outcome": "pilot", "note": "Pilot fra mars"},
        )
        assert r.status_code == 200 and r.json()["status"] == "agreement"
        assert (
            client.post(
                f"/api/v1/proposals/{pid}/outcome",
                headers=h["reviewer"],
                json={"outcome": "kanskje"},
            ).status_code
            == 422
        )
        board = client.get(
            "/api/v1/pipeline", headers=h["reviewer"], params={"organisation": "Asker kommune"}
        ).json()
        assert board["counts"]["agreement"] == 1
        assert sum(board["counts"].values()) == len(board["proposals"])
        assert {
            "proposed->approved",
            "approved->contacted",
            "contacted->in_dialogue",
            "in_dialogue->agreement",
        } <= set(board["median_days"])
        row = next(p for p in board["proposals"] if p["proposal_id"] == pid)
        assert (
            set(row["dates"]) == {"proposed", "approved", "contacted", "in_dialogue", "agreement"}
            and row["outcome"] == "pilot"
        )
        # a municipal user of another organisation sees nothing of Asker's pipeline
        grorud = client.get("/api/v1/pipeline", headers=h["municipal"]).json()
        assert all(p["proposal_id"] != pid for p in grorud["proposals"])
        per_field = client.get("/api/v1/outcomes", headers=h["reviewer"]).json()
        assert per_field["Eldre"] == {"pilot": 1}
        events = client.get(f"/api/v1/proposals/{pid}/events", headers=h["reviewer"]).json()
        assert events[-1]["action"] == "outcome" and "Pilot fra mars" in events[-1]["reason"]
    rt.engine.dispose()


def test_municipal_staff_choose_which_suggestions_go_to_review(home: Path) -> None:
    rt, h = _world(home, free_port())
    with TestClient(create_app(rt)) as client:
        r = client.post(
            "/api/v1/challenges",
            headers=h["municipal"],
            json={
                "title": "Sykkelverksted for ungdom",
                "description": "Vi trenger et verksted der ungdom i bydelen kan få arbeidstrening "
                "med en fast veileder, gjerne med sykkelreparasjon.",
                "themes": ["arbeidsinkludering", "barn-og-unge"],
                "propose": False,
            },
        )
        assert r.status_code == 201 and r.json()["proposals_created"] == 0
        cid = r.json()["challenge"]["id"]
        sug = client.get(f"/api/v1/challenges/{cid}/suggestions", headers=h["municipal"]).json()[
            "suggestions"
        ]
        chosen = [s["entrepreneur"]["id"] for s in sug[:2]]
        r = client.post(
            f"/api/v1/challenges/{cid}/proposals",
            headers=h["municipal"],
            json={"entrepreneur_ids": chosen},
        )
        assert r.status_code == 201, r.text
        sent = r.json()
        assert [p["entrepreneur"]["id"] for p in sent] == chosen
        assert all(p["origin"] == "staff" and p["status"] == "proposed" for p in sent)
        # the explanation the staff member saw travels with the proposal
        assert sent[0]["score"] == pytest.approx(sug[0]["score"], abs=1e-3)
        assert sent[0]["explanation"]["themes"] == sug[0]["explanation"]["themes"]
        again = client.post(
            f"/api/v1/challenges/{cid}/proposals",
            headers=h["municipal"],
            json={"entrepreneur_ids": chosen},
        )
        assert again.status_code == 201 and again.json() == []  # nothing duplicated
        events = client.get(
            f"/api/v1/proposals/{sent[0]['id']}/events", headers=h["reviewer"]
        ).json()
        assert [(e["action"], e["actor"]) for e in events] == [("propose", "municipal@test.no")]
        assert events[0]["reason"] == "Sendt til vurdering av kommunen."
        bad = client.post(
            f"/api/v1/challenges/{cid}/proposals",
            headers=h["municipal"],
            json={"entrepreneur_ids": [999999]},
        )
        assert bad.status_code == 400 and "Fant ikke entreprenør" in bad.json()["detail"]
    rt.engine.dispose()


class SlowInbox(Inbox):
    """Takes a moment over every message, like a busy mail server."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        import asyncio

        await asyncio.sleep(0.3)
        return await super().handle_DATA(server, session, envelope)


def test_kill_during_outbox_sending_loses_nothing(home: Path) -> None:
    """``brobygger outbox run`` killed with SIGKILL while it delivers to a live SMTP server,
    at a different moment each round, then run again: every mail arrives, and only the one
    that was on its way at the kill can arrive twice (with the same Message-ID, so a mail
    client shows it once)."""
    import os
    import signal
    import subprocess

    from tests.conftest import BROBYGGER, cli_env, run_cli

    inbox = SlowInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        rt = demo_runtime(Settings(home=home))
        with session_scope(rt.engine) as session:
            for i in range(12):
                session.add(
                    OutboxMessage(
                        message_id=f"<kill-{i}@brobygger.test>",
                        kind="test",
                        recipients=[f"mottaker{i}@test.no"],
                        subject=f"Melding {i}",
                        body="Hei.",
                    )
                )
        rt.engine.dispose()
        env = {
            "BROBYGGER_SMTP_HOST": "127.0.0.1",
            "BROBYGGER_SMTP_PORT": str(controller.port),
            "BROBYGGER_OUTBOX_STALE_SECONDS": "1",
        }
        kills = 0
        for after in (2, 5, 8):  # kill when this many have arrived
            proc = subprocess.Popen(
                [str(BROBYGGER), "outbox", "run"],
                env=cli_env(home, **env),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_for(
                lambda a=after, p=proc: len(inbox.messages) >= a or p.poll() is not None,
                timeout=120,
                interval=0.01,
            )
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
            time.sleep(1.1)  # a dead run's "sending" row becomes due again
        assert kills >= 2
        for _ in range(3):
            run_cli(home, "outbox", "run", **env)
            time.sleep(1.1)
        status = run_cli(home, "outbox", "status").stdout
        assert "sent     12" in status and "sending  0" in status, status
        received = [m["Message-ID"] for m in inbox.messages]
        assert set(received) == {f"<kill-{i}@brobygger.test>" for i in range(12)}
        duplicates = len(received) - 12
        assert duplicates <= kills, received  # at most the one in flight per kill
    finally:
        controller.stop()
