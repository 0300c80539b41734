"""The one worker loop: run a job every interval until it is stopped.

Every long-running worker of propdesk (resting orders, mark-to-market, day boundaries) is a
:class:`Job` — a function of no arguments that does one pass and returns what it did — run by
:func:`run`. The CLI commands only parse their flags, build the job and call :func:`run`.

- The pause is measured from the start of a pass, so a pass that takes longer than the interval
  is followed at once by the next; the pause is a wait on the ``stop`` event, so setting it (from
  another thread, or by SIGTERM/SIGINT under :func:`stop_on_signals`) ends the loop without waiting
  out the interval. A pass that has begun always finishes: the event is checked between passes.
- Each pass's summary goes to ``report`` (the CLI prints it) and to the log. An idle pass (the
  job's ``idle`` says so) is reported only when it follows a pass that did something, or is the
  first, so a worker waiting for work writes one line, not one a second.
- A pass that raises stops the loop: the failure is logged with the job's name and the run
  number, then propagates to the caller. Jobs that sweep accounts catch each account's failure
  themselves (and count it in their summary), so a raise here is a failure of the whole pass.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

R = TypeVar("R")


def _never_idle(_: object) -> bool:
    return False


@dataclass(frozen=True)
class Job(Generic[R]):
    """One pass of a worker: ``run`` does it, ``describe`` says what it did in one line."""

    name: str
    run: Callable[[], R]
    describe: Callable[[R], str]
    idle: Callable[[R], bool] = _never_idle


def run(
    job: Job[R],
    *,
    interval: float,
    stop: threading.Event | None = None,
    max_runs: int | None = None,
    report: Callable[[str], None] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> int:
    """Run ``job`` every ``interval`` seconds until ``stop`` is set or ``max_runs`` passes are done.

    Returns how many passes ran. ``max_runs=1`` is a single pass (``--once``); unless ``stop`` is
    already set, at least one pass runs. A negative interval counts as none.
    """
    stop = stop or threading.Event()
    done = 0
    was_idle = False
    while not stop.is_set():
        started = monotonic()
        try:
            result = job.run()
        except Exception:
            log.exception("%s: pass %d failed", job.name, done + 1)
            raise
        done += 1
        idle = job.idle(result)
        if not (idle and was_idle):
            line = job.describe(result)
            log.info("%s: %s", job.name, line)
            if report is not None:
                report(line)
        was_idle = idle
        if max_runs is not None and done >= max_runs:
            break
        stop.wait(max(0.0, interval - (monotonic() - started)))
    return done


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """Set ``stop`` on SIGTERM or SIGINT while inside the block; the previous handlers come back after.

    Signal handlers can only be installed from the main thread; elsewhere this changes nothing
    (the caller stops the loop through the event).
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, _: FrameType | None) -> None:
        log.info("received %s; stopping after the current pass", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
