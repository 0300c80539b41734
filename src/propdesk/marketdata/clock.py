"""Clocks: where propdesk reads the time from, so that a replay or a failing test reproduces exactly.

The clock type is :data:`propdesk.model.clock.Clock`, a callable returning aware "now". Both
implementations here are clocks (``clock()`` is ``clock.now()``), so they can be passed wherever
a service or job expects one; ``now()`` stays for code that holds one of these classes.

* :class:`SystemClock` is the wall clock, for production.
* :class:`ReplayClock` is simulated time. Stopped (``speed`` 0, the default) it only moves when
  told to (``set``/``advance``), which is what tests and as-fast-as-possible replays want. With
  a positive ``speed`` it runs that many simulated seconds per real second, measured on an
  injected monotonic timer, so "replay one trading day in ten minutes" is ``speed=39``. It never
  moves backwards: a replay that rewound time would stamp ledger events out of order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from propdesk.model.clock import Clock

__all__ = ["Clock", "ReplayClock", "SystemClock", "now_of"]


def now_of(clock: Clock) -> datetime:
    """The current time of ``clock``, checked timezone-aware and converted to UTC."""
    return _utc(clock(), "the clock's time")


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC)


class SystemClock:
    """The wall clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now()

    def __repr__(self) -> str:
        return "SystemClock()"


class ReplayClock:
    """Simulated time: stopped by default, or running at ``speed`` × real time.

    ``monotonic`` is the real-time source (seconds) the running clock is measured on; tests
    inject a fake so that nothing depends on how fast the machine is.
    """

    def __init__(
        self,
        start: datetime,
        *,
        speed: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must be 0 (stopped) or positive")
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._base = _utc(start, "start")
        self._real_base = monotonic()
        self._speed = float(speed)

    # The running clock is base + elapsed real time × speed; changing speed or jumping re-bases.
    def _now_locked(self) -> datetime:
        if self._speed == 0:
            return self._base
        elapsed = (self._monotonic() - self._real_base) * self._speed
        return self._base + timedelta(seconds=elapsed)

    def now(self) -> datetime:
        with self._lock:
            return self._now_locked()

    def __call__(self) -> datetime:
        return self.now()

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value < 0:
            raise ValueError("speed must be 0 (stopped) or positive")
        with self._lock:
            self._base = self._now_locked()
            self._real_base = self._monotonic()
            self._speed = float(value)

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``; moving backwards is refused."""
        target = _utc(moment, "moment")
        with self._lock:
            current = self._now_locked()
            if target < current:
                raise ValueError(f"a replay clock never goes back: {target} is before {current}")
            self._base = target
            self._real_base = self._monotonic()

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta``; returns the new time."""
        if delta < timedelta(0):
            raise ValueError("a replay clock never goes back")
        with self._lock:
            self._base = self._now_locked() + delta
            self._real_base = self._monotonic()
            return self._base

    def wait_until(self, moment: datetime, sleep: Callable[[float], None] = time.sleep) -> None:
        """Let simulated time reach ``moment``: a stopped clock jumps, a running one sleeps.

        A running clock sleeps the real time that ``moment`` is away at the current speed, then
        lands exactly on ``moment`` (or stays put if it has already passed it), so a replay at
        any speed visits the same instants.
        """
        target = _utc(moment, "moment")
        now = self.now()
        if target <= now:
            return
        if self._speed > 0:
            sleep((target - now).total_seconds() / self._speed)
        with self._lock:
            # Overslept (already past ``moment``): keep running from there, never jump back.
            if self._now_locked() < target:
                self._base = target
                self._real_base = self._monotonic()

    def __repr__(self) -> str:
        return f"ReplayClock(now={self.now().isoformat()}, speed={self._speed})"
