"""The system clock and the replay clock (stopped, stepped, running at a speed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from propdesk.marketdata.clock import Clock, ReplayClock, SystemClock

T0 = datetime(2024, 3, 8, 14, 30, tzinfo=UTC)


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value

    def sleep(self, seconds: float) -> None:
        self.value += seconds


def test_system_clock_is_aware_utc_and_callable() -> None:
    clock: Clock = SystemClock()  # a clock of the one Clock type (checked by mypy)
    assert clock().tzinfo is UTC
    assert SystemClock().now().tzinfo is UTC


def test_a_stopped_replay_clock_moves_only_when_told() -> None:
    clock = ReplayClock(datetime(2024, 3, 8, 9, 30, tzinfo=ZoneInfo("America/New_York")))
    assert clock.now() == T0
    assert clock.now().tzinfo is UTC
    assert clock() == T0
    assert clock.advance(timedelta(minutes=5)) == T0 + timedelta(minutes=5)
    clock.set(T0 + timedelta(hours=1))
    assert clock.now() == T0 + timedelta(hours=1)


def test_a_replay_clock_never_goes_back() -> None:
    clock = ReplayClock(T0)
    with pytest.raises(ValueError, match="never goes back"):
        clock.set(T0 - timedelta(seconds=1))
    with pytest.raises(ValueError, match="never goes back"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2024, 3, 9))


def test_a_running_replay_clock_runs_at_its_speed() -> None:
    real = FakeMonotonic()
    clock = ReplayClock(T0, speed=60, monotonic=real)
    real.value += 1.5
    assert clock.now() == T0 + timedelta(seconds=90)
    clock.speed = 0  # pause: re-based at the current simulated time
    real.value += 100
    assert clock.now() == T0 + timedelta(seconds=90)
    clock.speed = 2
    real.value += 10
    assert clock.now() == T0 + timedelta(seconds=110)


def test_wait_until_jumps_when_stopped_and_sleeps_scaled_time_when_running() -> None:
    stopped = ReplayClock(T0)
    sleeps: list[float] = []
    stopped.wait_until(T0 + timedelta(hours=6), sleeps.append)
    assert sleeps == []
    assert stopped.now() == T0 + timedelta(hours=6)

    real = FakeMonotonic()
    running = ReplayClock(T0, speed=3600, monotonic=real)
    running.wait_until(T0 + timedelta(hours=2), real.sleep)
    assert real.value == 1002.0  # two simulated hours at 3600x = two real seconds
    assert running.now() == T0 + timedelta(hours=2)
    running.wait_until(T0, real.sleep)  # already past: nothing happens
    assert running.now() == T0 + timedelta(hours=2)
