"""`brobygger conference schedule`: the CLI contract on the demo participants, the files it
writes (Norwegian names and headers, as Norwegian Excel opens them), every constraint checked
from those files, participant files as Norwegian Excel saves them, and bad input refused in
Norwegian with the row as the spreadsheet numbers it."""

from __future__ import annotations

import csv
import io
import json
import re
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


def _excel_rows(path: Path) -> list[dict[str, str]]:
    """A CSV written for Norwegian Excel: UTF-8 with BOM, ``;`` between columns."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))


def _score(text: str) -> float:
    """A score with decimal comma (``61,23``) on 0–100, as an affinity 0–1."""
    assert "." not in text and "," in text, text
    return float(text.replace(",", ".")) / 100


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
    # the result in plain Norwegian, with decimal commas: no "objective", "gap" or "0.55%"
    result = proc.stdout.splitlines()[0]
    assert re.search(
        r"Hvor godt parene passer, samlet: \d+,\d av høyst \d+,\d mulige "
        r"\(\d+(,\d)? % av det beste mulige\)\.",
        result,
    ), result
    assert re.search(r"Tok \d+,\d s\.", result) and "avstand" not in result, result
    assert "møter.csv, møter.xlsx, alle-par.csv, oppsummering.json" in proc.stdout
    assert {p.name for p in out.iterdir()} == {
        "møter.csv",
        "møter.xlsx",
        "alle-par.csv",
        "oppsummering.json",
        "oppsummering.html",
        "agendaer",
    }
    people = {r["id"]: r for r in _rows(PARTICIPANTS)}
    meetings = _excel_rows(out / "møter.csv")
    assert list(meetings[0]) == [
        "Tidsluke",
        "Tid",
        "Bord",
        "Kommuneansatt",
        "Organisasjon",
        "Entreprenør",
        "Hvor godt de passer (0–100)",
        "Kommuneansatt-id",
        "Entreprenør-id",
    ]
    assert re.fullmatch(r"\d\d:\d\d–\d\d:\d\d", meetings[0]["Tid"])
    meetings = [
        {
            "slot": m["Tidsluke"],
            "table": m["Bord"],
            "municipal_id": m["Kommuneansatt-id"],
            "entrepreneur_id": m["Entreprenør-id"],
            "affinity": _score(m["Hvor godt de passer (0–100)"]),
            "names": (m["Kommuneansatt"], m["Entreprenør"]),
        }
        for m in meetings
    ]
    pairs_file = _excel_rows(out / "alle-par.csv")
    assert list(pairs_file[0]) == [
        "Kommuneansatt-id",
        "Kommuneansatt",
        "Entreprenør-id",
        "Entreprenør",
        "Hvor godt de passer (0–100)",
    ]
    affinity = {
        (r["Kommuneansatt-id"], r["Entreprenør-id"]): _score(r["Hvor godt de passer (0–100)"])
        for r in pairs_file
    }
    municipal = [p for p in people.values() if p["side"] == "municipal"]
    entrepreneurs = [p for p in people.values() if p["side"] == "entrepreneur"]
    assert len(affinity) == len(municipal) * len(entrepreneurs)
    assert all(0.0 <= a <= 1.0 for a in affinity.values())

    summary = json.loads((out / "oppsummering.json").read_text())
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
        assert m["names"][0] == people[mid]["name"]
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
    assert '<html lang="nb">' in agenda and "<h1>Møteplan for Kari Nordby</h1>" in agenda
    assert "<main>" in agenda and "26. november 2026" in agenda
    ics = (out / "agendaer" / "k1.ics").read_text()
    assert ics.startswith("BEGIN:VCALENDAR") and ics.count("BEGIN:VEVENT") == per["k1"]
    assert "DTSTART:20261126T09" in ics or "DTSTART:20261126T1" in ics

    from pypdf import PdfReader

    pdf = PdfReader(out / "agendaer" / "k1.pdf").pages[0].extract_text()
    assert "Møteplan for Kari Nordby" in pdf and "SosEnt 2026 · 26.11.2026" in pdf
    assert pdf.count("Bord ") == per["k1"]

    # for organisers: a workbook and a summary page with the two plots
    from openpyxl import load_workbook

    book = load_workbook(out / "møter.xlsx", read_only=True)
    assert book.sheetnames == ["Møter", "Deltakere"]
    assert book["Møter"].max_row == len(meetings) + 1
    header = [c.value for c in next(book["Møter"].iter_rows(max_row=1))]
    assert header[:3] == ["Tidsluke", "Tid", "Bord"] and "Kommuneansatt" in header
    summary_page = (out / "oppsummering.html").read_text()
    assert summary_page.count("<svg") == 2 and '<html lang="nb">' in summary_page
    assert "<main>" in summary_page and "Hvor godt parene passer, samlet:" in summary_page


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
    assert (out / "møter.csv").read_text() == (from_csv / "møter.csv").read_text()


def test_bad_rows_are_refused_with_row_and_field(demo_home: Path, tmp_path: Path) -> None:
    """Rows are named as the spreadsheet shows them: the header is row 1, the first
    participant row 2 (as in the spreadsheet an organiser opens to fix the file)."""
    bad = tmp_path / "feil.csv"
    bad.write_text(
        "id,side,name,themes,unavailable_slots,want,entrepreneur_id\n"
        "a,municipal,Anne,eldre,9,x,\n"
        "a,romvesen,Ola,romfart,,,\n"
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
    assert "rad 2, felt «unavailable_slots»: «9» er ikke en tidsluke fra 1 til 6" in err
    assert "rad 3, felt «id»: «a» er brukt før i filen" in err
    assert "rad 3, felt «side»" in err and "ukjent tema «romfart»" in err
    assert "rad 4, felt «entrepreneur_id»: fant ingen entreprenørprofil «se-finnes-ikke»" in err
    assert "rad 2, felt «want»: ukjent deltaker «x»" in err
    assert "rad 1," not in err  # no error is put on the header row
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
        for change in (
            lambda: plan(session, rt.store, conf),
            lambda: set_locked(session, conf, after[0].id, False),
            lambda: remove_meeting(session, conf, after[0].id),
        ):
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
        for template in ("/konferanser/ny/mal.csv", "/konferanser/ny/mal.xlsx"):  # organisers'
            assert client.get(template, follow_redirects=False).status_code == 303  # log in
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
        conf = create_conference(
            s,
            name="SosEnt",
            day=date(2026, 12, 1),
            place="Oslo",
            slots=6,
            slot_minutes=20,
            start="09:00",
            tables=6,
            max_per_organisation=None,
            people=people,
        )
        s.flush()
        plan(s, rt.store, conf)
        cid = conf.id

    def stored() -> set[tuple[int, int, int, int]]:
        with session_scope(rt.engine) as s:
            return {
                (m.slot, m.table_no, m.municipal_id, m.entrepreneur_id)
                for m in s.exec(select(Meeting).where(Meeting.conference_id == cid))
            }

    first = stored()

    def whole(meetings: set[tuple[int, int, int, int]]) -> bool:
        """A complete plan: as many meetings as a full plan, nobody and no table twice in a
        slot (a half-replaced plan would have fewer meetings, or clashes)."""
        return (
            len(meetings) == len(first) > 0
            and len({(m[0], m[1]) for m in meetings}) == len(meetings)
            and len({(m[0], m[2]) for m in meetings}) == len(meetings)
            and len({(m[0], m[3]) for m in meetings}) == len(meetings)
        )

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
        proc = subprocess.Popen(
            [str(BROBYGGER), "serve", "--port", str(port)],
            env=cli_env(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert wait_for(lambda p=port: healthy(p), timeout=120)
            request = threading.Thread(
                target=ask, args=(port, "POST", f"/api/v1/conferences/{cid}/plan")
            )
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


# -- participant files as Norwegian Excel saves them ----------------------------------------------

NORWEGIAN = (
    "id;type;navn;organisasjon;beskrivelse;temaer;maks_møter;min_møter;opptatt;ikke_møte;"
    "vil_møte\n"
    "k1;kommune;Åse Ødegård;Bydel Søndre Nordstrand;Vi trenger hjelp med å nå eldre som bor "
    "alene.;Eldre, Frivillighet;4;;1-2, 5;;e1\n"
    "e1;entreprenør;Bærekraftige Æbler AS;;Vi driver besøkstjeneste for eldre.;eldre;5;2;;;\n"
)


@pytest.mark.parametrize(
    "encoding,delimiter",
    [("cp1252", ";"), ("utf-8-sig", ";"), ("utf-8", ";"), ("utf-8", ","), ("utf-16", "\t")],
    ids=["windows-1252;", "utf-8-bom;", "utf-8;", "utf-8,", "unicode-tekst"],
)
def test_norwegian_excel_files_are_read(tmp_path: Path, encoding: str, delimiter: str) -> None:
    """«CSV (semikolonseparert)» from Norwegian Excel is Windows-1252 with ``;``; «CSV UTF-8»
    has a BOM; other tools write UTF-8 with ``,``; «Unicode-tekst» is UTF-16 with tabs. All
    are read the same, with Norwegian column names and values (kommune/entreprenør, theme
    names as shown on the pages, slot ranges, lists separated by commas)."""
    from service.conference import read_participants

    text = NORWEGIAN
    if delimiter != ";":
        rows = [line.split(";") for line in NORWEGIAN.splitlines()]
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
        text = buffer.getvalue()
    path = tmp_path / "deltakere.csv"
    path.write_bytes(text.encode(encoding))
    k1, e1 = read_participants(path, None, 6)
    assert (k1.id, k1.side, k1.name, k1.organisation) == (
        "k1",
        "municipal",
        "Åse Ødegård",
        "Bydel Søndre Nordstrand",
    )
    assert k1.themes == ["eldre", "frivillighet"] and k1.max_meetings == 4
    assert k1.unavailable == frozenset({1, 2, 5}) and k1.want == ["e1"]
    assert (e1.side, e1.name, e1.min_meetings, e1.themes) == (
        "entrepreneur",
        "Bærekraftige Æbler AS",
        2,
        ["eldre"],
    )
    assert (k1.row, e1.row) == (2, 3)


def test_column_names_in_any_spelling_and_english_still_work(tmp_path: Path) -> None:
    from service.conference import read_participants

    path = tmp_path / "d.csv"
    path.write_text(
        "ID;Rolle;Navn;Beskrivelse;Maks møter;Ønsker;Ikke-møte\n"
        "k1;Kommune;Kari;Eldre trenger følge.;3;e1;\n"
        "e1;Entreprenør;Ola;Følgetjeneste.;;;\n",
        encoding="utf-8",
    )
    k1, e1 = read_participants(path, None, 4)
    assert (k1.side, k1.max_meetings, k1.want, e1.side) == ("municipal", 3, ["e1"], "entrepreneur")
    english = tmp_path / "e.csv"
    english.write_text(
        "id,side,name,description,max_meetings\nk1,municipal,Kari,Eldre.,3\n"
        "e1,entrepreneur,Ola,Følge.,\n",
        encoding="utf-8",
    )
    assert [p.side for p in read_participants(english, None, 4)] == ["municipal", "entrepreneur"]


def test_a_bad_norwegian_file_lists_every_error_by_spreadsheet_row(tmp_path: Path) -> None:
    """Every error at once, named by the row the spreadsheet shows (header = row 1; blank rows
    and a cell with a line break count as Excel counts them) and by the file's own column
    names; nothing is used."""
    from models.importing import ImportValidationError
    from service.conference import read_participants

    path = tmp_path / "d.csv"
    path.write_bytes(
        (
            "id;type;navn;beskrivelse;temaer;opptatt;maks_møter;min_møter;vil_møte;farge\n"
            'k1;kommune;Kari;"To linjer\ni én celle.";eldre;;;;;\n'
            ";;;;;;;;;\n"
            "k2;kunde;Per;Tekst.;romfart;0, 7;fire;;e9;\n"
            "e1;entreprenør;;;;;2;3;;\n"
        ).encode("cp1252")
    )
    with pytest.raises(ImportValidationError) as caught:
        read_participants(path, None, 6)
    found = [str(e) for e in caught.value.errors]
    expected = [
        "rad 1, felt «farge»: ukjent kolonne",
        "rad 4, felt «type»: «kunde» er ikke gyldig (skriv kommune eller entreprenør)",
        "rad 4, felt «temaer»: ukjent tema «romfart»",
        "rad 4, felt «opptatt»: «0» er ikke en tidsluke fra 1 til 6",
        "rad 4, felt «opptatt»: «7» er ikke en tidsluke fra 1 til 6",
        "rad 4, felt «maks_møter»: «fire» må være et helt tall",
        "rad 5, felt «navn»: mangler",
        "rad 5, felt «beskrivelse»: mangler",
        "rad 5, felt «min_møter»: er større enn «maks_møter» (3 > 2)",
        "rad 4, felt «vil_møte»: ukjent deltaker «e9»",
    ]
    for text in expected:
        assert any(f.startswith(text) for f in found), (text, found)
    assert len(found) == len(expected), found


def test_a_workbook_numbers_rows_as_excel_does(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from models.importing import ImportValidationError
    from service.conference import read_participants

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "type", "navn", "beskrivelse"])
    sheet.append(["k1", "kommune", "Kari", "Tekst."])
    sheet["A4"], sheet["B4"], sheet["C4"] = "e1", "entreprenør", "Ola"  # row 3 left empty
    book.save(tmp_path / "d.xlsx")
    with pytest.raises(ImportValidationError) as caught:
        read_participants(tmp_path / "d.xlsx", None, 6)
    assert [str(e) for e in caught.value.errors] == [
        "rad 4, felt «beskrivelse»: mangler (eller fyll ut «temaer» eller «profil»)"
    ]


def test_a_file_that_is_not_text_is_refused_in_norwegian(tmp_path: Path) -> None:
    from models.importing import ImportValidationError
    from service.conference import read_participants

    path = tmp_path / "d.csv"
    path.write_bytes(b"id;type;navn\nk1;kommune;\x81\x8d\x9d\n")  # not UTF-8, not cp1252
    with pytest.raises(ImportValidationError, match="feil") as caught:
        read_participants(path, None, 6)
    assert "verken UTF-8 eller Windows-1252" in str(caught.value.errors[0])


def test_the_template_is_norwegian_excel_csv_and_reads_back(tmp_path: Path) -> None:
    """The template organisers download opens in Norwegian Excel as columns (``;``, UTF-8
    with BOM), has Norwegian headers and two example rows, and is itself a valid file."""
    from openpyxl import load_workbook

    from service.conference import COLUMNS, read_participants, template_csv, template_xlsx

    raw = template_csv()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].split(";") == [c.name for c in COLUMNS]
    assert lines[0].startswith("id;type;navn;organisasjon;beskrivelse;temaer;maks_møter")
    assert len(lines) == 3
    (tmp_path / "mal.csv").write_bytes(raw)
    people = read_participants(tmp_path / "mal.csv", None, 6)
    assert [p.side for p in people] == ["municipal", "entrepreneur"]
    (tmp_path / "mal.xlsx").write_bytes(template_xlsx())
    sheet = load_workbook(tmp_path / "mal.xlsx").active
    assert [c.value for c in sheet[1]] == [c.name for c in COLUMNS] and sheet.max_row == 3
    assert read_participants(tmp_path / "mal.xlsx", None, 6)[0].want == people[0].want


def test_plan_quality_is_said_in_plain_norwegian() -> None:
    from service.conference import plan_text, quality_text, share_text

    assert quality_text(41.23, 41.5) == (
        "Hvor godt parene passer, samlet: 41,2 av høyst 41,5 mulige (99 % av det beste mulige)."
    )
    assert share_text(0.996) == "99,6 %" and share_text(1.0) == "100 %"
    text = plan_text(1234, 41.23, 41.5, "optimal")
    assert re.match(r"1\s234 møter planlagt\. Hvor godt parene passer", text), text
    assert text.endswith("Ingen annen plan gir bedre par innenfor kravene.")
    for jargon in ("objective", "gap", "avstand", "øvre grense", "samlet treff", "optimal"):
        assert jargon not in text.lower()


def test_download_names_with_norwegian_letters() -> None:
    from service.web.conferences import disposition

    header = disposition("attachment", "sosent-2026-møter.csv")
    assert header == (
        'attachment; filename="sosent-2026-moter.csv"; '
        "filename*=UTF-8''sosent-2026-m%C3%B8ter.csv"
    )
    header.encode("latin-1")  # an HTTP header must be latin-1: only ASCII here


def test_an_agenda_has_landmarks_and_says_when_there_is_nothing() -> None:
    from datetime import date

    from service.conference import Agenda, agenda_html

    agenda = Agenda("09:00", 15, date(2026, 11, 26), "SosEnt <2026>", "Oslo")
    page = agenda_html(agenda, "Kari <b>", "Bydel Grorud", [])
    assert '<html lang="nb">' in page and page.count("<main>") == 1
    assert "<h1>Møteplan for Kari &lt;b&gt;</h1>" in page and "SosEnt &lt;2026&gt;" in page
    assert "26. november 2026 · Oslo · Bydel Grorud" in page
    assert "Ingen møter planlagt." in page and "<ol" not in page
    row = {
        "slot": 2,
        "table": 3,
        "municipal": "k",
        "entrepreneur": "e",
        "other": "Ola",
        "other_org": "",
        "why": "Felles temaer: Eldre.",
    }
    page = agenda_html(agenda, "Kari", "", [row])
    assert '<time datetime="2026-11-26T09:15">09:15</time>' in page and "bord 3" in page
