"""`brobygger conference schedule`: the CLI contract on the demo participants, the files it
writes, every constraint checked from those files, and bad input refused in Norwegian."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from service.config import Settings
from tests.conftest import REPO, demo_runtime, run_cli

PARTICIPANTS = REPO / "data" / "demo" / "konferanse.csv"
ARGS = ("--slots", "6", "--slot-minutes", "15", "--start", "09:00", "--tables", "5")


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("conf")
    demo_runtime(Settings(home=home)).engine.dispose()  # profiles for entrepreneur_id
    return home


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_schedule_writes_the_contract_files_and_keeps_every_constraint(
    demo_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plan"
    proc = run_cli(
        demo_home,
        "conference",
        "schedule",
        str(PARTICIPANTS),
        *ARGS,
        "--max-per-organisation",
        "1",
        "--out",
        str(out),
        "--date",
        "2026-11-26",
        "--name",
        "SosEnt 2026",
    )
    assert "møter planlagt" in proc.stdout and "ferdig" in proc.stderr  # progress shown
    people = {r["id"]: r for r in _rows(PARTICIPANTS)}
    meetings = _rows(out / "meetings.csv")
    assert list(meetings[0]) == ["slot", "table", "municipal_id", "entrepreneur_id", "affinity"]
    affinity = {
        (r["municipal_id"], r["entrepreneur_id"]): float(r["affinity"])
        for r in _rows(out / "affinities.csv")
    }
    municipal = [p for p in people.values() if p["side"] == "municipal"]
    entrepreneurs = [p for p in people.values() if p["side"] == "entrepreneur"]
    assert len(affinity) == len(municipal) * len(entrepreneurs)
    assert all(0.0 <= a <= 1.0 for a in affinity.values())

    summary = json.loads((out / "summary.json").read_text())
    assert {"objective", "upper_bound", "gap", "status", "seconds"} <= set(summary)
    objective = sum(float(m["affinity"]) for m in meetings)
    assert summary["objective"] == pytest.approx(objective, abs=1e-3)
    assert summary["objective"] <= summary["upper_bound"] + 1e-6

    busy: set[tuple[str, str]] = set()
    tables: set[tuple[str, str]] = set()
    pairs = set()
    per = Counter()
    per_org = Counter()
    for m in meetings:
        mid, eid, slot = m["municipal_id"], m["entrepreneur_id"], m["slot"]
        assert people[mid]["side"] == "municipal" and people[eid]["side"] == "entrepreneur"
        assert 1 <= int(slot) <= 6 and 1 <= int(m["table"]) <= 5
        for pid in (mid, eid):
            assert (pid, slot) not in busy  # nobody in two meetings at once
            busy.add((pid, slot))
            assert slot not in people[pid]["unavailable_slots"].split(";")
            per[pid] += 1
        assert (slot, m["table"]) not in tables
        tables.add((slot, m["table"]))
        assert (mid, eid) not in pairs
        pairs.add((mid, eid))
        assert float(m["affinity"]) == pytest.approx(affinity[(mid, eid)], abs=1e-4)
        if eid not in people[mid]["want"].split(";"):
            per_org[(people[mid]["organisation"], eid)] += 1
    for pid, n in per.items():
        assert n <= int(people[pid]["max_meetings"])
    assert max(per_org.values()) <= 1  # --max-per-organisation 1
    for p in entrepreneurs:  # the minimum of 2 is feasible here, so it is met
        assert per[p["id"]] >= 2
    for p in people.values():  # asked-for pairs meet, avoided ones never do
        for other in filter(None, p["want"].split(";")):
            assert (p["id"], other) in pairs or (other, p["id"]) in pairs
        for other in filter(None, p["avoid"].split(";")):
            assert (p["id"], other) not in pairs and (other, p["id"]) not in pairs

    # an agenda per person, printable HTML and a calendar file with one event per meeting
    agenda = (out / "agendaer" / "k1.html").read_text()
    assert '<html lang="nb">' in agenda and "Møteplan for Kari Nordby" in agenda
    ics = (out / "agendaer" / "k1.ics").read_text()
    assert ics.startswith("BEGIN:VCALENDAR") and ics.count("BEGIN:VEVENT") == per["k1"]
    assert "DTSTART:20261126T09" in ics or "DTSTART:20261126T1" in ics

    from pypdf import PdfReader

    pdf = PdfReader(out / "agendaer" / "k1.pdf").pages[0].extract_text()
    assert "Møteplan for Kari Nordby" in pdf and "SosEnt 2026 · 26.11.2026" in pdf
    assert pdf.count("Bord ") == per["k1"]

    # for organisers: a workbook and a summary page with the two plots
    from openpyxl import load_workbook

    book = load_workbook(out / "meetings.xlsx", read_only=True)
    assert book.sheetnames == ["Møter", "Deltakere"]
    assert book["Møter"].max_row == len(meetings) + 1
    summary_page = (out / "summary.html").read_text()
    assert summary_page.count("<svg") == 2 and '<html lang="nb">' in summary_page


def test_participants_from_an_excel_workbook(demo_home: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook

    rows = list(csv.reader(PARTICIPANTS.open(encoding="utf-8")))
    book = Workbook()
    for row in rows:
        book.active.append([int(v) if v.isdigit() else v for v in row])
    book.save(tmp_path / "deltakere.xlsx")
    out = tmp_path / "plan"
    run_cli(
        demo_home,
        "conference",
        "schedule",
        str(tmp_path / "deltakere.xlsx"),
        *ARGS,
        "--out",
        str(out),
    )
    from_csv = tmp_path / "fra-csv"
    run_cli(demo_home, "conference", "schedule", str(PARTICIPANTS), *ARGS, "--out", str(from_csv))
    assert (out / "meetings.csv").read_text() == (from_csv / "meetings.csv").read_text()


def test_bad_rows_are_refused_with_row_and_field(demo_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "feil.csv"
    bad.write_text(
        "id,side,name,themes,unavailable_slots,want,entrepreneur_id\n"
        "a,municipal,Anne,eldre,9,x,\n"
        "a,kommune,Ola,romfart,,,\n"
        "b,entrepreneur,,,,,se-finnes-ikke\n",
        encoding="utf-8",
    )
    proc = run_cli(
        demo_home,
        "conference",
        "schedule",
        str(bad),
        *ARGS,
        "--out",
        str(tmp_path / "ut"),
        check=False,
    )
    assert proc.returncode == 1
    err = proc.stderr
    assert "rad 1, felt «unavailable_slots»: «9» er ikke en tidsluke fra 1 til 6" in err
    assert "rad 2, felt «id»: «a» er brukt før i filen" in err
    assert "rad 2, felt «side»" in err and "ukjent tema «romfart»" in err
    assert "fant ingen entreprenørprofil «se-finnes-ikke»" in err
    assert "rad 1, felt «want»: ukjent deltaker «x»" in err
    assert not (tmp_path / "ut").exists()


def test_an_impossible_conference_says_why(demo_home: Path, tmp_path: Path) -> None:
    lonely = tmp_path / "bare-kommune.csv"
    lonely.write_text(
        "id,side,name,description\nk,municipal,Kari,Vi trenger hjelp.\n", encoding="utf-8"
    )
    proc = run_cli(
        demo_home,
        "conference",
        "schedule",
        str(lonely),
        *ARGS,
        "--out",
        str(tmp_path / "ut"),
        check=False,
    )
    assert proc.returncode == 2
    assert "Det trengs deltakere fra både kommunene og entreprenørene" in proc.stderr
    proc = run_cli(
        demo_home,
        "conference",
        "schedule",
        str(PARTICIPANTS),
        "--slots",
        "6",
        "--slot-minutes",
        "15",
        "--start",
        "25:00",
        "--tables",
        "5",
        "--out",
        str(tmp_path / "ut"),
        check=False,
    )
    assert proc.returncode == 1 and "TT:MM" in proc.stderr


def test_a_stored_plan_is_reviewed_re_planned_and_published(db_url: str, tmp_path: Path) -> None:
    from datetime import date

    from sqlmodel import select

    from matcher.scheduling import violations
    from models.db import session_scope
    from models.tables import Meeting
    from models.tables import Participant as Row
    from service.conference import (
        ConferenceError,
        add_meeting,
        create_conference,
        load,
        move_meeting,
        plan,
        publish,
        read_participants,
        record_no_show,
        remove_meeting,
        set_locked,
    )

    rt = demo_runtime(Settings(home=tmp_path, database_url=db_url))
    with session_scope(rt.engine) as session:
        people = read_participants(PARTICIPANTS, session, 6)
        conf = create_conference(
            session,
            name="SosEnt 2026",
            day=date(2026, 11, 26),
            place="Oslo",
            slots=6,
            slot_minutes=15,
            start="09:00",
            tables=5,
            max_per_organisation=1,
            people=people,
        )
        first = plan(session, rt.store, conf)
        assert first.meetings and conf.objective == first.objective
        cid = conf.id

    def meetings(session):
        return list(
            session.exec(
                select(Meeting)
                .where(Meeting.conference_id == cid)
                .order_by(Meeting.slot, Meeting.table_no)
            )
        )

    with session_scope(rt.engine) as session:
        from models.tables import Conference

        conf = session.get(Conference, cid)
        ms = meetings(session)
        keep, move, drop = ms[0], ms[1], ms[2]
        set_locked(session, conf, keep.id, True)
        # move to a slot where both are free, else the organiser is told why
        for slot in range(1, 7):
            try:
                move_meeting(session, conf, move.id, slot)
                break
            except ConferenceError as exc:
                assert "ikke ledig" in str(exc) or "bord" in str(exc)
        moved_to = move.slot
        dropped = (drop.municipal_id, drop.entrepreneur_id)
        remove_meeting(session, conf, drop.id)
        rows = session.exec(select(Row).where(Row.conference_id == cid)).all()
        k2 = next(r for r in rows if r.external_id == "k2")
        met = {m.entrepreneur_id for m in meetings(session) if m.municipal_id == k2.id}
        other = next(r for r in rows if r.side == "entrepreneur" and r.id not in met)
        with pytest.raises(ConferenceError, match="ikke ledig i tidsluke 1"):
            add_meeting(session, rt.store, conf, k2.id, other.id, 1)  # k2 is away in 1 and 2
        # take one meeting off k3 to give room, then add k3 with someone new by hand
        k3 = next(r for r in rows if r.external_id == "k3")
        k3_meetings = [
            m
            for m in meetings(session)
            if m.municipal_id == k3.id and m.id not in (keep.id, move.id)
        ]
        free = k3_meetings[0].slot
        remove_meeting(session, conf, k3_meetings[0].id)
        session.flush()
        busy = {m.entrepreneur_id for m in meetings(session) if m.slot == free}
        met3 = {m.entrepreneur_id for m in meetings(session) if m.municipal_id == k3.id}
        load_e = Counter(m.entrepreneur_id for m in meetings(session))
        other = next(
            r
            for r in rows
            if r.side == "entrepreneur"
            and r.id not in busy | met3
            and r.external_id not in k3.avoid
            and load_e[r.id] < r.max_meetings
        )
        k2 = k3
        added = add_meeting(session, rt.store, conf, k2.id, other.id, free)
        assert added.locked and 0 <= added.affinity <= 1
        session.flush()
        again = plan(session, rt.store, conf)
        data = load(session, rt.store, conf)
        assert violations(data.instance, again.meetings) == []
        now = {(m.municipal_id, m.entrepreneur_id): m for m in meetings(session)}
        assert now[(keep.municipal_id, keep.entrepreneur_id)].slot == keep.slot
        assert now[(move.municipal_id, move.entrepreneur_id)].slot == moved_to
        assert dropped not in now  # a removed meeting does not come back
        assert now[(k2.id, other.id)].slot == free  # an added one stays

        # a no-show from slot 3: earlier meetings stay, theirs later go, the rest re-planned
        absent = next(r for r in rows if r.external_id == "e-jobbverkstedet")
        before = sorted(
            (m.slot, m.municipal_id, m.entrepreneur_id) for m in meetings(session) if m.slot < 3
        )
        record_no_show(session, conf, absent.id, 3)
        session.flush()
        plan(session, rt.store, conf)
        after = meetings(session)
        assert (
            sorted((m.slot, m.municipal_id, m.entrepreneur_id) for m in after if m.slot < 3)
            == before
        )
        assert not [m for m in after if m.entrepreneur_id == absent.id and m.slot >= 3]
        publish(session, conf)
        assert conf.status == "published" and conf.published_at is not None
        for change in (lambda: plan(session, rt.store, conf),
                       lambda: set_locked(session, conf, after[0].id, False),
                       lambda: remove_meeting(session, conf, after[0].id)):
            with pytest.raises(ConferenceError, match="publisert og kan ikke endres"):
                change()
    rt.engine.dispose()


def test_the_conference_api_for_organisers(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from models.db import session_scope
    from service.app import create_app
    from service.security import create_user, issue_token

    rt = demo_runtime(Settings(home=tmp_path))
    with session_scope(rt.engine) as session:
        tokens = {
            role: issue_token(
                session,
                create_user(
                    session,
                    email=f"{role}@test.no",
                    role=role,
                    **({"organisation": "Bydel Grorud"} if role == "municipal" else {}),
                ),
            )
            for role in ("organiser", "reviewer", "municipal")
        }
    h = {r: {"Authorization": f"Bearer {t}"} for r, t in tokens.items()}
    form = {
        "name": "SosEnt 2026",
        "date": "2026-11-26",
        "place": "Oslo",
        "slots": "6",
        "slot_minutes": "15",
        "start": "09:00",
        "tables": "5",
        "max_per_organisation": "1",
    }
    with TestClient(create_app(rt)) as client:
        files = {"participants": ("deltakere.csv", PARTICIPANTS.read_bytes(), "text/csv")}
        for role in ("reviewer", "municipal"):
            r = client.post("/api/v1/conferences", headers=h[role], data=form, files=files)
            assert r.status_code == 403
        assert client.get("/api/v1/conferences").status_code == 401
        bad = client.post(
            "/api/v1/conferences",
            headers=h["organiser"],
            data=form,
            files={"participants": ("d.csv", b"id,side,name\na,romvesen,X\n", "text/csv")},
        )
        assert bad.status_code == 422 and bad.json()["detail"][0]["felt"] == "side"
        r = client.post("/api/v1/conferences", headers=h["organiser"], data=form, files=files)
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        planned = client.post(f"/api/v1/conferences/{cid}/plan", headers=h["organiser"]).json()
        assert planned["meetings"] and planned["objective"] <= planned["upper_bound"]
        first = planned["meetings"][0]
        locked = client.patch(
            f"/api/v1/conferences/{cid}/meetings/{first['id']}",
            headers=h["organiser"],
            json={"locked": True},
        ).json()
        assert next(m for m in locked["meetings"] if m["id"] == first["id"])["locked"]
        gone = client.delete(
            f"/api/v1/conferences/{cid}/meetings/{planned['meetings'][1]['id']}",
            headers=h["organiser"],
        ).json()
        assert len(gone["meetings"]) == len(planned["meetings"]) - 1
        refused = client.post(
            f"/api/v1/conferences/{cid}/meetings",
            headers=h["organiser"],
            json={
                "municipal_id": first["municipal_id"],
                "entrepreneur_id": first["entrepreneur_id"],
                "slot": 1,
            },
        )
        assert refused.status_code == 409 and "allerede et møte" in refused.json()["detail"]
        person = next(p for p in planned["participants"] if p["external_id"] == "k3")
        after = client.post(
            f"/api/v1/conferences/{cid}/no-show",
            headers=h["organiser"],
            json={"participant_id": person["id"], "from_slot": 4},
        ).json()
        assert not [
            m for m in after["meetings"] if m["municipal_id"] == person["id"] and m["slot"] >= 4
        ]
        assert (
            client.post(f"/api/v1/conferences/{cid}/publish", headers=h["organiser"]).json()[
                "status"
            ]
            == "published"
        )
        late = client.post(f"/api/v1/conferences/{cid}/plan", headers=h["organiser"])
        assert late.status_code == 409 and "publisert" in late.json()["detail"]
    rt.engine.dispose()


def test_server_killed_while_planning_keeps_the_stored_plan_whole(tmp_path: Path) -> None:
    """The server is killed (SIGKILL) while it plans a conference (the API runs the same
    ``plan`` as the web page's background job), at several moments: after a restart the
    stored plan is the previous one or the new one, whole, and planning works again."""
    import http.client
    import signal
    import subprocess
    import threading
    import time
    from datetime import date

    from sqlmodel import select

    from models.db import session_scope
    from models.tables import Meeting
    from service.conference import create_conference, plan, read_participants
    from service.security import create_user, issue_token
    from tests.conftest import BROBYGGER, cli_env, free_port, wait_for

    rt = demo_runtime(Settings(home=tmp_path))
    with session_scope(rt.engine) as s:
        token = issue_token(s, create_user(s, email="arr@test.no", role="organiser"))
        people = read_participants(REPO / "data/demo/konferanse.csv", s, 6)
        conf = create_conference(s, name="SosEnt", day=date(2026, 12, 1), place="Oslo",
                                 slots=6, slot_minutes=20, start="09:00", tables=6,
                                 max_per_organisation=None, people=people)
        s.flush()
        plan(s, rt.store, conf)
        cid = conf.id

    def stored() -> set[tuple[int, int, int, int]]:
        with session_scope(rt.engine) as s:
            return {(m.slot, m.table_no, m.municipal_id, m.entrepreneur_id)
                    for m in s.exec(select(Meeting).where(Meeting.conference_id == cid))}

    first = stored()

    def whole(meetings: set[tuple[int, int, int, int]]) -> bool:
        """A complete plan: as many meetings as a full plan, nobody and no table twice in a
        slot (a half-replaced plan would have fewer meetings, or clashes)."""
        return (len(meetings) == len(first) > 0
                and len({(m[0], m[1]) for m in meetings}) == len(meetings)
                and len({(m[0], m[2]) for m in meetings}) == len(meetings)
                and len({(m[0], m[3]) for m in meetings}) == len(meetings))

    def ask(port: int, method: str, path: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        try:
            conn.request(method, path, headers={"Authorization": f"Bearer {token}"})
            return conn.getresponse().status
        except (OSError, http.client.HTTPException):
            return 0  # the server died under the request
        finally:
            conn.close()

    def healthy(port: int) -> bool:
        try:
            return ask(port, "GET", "/healthz") == 200
        except OSError:
            return False

    for delay in (0.3, 1.2):
        port = free_port()
        proc = subprocess.Popen([str(BROBYGGER), "serve", "--port", str(port)],
                                env=cli_env(tmp_path), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            assert wait_for(lambda p=port: healthy(p), timeout=120)
            request = threading.Thread(target=ask, args=(port, "POST",
                                                         f"/api/v1/conferences/{cid}/plan"))
            request.start()
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        request.join(timeout=30)
        assert whole(stored()), delay
    with session_scope(rt.engine) as s:
        conf = s.get(type(conf), cid)
        plan(s, rt.store, conf)
    assert whole(stored())
    rt.engine.dispose()
