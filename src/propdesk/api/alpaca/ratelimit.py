"""Alpaca's per-key request limit: a fixed one-minute window, reported on every /v2 response.

Alpaca allows 200 requests a minute per account and sends ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (the epoch second the window ends) on every
response; over the limit it answers 429. The count is kept per process, keyed by the
authenticated key id (a caller without a valid key is counted by its address, so a guessed key id
cannot use up someone else's quota). Several server processes each keep their own count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Window:
    limit: int
    remaining: int
    reset: int

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(self.reset),
        }


class RateLimiter:
    def __init__(self, limit: int, *, now: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self._now = now
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str) -> Window:
        """Count one request for ``key`` and say where its window stands."""
        minute = int(self._now()) // 60
        with self._lock:
            start, used = self._counts.get(key, (minute, 0))
            if start != minute:
                start, used = minute, 0
                if len(self._counts) > 100_000:
                    self._counts = {k: v for k, v in self._counts.items() if v[0] == minute}
            used += 1
            self._counts[key] = (start, used)
        return Window(self.limit, self.limit - used, (minute + 1) * 60)
