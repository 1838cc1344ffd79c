"""The index store's locks: one order, bounded waits, requests before background work."""

from __future__ import annotations

import threading
import time

import pytest

from service.locks import IndexBusy, PriorityLock


def test_an_urgent_waiter_goes_before_background_work_that_waited_less() -> None:
    lock = PriorityLock(patience=5.0)
    order: list[str] = []
    inside = threading.Event()

    def holder() -> None:
        with lock.hold(urgent=True, timeout=1, what="test"):
            inside.set()
            time.sleep(0.3)

    def take(name: str, urgent: bool) -> None:
        with lock.hold(urgent=urgent, timeout=None if not urgent else 5, what="test"):
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    inside.wait(2)
    background = threading.Thread(target=take, args=("bakgrunn", False))
    background.start()
    time.sleep(0.05)
    urgent = threading.Thread(target=take, args=("forespørsel", True))
    urgent.start()
    for t in (first, background, urgent):
        t.join(5)
    assert order == ["forespørsel", "bakgrunn"]


def test_background_work_is_slowed_never_starved() -> None:
    lock = PriorityLock(patience=0.2)
    stop = threading.Event()
    done = threading.Event()

    def requests() -> None:  # a steady stream of urgent holders, back to back
        while not stop.is_set():
            with lock.hold(urgent=True, timeout=5, what="test"):
                time.sleep(0.02)

    streams = [threading.Thread(target=requests) for _ in range(3)]
    for t in streams:
        t.start()

    def background() -> None:
        with lock.hold(urgent=False, timeout=None, what="test"):
            done.set()

    started = time.monotonic()
    threading.Thread(target=background).start()
    got = done.wait(5)
    waited = time.monotonic() - started
    stop.set()
    for t in streams:
        t.join(5)
    assert got and waited < 2, waited


def test_a_request_that_cannot_get_the_engine_gives_up_in_norwegian() -> None:
    lock = PriorityLock()
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with lock.hold(urgent=False, timeout=None, what="språkmodellen"):
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(2)
    started = time.monotonic()
    with pytest.raises(IndexBusy, match="Søket er opptatt") as info:
        with lock.hold(urgent=True, timeout=0.3, what="språkmodellen"):
            pass
    assert 0.25 < time.monotonic() - started < 2
    assert info.value.what == "språkmodellen"
    release.set()
    t.join(5)
    with lock.hold(urgent=True, timeout=1, what="språkmodellen"):  # free again
        pass
