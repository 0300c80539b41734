"""Revocation reaches every process's credential cache; rate-limit counts are shared and exact.

Two engines on one database stand for two server processes: each has its own cache and its own
view of the revocation version, as ``propdesk serve`` processes do.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
import redis
from sqlalchemy.engine import Engine

from propdesk.model.ids import AccountId
from propdesk.services.access import api_keys
from propdesk.services.access.api_keys import SEPARATOR
from propdesk.services.access.rate_limits import (
    AuthThrottle,
    DatabaseCounter,
    RateLimiter,
    RedisCounter,
)
from propdesk.services.access.tokens import (
    AuthVersionWatcher,
    CachedAuthenticator,
    Role,
    create_token,
    list_tokens,
    read_auth_version,
    revoke_token,
    token_authenticator,
)
from propdesk.services.accounts import lifecycle
from propdesk.services.context import ServiceContext
from propdesk.services.errors import NotFound
from propdesk.store.engine import create_engine_for
from propdesk.store.uow import UnitOfWork
from tests.db import StepClock
from tests.redis_server import require_redis

REDIS_URL = os.environ.get("PROPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def second_engine(db_url: str) -> Iterator[Engine]:
    """Another process's engine on the same database."""
    built = create_engine_for(db_url)
    yield built
    built.dispose()


def _process(engine: Engine, ticks: Ticks) -> tuple[AuthVersionWatcher, CachedAuthenticator[object]]:
    watcher = AuthVersionWatcher(lambda: read_auth_version(engine), interval=0.25, monotonic=ticks)
    cached: CachedAuthenticator[object] = token_authenticator(  # type: ignore[assignment]
        engine, ttl_seconds=30, monotonic=ticks, version=watcher.current
    )
    return watcher, cached


def test_a_revoked_token_is_refused_by_every_warm_cache_once_it_rereads_the_version(
    engine: Engine, second_engine: Engine
) -> None:
    principal, token = create_token(engine, role=Role.SERVICE, name="bot", clock=StepClock())
    _, other = create_token(engine, role=Role.SERVICE, name="other", clock=StepClock())
    ticks = Ticks()
    processes = [_process(engine, ticks), _process(second_engine, ticks)]
    for _, cached in processes:
        assert cached(token) == principal  # warm: remembered for 30 s without a version
        assert cached(other) is not None
    revoke_token(engine, principal.token_id, clock=StepClock())
    ticks.now = 0.1
    assert all(cached(token) == principal for _, cached in processes)  # version not re-read yet
    ticks.now = 0.3  # past the 0.25 s re-read interval, far inside the 30 s cache TTL
    for _, cached in processes:
        assert cached(token) is None
        assert cached(other) is not None  # the others are looked up again, and still valid


def test_a_revoked_key_pair_is_refused_by_every_warm_cache(engine: Engine, second_engine: Engine) -> None:
    ctx = ServiceContext(engine=engine, clock=StepClock())
    row = lifecycle.create_account(ctx, lifecycle.NewAccount(preset="paper", idempotency_key="a"))
    pair = api_keys.create_key(engine, AccountId(row.id), clock=ctx.clock)
    credential = pair.key_id + SEPARATOR + pair.secret_key
    ticks = Ticks()
    caches = []
    for built in (engine, second_engine):
        watcher = AuthVersionWatcher(partial(read_auth_version, built), interval=0.25, monotonic=ticks)
        caches.append(
            CachedAuthenticator(
                api_keys.lookup(built), ttl_seconds=30, monotonic=ticks, version=watcher.current
            )
        )
    assert all(cache(credential) is not None for cache in caches)
    api_keys.revoke_key(engine, pair.key_id, clock=ctx.clock)
    ticks.now = 0.3
    assert all(cache(credential) is None for cache in caches)
    assert not api_keys.is_active(engine, pair.key_id)


