"""The real Redis the Redis-backed tests talk to (rate limits, Celery). It is a required part of
the test machine, like PostgreSQL: `.ci/run` starts it, so an unreachable Redis fails the test
instead of skipping it."""

from __future__ import annotations

import pytest
import redis


def require_redis(url: str) -> redis.Redis:
    """A client of ``url`` that answered a ping; the test fails, saying where, when none does."""
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        pytest.fail(f"Redis unreachable at {url}: {exc} (start it: redis-server --daemonize yes)")
    return client
