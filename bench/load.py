"""The running service under load: ``brobygger serve --workers 2`` on a home of ``--size``
profiles, driven over loopback by wrk (Debian package ``wrk``; one thread, ``--connections``
open connections) on the same two cores.

Scenarios, each ``--runs`` times for ``--duration`` seconds (figures are medians over runs):

- ``baseline: /healthz``: the HTTP stack and one database round trip, nothing of Brobygger's
  matching: the ceiling this machine puts on any endpoint;
- ``suggestions``: ``GET /api/v1/challenges/{id}/suggestions`` for random open needs;
- ``mixed``: 80 % suggestions, 10 % free-text search (``GET /api/v1/search``, embeds the query),
  10 % writes (``POST /api/v1/challenges/{id}/proposals``: a need's staff send a random
  profile to review, which scores the pair and writes the proposal and its audit line).

Client-side latency comes from wrk; server-side latency from the ``Server-Timing`` header of
every response. Memory: resident set (current and peak) of each worker after the run.

Usage: python bench/load.py [--size 10000] [--duration 15] [--runs 3] [--connections 8]
       [--workers 2] [--quick] [--json docs/perf/load.json] [--plot docs/perf/load.html]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import home
import numpy as np
from common import standard_options, write_json
from latency import QUERIES
from sqlmodel import select

from models.db import session_scope
from models.tables import Challenge, Entrepreneur

LUA = """
local needs = {%(needs)s}
local profiles = {%(profiles)s}
local queries = {%(queries)s}
local reader = "Bearer %(reader)s"
local writer = "Bearer %(writer)s"
local search_pct, write_pct = %(search)d, %(write)d
local out = nil

function init(args)
  out = io.open("%(timings)s", "a")
end