def test_every_revocation_bumps_the_version_in_its_transaction(engine: Engine) -> None:
    assert read_auth_version(engine) == 0
    principal, _ = create_token(engine, role=Role.ADMIN, name="ops", clock=StepClock())
    revoke_token(engine, principal.token_id, clock=StepClock())
    assert read_auth_version(engine) == 1
    with pytest.raises(NotFound):
        revoke_token(engine, principal.token_id, clock=StepClock())  # already revoked: no bump
    assert read_auth_version(engine) == 1
    [listed] = list_tokens(engine)
    assert (listed.token_id, listed.role, listed.revoked_at is not None) == (
        principal.token_id,
        Role.ADMIN,
        True,
    )


def test_the_watcher_reads_the_database_at_most_once_per_interval() -> None:
    reads: list[int] = []
    ticks = Ticks()

    def read() -> int:
        reads.append(1)
        return len(reads)

    watcher = AuthVersionWatcher(read, interval=0.25, monotonic=ticks)
    assert [watcher.current() for _ in range(100)] == [1] * 100
    ticks.now = 0.25
    assert watcher.stale
    assert watcher.current() == 2
    assert len(reads) == 2


def test_database_counts_are_exact_across_processes_and_threads(
    engine: Engine, second_engine: Engine
) -> None:
    counters = [DatabaseCounter(engine), DatabaseCounter(second_engine)]
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda i: counters[i % 2].hit("v2:PKX", 600), range(120)))
    assert sorted(counts) == list(range(1, 121))  # no lost update, no duplicate count
    assert counters[0].hit("v2:PKY", 600) == 1  # keys are counted apart
    assert counters[1].hit("v2:PKX", 660) == 1  # a new window starts from zero


def test_old_windows_are_pruned(engine: Engine) -> None:
    counter = DatabaseCounter(engine, prune_every=0)
    counter.hit("a", 0)
    counter.hit("a", 60)
    counter.hit("a", 180)  # prunes what started before 120
    with UnitOfWork(engine, read_only=True) as uow:
        rows = uow.connection.exec_driver_sql("SELECT window_start FROM rate_limit_windows").scalars().all()
    assert sorted(rows) == [180]


def test_limiter_windows_and_the_auth_throttle(engine: Engine) -> None:
    now = [1_000_030.0]
    counter = DatabaseCounter(engine)
    limiter = RateLimiter(counter, 3, scope="v2", now=lambda: now[0])
    windows = [limiter.hit("k") for _ in range(4)]
    assert [w.remaining for w in windows] == [2, 1, 0, -1]
    assert windows[3].exceeded
    assert windows[0].reset == 1_000_020 + 60  # the window started on the minute
    throttle = AuthThrottle(
        RateLimiter(counter, 2, scope="auth_failures", now=lambda: now[0]), now=lambda: now[0]
    )
    assert throttle.blocked("10.0.0.1") is None
    assert not throttle.failed("10.0.0.1").exceeded
    assert not throttle.failed("10.0.0.1").exceeded
    assert throttle.failed("10.0.0.1").exceeded
    assert throttle.blocked("10.0.0.1") is not None
    assert throttle.blocked("10.0.0.2") is None
    assert limiter.hit("10.0.0.1").remaining == 2  # scopes do not share counts
    now[0] += 60
    assert throttle.blocked("10.0.0.1") is None  # the next window starts clean
    assert not throttle.failed("10.0.0.1").exceeded


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = require_redis(REDIS_URL)
    yield client
    client.close()


def test_redis_counts_are_shared_and_expire(redis_client: redis.Redis) -> None:
    prefix = f"propdesk-test:{uuid.uuid4().hex}:"
    counters = [RedisCounter(redis_client, prefix=prefix), RedisCounter(redis_client, prefix=prefix)]
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda i: counters[i % 2].hit("v2:PKX", 600), range(60)))
    assert sorted(counts) == list(range(1, 61))
    ttl = redis_client.ttl(f"{prefix}v2:PKX:600")
    assert 0 < int(ttl) <= 120
    redis_client.delete(f"{prefix}v2:PKX:600")


def test_an_unreachable_redis_falls_back_to_counting_in_the_process() -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_timeout=0.2, socket_connect_timeout=0.2)
    counter = RedisCounter(dead)
    assert [counter.hit("k", 0) for _ in range(3)] == [1, 2, 3]
