"""Long needs saved while others type: the journey that froze the service (issue 15).

A municipal user's browser does two things at once on "Nytt behov": the form's script asks for
live suggestions (``GET /behov/forhandsvisning``) while the user types, and "Lagre og se
forslag" saves the need (``POST /behov/nytt``) and opens it (``GET /behov/{id}``). This drives
that journey over HTTP against a running server, from several threads at once (previewers
typing, savers saving long needs), and records every request's status and time.

The freeze test (tests/service/test_freeze.py) runs it for a few seconds on SQLite and
PostgreSQL; run by hand it is the load test of the issue:

    python bench/saves.py --url http://127.0.0.1:8000 --seconds 300 [--json docs/perf/saves.json]

against ``make run`` (or ``brobygger serve --workers 2``), logging in as the demo municipal
user. It prints the number of requests per kind, the slowest, the median and the 99th
percentile, and every error; it exits with 1 if a request failed, timed out or took longer
than ``--limit`` seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SENTENCES = [
    "Mange eldre i bydelen bor alene og sier at de er ensomme store deler av uka.",
    "Vi ønsker faste møteplasser der de kan treffe andre, gjerne med frivillige fra nabolaget.",
    "Flere av dem har sluttet å gå ut etter at de mistet ektefellen eller fikk dårligere helse.",
    "Hjemmetjenesten ser behovet, men har ikke tid til mer enn de faste besøkene.",
    "Vi tror besøksvenner, turgrupper og felles middager kan gjøre en stor forskjell.",
    "Tilbudet må være gratis og lett å finne, også for dem som ikke bruker internett.",
    "Noen trenger følge fra døren, fordi de er usikre på å gå alene om kvelden.",
    "Vi har lokaler i nærmiljøsenteret som kan brukes på dagtid og noen kvelder.",
    "Pårørende forteller at de er bekymret og ønsker at noen følger opp jevnlig.",
    "Vi ønsker et samarbeid som varer, ikke et prosjekt som slutter etter et halvt år.",
    "Unge voksne som står utenfor arbeidslivet trenger arbeidstrening med tett oppfølging.",
    "Mange har lite skolegang og trenger praktisk erfaring før de kan søke ordinære jobber.",
    "Vi ser etter noen som kan tilby lærlingplasser eller praksis i egen virksomhet.",
    "Språkopplæring i arbeidet har vist seg å gi bedre resultater enn klasserom alene.",
]
THEMES = ["eldre", "frivillighet", "arbeidsinkludering", "helse-og-rus"]


def long_need(rng: random.Random, sentences: int = 10) -> str:
    """About ten sentences (900+ characters), different each time, so nothing is cached."""
    picked = rng.sample(SENTENCES, sentences)
    return " ".join(picked) + f" Saksnummer {rng.randrange(10**6, 10**7)}."


@dataclass
class Record:
    kind: str
    status: int  # 0 for a request that got no answer (timeout, connection error)
    seconds: float
    error: str = ""


@dataclass
class Report:
    records: list[Record] = field(default_factory=list)
    saved_ids: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)

    def failures(self, limit: float) -> list[Record]:
        """Requests that failed, timed out or took longer than ``limit`` seconds ("klar" is
        not a request but the wait for suggestions, reported beside them)."""
        return [
            r
            for r in self.records
            if r.status == 0 or r.status >= 500 or (r.seconds > limit and r.kind != "klar")
        ]

    def summary(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for kind in sorted({r.kind for r in self.records}):
            times = sorted(r.seconds for r in self.records if r.kind == kind)
            out[kind] = {
                "requests": len(times),
                "median_s": round(statistics.median(times), 3),
                "p99_s": round(times[min(len(times) - 1, int(0.99 * len(times)))], 3),
                "max_s": round(times[-1], 3),
                "errors": sum(
                    1 for r in self.records if r.kind == kind and (r.status == 0 or r.status >= 500)
                ),
            }
        return out


class Browser:
    """One logged-in browser session (session cookie + CSRF cookie), as the pages use them."""

    def __init__(self, url: str, email: str, password: str, timeout: float) -> None:
        self.client = httpx.Client(base_url=url, timeout=timeout, follow_redirects=False)
        self.client.get("/logg-inn")
        answer = self.client.post(
            "/logg-inn",
            data={"email": email, "password": password, "csrf": self.csrf},
        )
        if answer.status_code != 303:
            raise RuntimeError(f"innlogging feilet: {answer.status_code}")

    @property
    def csrf(self) -> str:
        return self.client.cookies.get("brobygger_csrf") or ""

    def timed(self, report: Report, kind: str, method: str, path: str, **kw) -> httpx.Response:
        started = time.monotonic()
        try:
            response = self.client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            report.add(Record(kind, 0, time.monotonic() - started, type(exc).__name__))
            raise
        took = time.monotonic() - started
        error = "" if response.status_code < 500 else response.text[:200]
        report.add(Record(kind, response.status_code, took, error))
        return response

    def close(self) -> None:
        self.client.close()


def preview_loop(browser: Browser, report: Report, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        text = long_need(rng)
        params = {"tittel": "Ensomhet blant eldre", "beskrivelse": text, "tema": THEMES[:1]}
        try:
            browser.timed(report, "forhåndsvisning", "GET", "/behov/forhandsvisning", params=params)
        except httpx.HTTPError:
            pass


def wait_until_ready(browser: Browser, report: Report, need: int, stop: threading.Event) -> None:
    """Follow "Forslagene gjøres klare" as the page's script does, and record how long the
    suggestions of a saved need took to be ready (kind "klar")."""
    started = time.monotonic()
    while not stop.is_set():
        state = browser.client.get(f"/behov/{need}/forslag-status")
        if state.status_code != 200 or not state.json().get("running", False):
            report.add(Record("klar", state.status_code, time.monotonic() - started))
            return
        time.sleep(0.4)


def read_loop(browser: Browser, report: Report, stop: threading.Event, seed: int) -> None:
    """Someone else reading needs' pages with their suggestions meanwhile."""
    rng = random.Random(seed)
    while not stop.is_set():
        try:
            browser.timed(report, "forslag", "GET", f"/behov/{rng.randrange(1, 20)}")
        except httpx.HTTPError:
            pass


