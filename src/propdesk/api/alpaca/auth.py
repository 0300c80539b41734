"""Who is calling /v2: an account key pair in ``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY``.

Each request is counted against the key's rate window here, after authentication; the
middleware in :mod:`propdesk.api.alpaca` copies the window into the response headers. A failed
authentication is counted against the client address (:mod:`propdesk.api.auth_failures`, the
flow every door shares): past the limit the address gets 429 whatever it sends.
"""

from __future__ import annotations

from fastapi import Request
from starlette.requests import HTTPConnection

from propdesk.api import auth_failures
from propdesk.api.alpaca.errors import RATE_LIMITED, UNAUTHORIZED, AlpacaError
from propdesk.services.access.api_keys import SEPARATOR, KeyPrincipal
from propdesk.services.access.rate_limits import RateLimiter
from propdesk.services.access.tokens import CachedAuthenticator

KEY_HEADER = "APCA-API-KEY-ID"
SECRET_HEADER = "APCA-API-SECRET-KEY"
TOO_MANY_FAILURES = "too many failed authentications from this address; retry later"


def authenticated(request: Request) -> KeyPrincipal:
    """The key's principal (401 ``40110000`` without a valid pair; 429 over the rate limit or
    after too many failed authentications from the address)."""
    key_id = request.headers.get(KEY_HEADER, "")
    secret = request.headers.get(SECRET_HEADER, "")
    try:
        # A guess counts; no credentials at all is refused without counting.
        principal = auth_failures.authenticate(
            request, lambda: check_pair(request, key_id, secret), presented=bool(key_id or secret)
        )
    except auth_failures.TooManyFailures:
        raise AlpacaError(429, RATE_LIMITED, TOO_MANY_FAILURES) from None
    except auth_failures.NotAuthenticated:
        raise AlpacaError(401, UNAUTHORIZED, "request is not authorized") from None
    limiter: RateLimiter = request.app.state.trading_api_limiter
    window = limiter.hit(principal.key_id)
    request.state.rate_window = window
    if window.exceeded:
        raise AlpacaError(429, RATE_LIMITED, "rate limit exceeded")
    return principal


def check_pair(connection: HTTPConnection, key_id: str, secret: str) -> KeyPrincipal | None:
    """The principal for a pair (also used by the stream's ``authenticate`` message)."""
    if not key_id or not secret or SEPARATOR in key_id or SEPARATOR in secret:
        return None
    keys: CachedAuthenticator[KeyPrincipal] = connection.app.state.key_authenticator
    return keys(key_id + SEPARATOR + secret)
