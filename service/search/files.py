"""The index folder on disk: its cross-process lock and the manifests that say when an index
file changed."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

Progress = Callable[[str, int, int], None]

WAITING = "venter"  # progress phase while another process syncs: (WAITING, seconds, 0)
POLL_SECONDS = 0.2


@contextmanager
def folder_lock(folder: Path, progress: Progress | None = None) -> Iterator[None]:
    """The index folder's lock (one sync at a time across processes). Another process's sync
    is waited for (it always ends: nothing holds this lock while waiting on a request), saying
    so through ``progress`` every few seconds instead of hanging silently."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as fh:
        tries = 0
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if progress and tries % 25 == 0:  # every 5 s
                    progress(WAITING, tries // 5, 0)
                time.sleep(POLL_SECONDS)
                tries += 1
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def manifest_mtime(folder: Path, name: str) -> float:
    """When index ``name``'s manifest was last written (ns), -1 if there is none."""
    try:
        return os.stat(folder / f"{name}.manifest.json").st_mtime_ns
    except OSError:
        return -1.0


def file_mtime(path: Path) -> float | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None