def save_loop(browser: Browser, report: Report, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        try:
            form = browser.timed(report, "skjema", "GET", "/behov/nytt")
            token = re.search(r'name="skjema" value="([^"]+)"', form.text)
            data = {
                "csrf": browser.csrf,
                "title": f"Langt behov {uuid.uuid4().hex[:10]}",
                "description": long_need(rng),
                "themes": [rng.choice(THEMES)],
                "status": "open",
                "language": "nb",
            }
            if token:
                data["skjema"] = token.group(1)
            saved = browser.timed(report, "lagre", "POST", "/behov/nytt", data=data)
            where = saved.headers.get("location", "")
            found = re.match(r"/behov/(\d+)", where)
            if saved.status_code == 303 and found:
                with report.lock:
                    report.saved_ids.append(int(found.group(1)))
                browser.timed(report, "behovsside", "GET", where)
                wait_until_ready(browser, report, int(found.group(1)), stop)
                browser.timed(report, "behovsside", "GET", where)
        except httpx.HTTPError:
            pass


def run(  # noqa: PLR0913 - the load test's knobs, each a command-line option
    url: str,
    seconds: float,
    *,
    email: str = "kari.nordby@bgr.oslo.kommune.no",
    password: str = "brobygger-demo",
    previewers: int = 3,
    savers: int = 2,
    readers: int = 1,
    timeout: float = 30.0,
) -> Report:
    """Drive the journey for ``seconds`` and return every request's record."""
    report = Report()
    stop = threading.Event()
    loops = [preview_loop] * previewers + [save_loop] * savers + [read_loop] * readers
    browsers = [Browser(url, email, password, timeout) for _ in loops]
    threads = [
        threading.Thread(target=loop, args=(browser, report, stop, i), daemon=True)
        for i, (loop, browser) in enumerate(zip(loops, browsers, strict=True))
    ]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout + 5)
    for b in browsers:
        b.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--previewers", type=int, default=3)
    parser.add_argument("--savers", type=int, default=2)
    parser.add_argument("--readers", type=int, default=1)
    parser.add_argument("--limit", type=float, default=10.0, help="slowest acceptable request")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = run(
        args.url,
        args.seconds,
        previewers=args.previewers,
        savers=args.savers,
        readers=args.readers,
    )
    summary = report.summary()
    for kind, row in summary.items():
        print(
            f"{kind:<16} {row['requests']:>6} forespørsler  median {row['median_s']:.3f} s  "
            f"p99 {row['p99_s']:.3f} s  tregeste {row['max_s']:.3f} s  feil {row['errors']}"
        )
    failures = report.failures(args.limit)
    for r in failures[:20]:
        print(f"FEIL {r.kind}: status {r.status} etter {r.seconds:.1f} s {r.error}")
    print(f"{len(report.saved_ids)} behov lagret, {len(failures)} feil eller over {args.limit} s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "command": " ".join(sys.argv),
                    "seconds": args.seconds,
                    "previewers": args.previewers,
                    "savers": args.savers,
                    "readers": args.readers,
                    "summary": summary,
                    "saved": len(report.saved_ids),
                    "failures": len(failures),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
