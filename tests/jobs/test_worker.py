"""The one worker loop (propdesk.jobs.worker): passes, pacing, stopping, failures, quiet when idle."""

from __future__ import annotations

import logging
import signal
import threading
import time

import pytest

from propdesk.jobs.worker import Job, run, stop_on_signals


class Counter:
    def __init__(self, results: list[int] | None = None) -> None:
        self.calls = 0
        self.results = results

    def __call__(self) -> int:
        self.calls += 1
        return self.calls if self.results is None else self.results[self.calls - 1]


def counting_job(counter: Counter, idle: bool = False) -> Job[int]:
    return Job("counting", counter, lambda n: f"pass {n}", (lambda n: n == 0) if idle else (lambda n: False))


def test_runs_max_runs_passes_and_reports_each() -> None:
    counter = Counter()
    lines: list[str] = []
    assert run(counting_job(counter), interval=0, max_runs=3, report=lines.append) == 3
    assert counter.calls == 3
    assert lines == ["pass 1", "pass 2", "pass 3"]


def test_once_is_one_pass_even_with_a_long_interval() -> None:
    counter = Counter()
    started = time.monotonic()
    assert run(counting_job(counter), interval=3600, max_runs=1) == 1
    assert time.monotonic() - started < 5


def test_stops_when_the_stop_event_is_set_between_passes() -> None:
    stop = threading.Event()
    counter = Counter()

    def work() -> int:
        n = counter()
        if n == 4:
            stop.set()
        return n

    assert run(Job("stopping", work, str), interval=0, stop=stop) == 4


def test_a_stop_from_another_thread_ends_the_pause_at_once() -> None:
    stop = threading.Event()
    counter = Counter()
    timer = threading.Timer(0.2, stop.set)
    timer.start()
    started = time.monotonic()
    try:
        assert run(counting_job(counter), interval=3600, stop=stop) == 1
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5


def test_a_set_stop_event_runs_nothing() -> None:
    stop = threading.Event()
    stop.set()
    counter = Counter()
    assert run(counting_job(counter), interval=0, stop=stop) == 0
    assert counter.calls == 0


class RecordingStop(threading.Event):
    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(timeout)
        return False


def test_the_pause_is_the_interval_less_the_time_the_pass_took() -> None:
    ticks = iter([0.0, 2.0, 10.0, 25.0, 100.0, 100.0])  # pass 1: 2 s, pass 2: 15 s, pass 3: 0 s
    stop = RecordingStop()
    run(counting_job(Counter()), interval=10, stop=stop, max_runs=3, monotonic=lambda: next(ticks))
    assert stop.waits == [8.0, 0.0]


def test_a_failing_pass_is_logged_and_propagates(caplog: pytest.LogCaptureFixture) -> None:
    counter = Counter()

    def work() -> int:
        if counter() == 3:
            raise RuntimeError("store down")
        return counter.calls

    lines: list[str] = []
    with caplog.at_level(logging.ERROR, logger="propdesk.jobs.worker"), pytest.raises(RuntimeError):
        run(Job("flaky", work, str), interval=0, max_runs=10, report=lines.append)
    assert lines == ["1", "2"]
    assert counter.calls == 3
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failed] == ["flaky: pass 3 failed"]
    assert failed[0].exc_info is not None


def test_idle_passes_are_reported_once_until_work_comes(caplog: pytest.LogCaptureFixture) -> None:
    lines: list[str] = []
    job = counting_job(Counter([0, 0, 0, 5, 0, 0, 7]), idle=True)
    with caplog.at_level(logging.INFO, logger="propdesk.jobs.worker"):
        assert run(job, interval=0, max_runs=7, report=lines.append) == 7
    assert lines == ["pass 0", "pass 5", "pass 0", "pass 7"]
    assert [r.getMessage() for r in caplog.records] == [f"counting: {line}" for line in lines]


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signal handlers need the main thread"
)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_worker_after_the_current_pass(sig: signal.Signals) -> None:
    before = signal.getsignal(sig)
    counter = Counter()

    def work() -> int:
        n = counter()
        if n == 2:
            signal.raise_signal(sig)
        return n

    blocked = signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})  # a background shell may block it
    try:
        with stop_on_signals(threading.Event()) as stop:
            assert run(Job("signalled", work, str), interval=0.01, stop=stop, max_runs=50) == 2
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    assert stop.is_set()
    assert signal.getsignal(sig) is before
