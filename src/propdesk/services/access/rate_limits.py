"""Request limits shared by every server process: fixed one-minute windows counted in Redis or the database.

Three limits use them:

* ``/v2``: Alpaca's 200 requests a minute per key (``PROPDESK_TRADING_API_RATE_LIMIT``), reported
  on every response as ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``
  (the epoch second the window ends); a caller without a valid key is counted by its address;
* ``/api/v1``: requests a minute per bearer token (``PROPDESK_SERVICE_API_RATE_LIMIT``), the same
  headers;
* failed authentication per client address (``PROPDESK_AUTH_FAILURE_LIMIT`` a minute), on both APIs
  and the ``/stream`` authentication message: past the limit the address gets 429 until the window
  ends, whether its next credential is right or wrong.

The count lives in Redis when ``PROPDESK_REDIS_URL`` is set (``INCR`` and ``EXPIRE`` in one round
trip), otherwise in the ``rate_limit_windows`` table (one upsert per request; windows older than
the previous minute are pruned about once a minute per process). Either way every process of a
deployment sees the same count. If Redis cannot be reached the process counts in its own memory
until it can again (logged), rather than failing the request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.engine import Engine

from propdesk.store.uow import UnitOfWork

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Window:
    """Where a key stands in its current window."""

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


class Counter(Protocol):
    def hit(self, key: str, window_start: int) -> int:
        """Count one request for ``key`` in the window starting at ``window_start``; the new count."""


class MemoryCounter:
    """One process's own count (the fallback while Redis is unreachable; tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, window_start: int) -> int:
        with self._lock:
            start, used = self._counts.get(key, (window_start, 0))
            if start != window_start:
                start, used = window_start, 0
                if len(self._counts) > 100_000:
                    self._counts = {k: v for k, v in self._counts.items() if v[0] >= window_start}
            used += 1
            self._counts[key] = (start, used)
            return used


class DatabaseCounter:
    """Counts in ``rate_limit_windows``: one upsert per hit, an occasional prune of old windows."""

    def __init__(self, engine: Engine, *, prune_every: float = WINDOW_SECONDS) -> None:
        self._engine = engine
        self._prune_every = prune_every
        self._next_prune = 0.0
        self._lock = threading.Lock()

    def hit(self, key: str, window_start: int) -> int:
        with UnitOfWork(self._engine) as uow:
            count = uow.rate_windows.hit(key, window_start)
            uow.commit()
        self._maybe_prune(window_start)
        return count

    def _maybe_prune(self, window_start: int) -> None:
        now = time.monotonic()
        if now < self._next_prune or not self._lock.acquire(blocking=False):
            return
        try:
            self._next_prune = now + self._prune_every
            with UnitOfWork(self._engine) as uow:
                uow.rate_windows.prune(before=window_start - WINDOW_SECONDS)
                uow.commit()
        finally:
            self._lock.release()


class RedisCounter:
    """Counts in Redis: ``INCR`` and ``EXPIRE`` of ``<prefix><key>:<window>`` in one round trip."""

    def __init__(self, client: redis.Redis, *, prefix: str = "propdesk:rate:") -> None:
        self._client = client
        self._prefix = prefix
        self._fallback = MemoryCounter()
        self._failing = False

    def hit(self, key: str, window_start: int) -> int:
        name = f"{self._prefix}{key}:{window_start}"
        try:
            pipe = self._client.pipeline(transaction=True)
            pipe.incr(name)
            pipe.expire(name, 2 * WINDOW_SECONDS)
            count, _ = pipe.execute()
        except Exception as exc:  # redis.RedisError, OSError: count here rather than fail the request
            if not self._failing:
                log.warning("rate limits: Redis unreachable (%s); counting per process until it is back", exc)
                self._failing = True
            return self._fallback.hit(key, window_start)
        if self._failing:
            log.warning("rate limits: Redis is back")
            self._failing = False
        return int(count)


def shared_counter(engine: Engine, redis_url: str | None) -> Counter:
    """Redis when a URL is configured, the database otherwise."""
    if not redis_url:
        return DatabaseCounter(engine)
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
    return RedisCounter(client)


class RateLimiter:
    """A fixed one-minute window of ``limit`` requests per key, counted by ``counter``.

    ``scope`` keeps the limits apart in the shared counter (``v2``, ``api``, ``auth_failures``).
    """

    def __init__(
        self, counter: Counter, limit: int, *, scope: str, now: Callable[[], float] = time.time
    ) -> None:
        self.limit = limit
        self._counter = counter
        self._scope = scope
        self._now = now

    def window_start(self) -> int:
        return int(self._now()) // WINDOW_SECONDS * WINDOW_SECONDS

    def hit(self, key: str) -> Window:
        """Count one request for ``key`` and say where its window stands."""
        start = self.window_start()
        used = self._counter.hit(f"{self._scope}:{key}", start)
        return Window(self.limit, self.limit - used, start + WINDOW_SECONDS)


class AuthThrottle:
    """Failed authentication per client address, shared through the counter.

    ``failed`` counts a failure; once an address is past the limit this process also remembers
    it until the window ends, so ``blocked`` (asked before any credential is checked) refuses it
    without a lookup or a write, and a right guess is refused like a wrong one.
    """

    def __init__(self, limiter: RateLimiter, *, now: Callable[[], float] = time.time) -> None:
        self._limiter = limiter
        self._now = now
        self._blocked: dict[str, Window] = {}

    @property
    def limit(self) -> int:
        return self._limiter.limit

    def blocked(self, address: str) -> Window | None:
        window = self._blocked.get(address)
        if window is None:
            return None
        if window.reset <= self._now():
            self._blocked.pop(address, None)
            return None
        return window

    def failed(self, address: str) -> Window:
        window = self._limiter.hit(address)
        if window.exceeded:
            if len(self._blocked) > 100_000:
                self._blocked = {}
            self._blocked[address] = window
        return window
