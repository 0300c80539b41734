"""The failed-authentication flow every door shares, without a door in front of it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.requests import HTTPConnection

from propdesk.api import auth_failures
from propdesk.api.auth_failures import NotAuthenticated, TooManyFailures
from propdesk.services.access.rate_limits import AuthThrottle, MemoryCounter, RateLimiter


def _connection(throttle: AuthThrottle, host: str = "10.0.0.1") -> HTTPConnection:
    app = SimpleNamespace(state=SimpleNamespace(auth_throttle=throttle))
    return HTTPConnection({"type": "http", "client": (host, 1234), "app": app, "headers": []})


def _throttle(limit: int) -> AuthThrottle:
    return AuthThrottle(
        RateLimiter(MemoryCounter(), limit, scope="auth_failures", now=lambda: 60.0), now=lambda: 60.0
    )


def test_a_found_principal_is_returned_and_nothing_is_counted() -> None:
    throttle = _throttle(1)
    assert auth_failures.authenticate(_connection(throttle), lambda: "alice", presented=True) == "alice"
    assert auth_failures.authenticate(_connection(throttle), lambda: "alice", presented=True) == "alice"


def test_nothing_presented_is_refused_without_counting_or_checking() -> None:
    throttle = _throttle(1)
    checked: list[bool] = []

    def check() -> str | None:
        checked.append(True)
        return None

    for _ in range(3):
        with pytest.raises(NotAuthenticated) as refused:
            auth_failures.authenticate(_connection(throttle), check, presented=False)
        assert refused.value.presented is False
    assert checked == []
    assert throttle.blocked("10.0.0.1") is None


def test_failures_past_the_limit_block_the_address_even_for_a_right_guess() -> None:
    throttle = _throttle(2)
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            auth_failures.authenticate(_connection(throttle), lambda: None, presented=True)
    connection = _connection(throttle)
    with pytest.raises(TooManyFailures) as crossing:
        auth_failures.authenticate(connection, lambda: None, presented=True)
    assert crossing.value.window.exceeded
    assert connection.state.rate_window is crossing.value.window
    with pytest.raises(TooManyFailures):
        auth_failures.authenticate(_connection(throttle), lambda: "alice", presented=True)
    assert (
        auth_failures.authenticate(_connection(throttle, "10.0.0.2"), lambda: "bob", presented=True) == "bob"
    )
