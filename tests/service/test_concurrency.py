"""Many writers and readers at once through two server processes, on SQLite (WAL) and on
PostgreSQL: two reviewers deciding the same proposal — one wins, the other gets 409; mixed
writes and reads never surface a 5xx (no "database is locked")."""

from __future__ import annotations

import http.client
import json
import random
import subprocess
import threading
from pathlib import Path

from sqlmodel import select

from models.db import session_scope
from models.tables import Challenge, Entrepreneur, Proposal, ReviewEvent
from service.config import Settings
from service.runtime import seed_demo_proposals
from service.security import create_user, issue_token
from tests.conftest import BROBYGGER, cli_env, demo_runtime, free_port, wait_for


def _call(port: int, token: str, method: str, path: str, body: dict | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_concurrent_reviewers_and_writers_through_two_workers(db_url: str, tmp_path: Path):
    rt = demo_runtime(Settings(home=tmp_path, database_url=db_url))
    assert seed_demo_proposals(rt) >= 20
    with session_scope(rt.engine) as session:
        reviewers = [
            issue_token(session, create_user(session, email=f"r{i}@test.no", role="reviewer"))
            for i in range(2)
        ]
        admin = issue_token(session, create_user(session, email="a@test.no", role="admin"))
        proposals = [p.id for p in session.exec(select(Proposal).order_by(Proposal.id))][:12]
        needs = [c.id for c in session.exec(select(Challenge).where(Challenge.status == "open"))]
        profiles = [e.id for e in session.exec(select(Entrepreneur))]

    port = free_port()
    env = cli_env(tmp_path, BROBYGGER_DATABASE_URL=db_url)
    proc = subprocess.Popen(
        [str(BROBYGGER), "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def up() -> bool:
            try:
                return _call(port, admin, "GET", "/healthz") == 200
            except OSError:
                return False

        assert wait_for(up, timeout=120)

        # 1. Two reviewers decide the same proposal at the same moment, twelve times over.
        results: dict[int, list[int]] = {p: [] for p in proposals}
        barrier = threading.Barrier(2 * len(proposals))

        def decide(pid: int, token: str, to: str) -> None:
            barrier.wait()
            body = {"to_status": to}
            if to == "rejected":
                body["reason_code"] = "annet"
                body["reason"] = "Samtidighetstest"
            path = f"/api/v1/proposals/{pid}/transition"
            results[pid].append(_call(port, token, "POST", path, body))

        threads = [
            threading.Thread(target=decide, args=(pid, reviewers[k], ("approved", "rejected")[k]))
            for pid in proposals
            for k in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for pid, statuses in results.items():
            assert sorted(statuses) == [200, 409], (pid, statuses)

        # 2. Writers and readers mixed: staff send random profiles to review while others
        #    read suggestions and the queue; nothing may fail with a server error.
        rng = random.Random(4)
        jobs = []
        for _ in range(60):
            kind = rng.random()
            if kind < 0.5:
                body = {"entrepreneur_ids": [rng.choice(profiles)]}
                jobs.append(("POST", f"/api/v1/challenges/{rng.choice(needs)}/proposals", body))
            elif kind < 0.8:
                jobs.append(("GET", f"/api/v1/challenges/{rng.choice(needs)}/suggestions", None))
            else:
                jobs.append(("GET", "/api/v1/proposals?limit=50", None))
        statuses: list[int] = []
        lock = threading.Lock()

        def work(chunk: list[tuple[str, str, dict | None]]) -> None:
            for method, path, body in chunk:
                status = _call(port, admin, method, path, body)
                with lock:
                    statuses.append(status)

        workers = [threading.Thread(target=work, args=(jobs[i::8],)) for i in range(8)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        assert len(statuses) == len(jobs)
        assert all(s in (200, 201) for s in statuses), sorted(set(statuses))
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "database is locked" not in err and "Traceback" not in err, err[-3000:]

    # the audit log has exactly one decision per raced proposal, the winner's
    with session_scope(rt.engine) as session:
        for pid in proposals:
            p = session.get(Proposal, pid)
            events = session.exec(
                select(ReviewEvent).where(
                    ReviewEvent.proposal_id == pid, ReviewEvent.from_status == "proposed"
                )
            ).all()
            assert p is not None and len(events) == 1 and events[0].to_status == p.status
