"""Failed authentications, one flow for every door (``/api/v1`` bearer tokens, ``/v2`` key pairs,
the ``/stream`` ``authenticate`` message).

Failures are counted per client address by the app's
:class:`~propdesk.services.access.rate_limits.AuthThrottle`. An address past the limit is refused
before its credentials are looked at (a right guess is refused like a wrong one); a request that
presented credentials which do not check out counts one failure, and the failure that crosses
the limit is already answered 429. A request that presented nothing is refused without counting.
Nothing here logs or keeps what was presented. Each door turns the two outcomes below into its
own body (``/api/v1``'s ``{code, message}``, Alpaca's numeric codes, a stream message).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.requests import HTTPConnection

from propdesk.services.access.rate_limits import AuthThrottle, Window

P = TypeVar("P")


class NotAuthenticated(Exception):
    """No valid credentials: the door answers 401 (``presented`` says whether any were sent)."""

    def __init__(self, *, presented: bool) -> None:
        super().__init__("not authenticated")
        self.presented = presented


class TooManyFailures(Exception):
    """The address is over its failed-authentication limit: the door answers 429 with ``window``."""

    def __init__(self, window: Window) -> None:
        super().__init__("too many failed authentications")
        self.window = window


def client_address(connection: HTTPConnection) -> str:
    """The peer address failed authentications are counted by (the proxy's, behind one that
    uvicorn is not told to trust with ``--forwarded-allow-ips``)."""
    return connection.client.host if connection.client else "unknown"


def authenticate(connection: HTTPConnection, check: Callable[[], P | None], *, presented: bool) -> P:
    """The principal ``check`` finds for what ``connection`` presented.

    Raises :class:`TooManyFailures` (the window is also left in ``connection.state.rate_window``
    for the ``X-RateLimit-*`` headers) or :class:`NotAuthenticated`. ``check`` is not called
    for a blocked address or when nothing was ``presented``.
    """
    throttle: AuthThrottle = connection.app.state.auth_throttle
    address = client_address(connection)
    blocked = throttle.blocked(address)
    if blocked is not None:
        raise _too_many(connection, blocked)
    principal = check() if presented else None
    if principal is None:
        if presented:
            failures = throttle.failed(address)
            if failures.exceeded:
                raise _too_many(connection, failures)
        raise NotAuthenticated(presented=presented)
    return principal


def _too_many(connection: HTTPConnection, window: Window) -> TooManyFailures:
    connection.state.rate_window = window
    return TooManyFailures(window)
