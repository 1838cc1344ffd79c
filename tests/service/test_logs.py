"""No personal data in the logs: a whole journey through a running server with verbose
logging (failed log-ins, a need with a named contact, proposals, a decision, mail that cannot
be delivered, bad input, a search for a person, an erasure), then every line the server wrote
is searched for the people's names, addresses, phone numbers, texts, passwords and tokens."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from sqlmodel import select

from models.db import session_scope
from models.tables import Entrepreneur
from service.config import Settings
from service.security import create_user, issue_token
from tests.conftest import BROBYGGER, cli_env, demo_runtime, free_port, wait_for

PASSWORD = "Hemmelig-passord-123"
NEED = {
    "organisation": "Bydel Grorud",
    "title": "Praksisplasser i verksted for unge voksne",
    "description": "Vi trenger en samarbeidspartner som gir unge voksne uten jobb "
    "arbeidstrening med tett oppfølging i et verksted eller en kantine i bydelen.",
    "themes": ["arbeidsinkludering", "barn-og-unge"],
    "contact_name": "Ingrid Solheim-Bakke",
    "contact_email": "ingrid.solheim-bakke@grorud.oslo.kommune.no",
}


def _call(
    port: int, method: str, path: str, token: str | None = None, body: dict | None = None
) -> tuple[int, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def test_a_whole_journey_leaves_no_personal_data_in_the_logs(tmp_path: Path) -> None:
    rt = demo_runtime(Settings(home=tmp_path))
    with session_scope(rt.engine) as s:
        admin = create_user(
            s,
            email="drift.ansvarlig@brobygger.example.no",
            role="admin",
            name="Drift Ansvarlig",
            password=PASSWORD,
        )
        municipal = create_user(
            s,
            email="per.kommune@grorud.oslo.kommune.no",
            role="municipal",
            name="Per Kommune",
            organisation="Bydel Grorud",
        )
        reviewer = create_user(
            s,
            email="siri.saksbehandler@oslo.kommune.no",
            role="reviewer",
            name="Siri Saksbehandler",
        )
        tokens = {
            "admin": issue_token(s, admin),
            "municipal": issue_token(s, municipal),
            "reviewer": issue_token(s, reviewer),
        }
        ent = s.exec(select(Entrepreneur).where(Entrepreneur.external_id == "se-husvennene")).one()
        ent_id, ent_name, ent_org_nr = ent.id, ent.name, ent.org_nr
        ent_text = ent.description[:40]
    rt.engine.dispose()

    port, dead_smtp = free_port(), free_port()  # nothing listens: every mail fails and is logged
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BROBYGGER), "-v", "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=cli_env(
                tmp_path,
                BROBYGGER_SMTP_HOST="127.0.0.1",
                BROBYGGER_SMTP_PORT=str(dead_smtp),
                BROBYGGER_OUTBOX_INTERVAL="0.2",
                BROBYGGER_SMTP_TIMEOUT="1",
            ),
        )
    try:
        assert wait_for(lambda: _healthy(port), timeout=120), log.read_text()
        for password in ("feil-passord", "også-feil", PASSWORD):
            _call(
                port,
                "POST",
                "/api/v1/session",
                body={"email": "drift.ansvarlig@brobygger.example.no", "password": password},
            )
        status, saved = _call(
            port, "POST", "/api/v1/challenges", tokens["municipal"], {**NEED, "propose": True}
        )
        assert status == 201, saved
        proposals = saved["proposals_created"]  # type: ignore[index]
        assert proposals > 0
        status, queue = _call(
            port, "GET", "/api/v1/proposals?status=proposed&limit=100", tokens["reviewer"]
        )
        first = queue["items"][0]["id"]  # type: ignore[index]
        status, _ = _call(
            port,
            "POST",
            f"/api/v1/proposals/{first}/transition",
            tokens["reviewer"],
            {"to_status": "approved", "reason": "Ingrid Solheim-Bakke ønsker dette."},
        )
        assert status == 200
        # bad input carrying personal data
        _call(
            port,
            "POST",
            "/api/v1/contacts",
            tokens["municipal"],
            {
                "organisation": "Bydel Grorud",
                "name": "Ingrid Solheim-Bakke",
                "email": "ingrid.solheim-bakke@grorud.oslo.kommune.no",
                "phone": "99 88 77 66",
                "ukjent": "felt",
            },
        )
        _call(
            port,
            "GET",
            "/api/v1/search?q=" + quote("Ingrid Solheim-Bakke praksisplasser"),
            tokens["admin"],
        )
        _call(port, "GET", f"/api/v1/privacy/entrepreneurs/{ent_id}", tokens["admin"])
        status, _ = _call(
            port, "POST", f"/api/v1/privacy/entrepreneurs/{ent_id}/erase", tokens["admin"]
        )
        assert status == 200
        # the outbox tries (and fails) to send the handoff mail while we wait
        assert wait_for(lambda: "not sent" in log.read_text(), timeout=60), log.read_text()
        time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = log.read_text()
    assert "not sent" in text  # logging was on and the server did log
    needles = [
        "drift.ansvarlig",
        "per.kommune",
        "siri.saksbehandler",
        "Siri Saksbehandler",
        "Per Kommune",
        "Drift Ansvarlig",
        "Ingrid",
        "Solheim",
        "99 88 77 66",
        PASSWORD,
        "feil-passord",
        "Praksisplasser",
        "praksisplasser",
        "kantine i bydelen",
        ent_name,
        ent_org_nr,
        ent_text,
        *tokens.values(),
        "@",
    ]
    found = [n for n in needles if n in text]
    assert found == [], (found, text[-3000:])


def _healthy(port: int) -> bool:
    try:
        return _call(port, "GET", "/healthz")[0] == 200
    except OSError:
        return False