function request()
  local r = math.random(100)
  if r <= write_pct then
    local body = '{"entrepreneur_ids": [' .. profiles[math.random(#profiles)] .. ']}'
    return wrk.format("POST", "/api/v1/challenges/" .. needs[math.random(#needs)] .. "/proposals",
      {["Authorization"] = writer, ["Content-Type"] = "application/json"}, body)
  elseif r <= write_pct + search_pct then
    local q = queries[math.random(#queries)]
    return wrk.format("GET", "/api/v1/search?kind=entrepreneurs&q=" .. q,
      {["Authorization"] = reader})
  end
  return wrk.format("GET", %(read)s, {["Authorization"] = reader})
end

function response(status, headers, body)
  local t = headers["server-timing"] or headers["Server-Timing"]
  if t then out:write(string.match(t, "dur=([%%d%%.]+)"), " ", status, "\\n"); out:flush() end
end
"""

# The read request of each scenario (a Lua expression) and its shares of searches and writes.
SUGGESTIONS = '"/api/v1/challenges/" .. needs[math.random(#needs)] .. "/suggestions"'
SCENARIOS = {
    "baseline: /healthz": {"read": '"/healthz"', "search": 0, "write": 0},
    "suggestions": {"read": SUGGESTIONS, "search": 0, "write": 0},
    "mixed": {"read": SUGGESTIONS, "search": 10, "write": 10},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(rt: home.Runtime, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "BROBYGGER_HOME": str(rt.settings.home),
        "BROBYGGER_APPROXIMATE_FROM": str(rt.settings.approximate_from),
    }
    exe = Path(sys.executable).parent / "brobygger"
    proc = subprocess.Popen(
        [str(exe), "serve", "--workers", str(workers), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    seen: set[int] = set()
    while time.monotonic() < deadline and len(seen) < workers:
        try:  # wait until every worker has answered (each loads the index on start)
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                seen.add(json.loads(r.read())["worker"])
        except OSError:
            time.sleep(0.5)
    if len(seen) < workers:
        stop_server(proc)
        raise SystemExit("serveren startet ikke")
    return proc, url


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def worker_memory(proc: subprocess.Popen[bytes]) -> list[dict[str, float]]:
    """VmRSS and VmHWM (peak) in MB of each process of the server's session."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getsid(int(pid)) != proc.pid:
                continue
            status = Path(f"/proc/{pid}/status").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" not in cmd and int(pid) != proc.pid:
            continue
        kb = {k: int(v.split()[0]) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(.*)$", status, re.M)}
        out.append(
            {
                "pid": int(pid),
                "worker": int(pid) != proc.pid,
                "rss_mb": round(kb["VmRSS"] / 1024),
                "peak_mb": round(kb["VmHWM"] / 1024),
            }
        )
    return out


def parse_wrk(text: str) -> dict[str, float]:
    def ms(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    pct = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", text, re.M))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return {
        "rps": rps,
        "client_p50_ms": ms(pct["50"]),
        "client_p90_ms": ms(pct["90"]),
        "client_p99_ms": ms(pct["99"]),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
    }


def run_wrk(url: str, script: str, timings: Path, duration: int, connections: int) -> dict:
    timings.write_text("")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "--timeout",
                "10s",
                "-s",
                fh.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(fh.name)
    row = parse_wrk(result.stdout)
    lines = [line.split() for line in timings.read_text().splitlines() if line]
    server = np.array([float(t) for t, _ in lines])
    row["server_p50_ms"], row["server_p99_ms"] = (
        round(float(np.percentile(server, 50)), 2),
        round(float(np.percentile(server, 99)), 2),
    )
    row["http_5xx"] = sum(1 for _, s in lines if s.startswith("5"))
    return row


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    standard_options(parser, "5 s per scenario, one run")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.runs = 5, 1
    if shutil.which("wrk") is None:
        raise SystemExit("wrk mangler: apt-get install wrk (eller make bench, som installerer den)")
    rt = home.build(args.size)
    with session_scope(rt.engine) as session:
        needs = [c for c in session.exec(select(Challenge.id).where(Challenge.status == "open"))]
        profiles = list(session.exec(select(Entrepreneur.id)))
    rng = np.random.default_rng(1)
    sample = rng.choice(profiles, min(2000, len(profiles)), replace=False).tolist()
    proc, url = start_server(rt, args.workers)
    rows = []
    print(
        f"{'scenario':<20} {'req/s':>8} {'client p50':>10} {'client p99':>10} "
        f"{'server p50':>10} {'server p99':>10} {'non-2xx':>8} {'5xx':>5}"
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            timings = Path(tmp) / "timings.txt"
            for name, mix in SCENARIOS.items():
                script = LUA % {
                    "needs": ",".join(map(str, needs)),
                    "profiles": ",".join(map(str, sample)),
                    "queries": ",".join(f'"{quote(q)}"' for q in QUERIES),
                    "reader": home.token(rt, "reviewer"),
                    "writer": home.token(rt, "admin"),
                    "search": mix["search"],
                    "write": mix["write"],
                    "timings": timings,
                    "read": mix["read"],
                }
                runs = [
                    run_wrk(url, script, timings, args.duration, args.connections)
                    for _ in range(args.runs)
                ]
                row = {
                    "scenario": name,
                    "workers": args.workers,
                    "profiles": args.size,
                    "connections": args.connections,
                    "runs": [r["rps"] for r in runs],
                }
                for key in runs[0]:
                    values = [r[key] for r in runs]
                    row[key] = (
                        sum(values)
                        if key in ("non_2xx", "socket_errors", "http_5xx")
                        else round(float(np.median(values)), 2)
                    )
                rows.append(row)
                print(
                    f"{name:<20} {row['rps']:>8} {row['client_p50_ms']:>10} "
                    f"{row['client_p99_ms']:>10} {row['server_p50_ms']:>10} "
                    f"{row['server_p99_ms']:>10} {row['non_2xx']:>8} {row['http_5xx']:>5}",
                    flush=True,
                )
        memory = worker_memory(proc)
    finally:
        stop_server(proc)
    for m in memory:
        print(
            f"{'worker' if m['worker'] else 'supervisor'} {m['pid']}: RSS {m['rss_mb']} MB, "
            f"peak {m['peak_mb']} MB"
        )
    write_json(args.json, {"duration_s": args.duration, "rows": rows, "memory": memory})
    if args.plot:
        from service.plots import bar_chart_svg, write_page

        svg = bar_chart_svg(
            f"Forespørsler per sekund, {args.workers} arbeidsprosesser, "
            f"{args.size:,} profiler".replace(",", " "),
            [r["scenario"] for r in rows],
            {"req/s": [r["rps"] for r in rows]},
            "req/s",
        )
        write_page(args.plot, "Last", svg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
