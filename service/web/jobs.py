"""Long work started from a page (re-indexing, planning a conference) runs in a background
thread; the page shows its progress by polling the job's state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from service.formatting import seconds

_lock = threading.Lock()


@dataclass
class Job:
    """One run; ``describe`` turns (phase, done, total) into the Norwegian status line."""

    describe: Callable[[str, float, float], str]
    phase: str = ""
    done: float = 0.0
    total: float = 0.0
    running: bool = True
    error: str = ""
    summary: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def progress(self, phase: str, done: float, total: float = 1.0) -> None:
        self.phase, self.done, self.total = phase, done, total

    def text(self) -> str:
        if self.error:
            return f"Feilet: {self.error}"
        if not self.running:
            return " ".join([f"Ferdig på {seconds(self.seconds)}.", *self.summary])
        return self.describe(self.phase, self.done, self.total)

    def state(self) -> dict[str, Any]:
        return state(
            running=self.running,
            text=self.text(),
            done=self.done,
            total=self.total,
            phase=self.phase,
            error=self.error,
        )


def state(
    *,
    running: bool,
    text: str,
    done: float = 0,
    total: float = 0,
    phase: str = "",
    error: str = "",
) -> dict[str, Any]:
    """The JSON a page's script polls (static/app.js), for a job or anything that waits
    like one (a need's suggestions being prepared)."""
    return {
        "running": running,
        "done": done,
        "total": total,
        "phase": phase,
        "text": text,
        "error": error,
    }


def status(request: Request, key: str, idle: str) -> JSONResponse:
    """The state of the job under ``key``; ``idle`` is the text when none has been started."""
    job = current(request, key)
    return JSONResponse(job.state() if job else state(running=False, text=idle))


def current(request: Request, key: str) -> Job | None:
    jobs: dict[str, Job] = getattr(request.app.state, "jobs", {})
    return jobs.get(key)


def start(request: Request, key: str, job: Job, work: Callable[[Job], list[str]]) -> Job:
    """Run ``work(job)`` in a thread unless a job under ``key`` is still running; what it
    returns becomes the summary, an exception becomes the error shown on the page."""
    with _lock:
        jobs: dict[str, Job] = getattr(request.app.state, "jobs", None) or {}
        request.app.state.jobs = jobs
        running = jobs.get(key)
        if running is not None and running.running:
            return running
        jobs[key] = job

    def run() -> None:
        try:
            job.summary = work(job)
        except Exception as exc:  # shown on the page; nothing half-written is kept
            job.error = str(exc) or exc.__class__.__name__
        finally:
            job.seconds = time.monotonic() - job.started
            job.running = False

    threading.Thread(target=run, name=f"brobygger-{key}", daemon=True).start()
    return job
