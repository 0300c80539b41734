"""Bearer-token authentication, rate limits and role checks for the service and admin APIs.

Each authenticated request counts against its token's window (``PROPDESK_SERVICE_API_RATE_LIMIT`` a
minute, shared by every server process); a failed authentication counts against the client
address (``PROPDESK_AUTH_FAILURE_LIMIT``, :mod:`propdesk.api.auth_failures`). Either over its limit is a 429 ``rate_limited``; the
middleware installed by :func:`install` puts the window in ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from propdesk.api import auth_failures
from propdesk.model.ids import AccountId
from propdesk.model.text import escape_text, text_problem
from propdesk.services.access import ownership
from propdesk.services.access.rate_limits import RateLimiter, Window
from propdesk.services.access.tokens import CachedAuthenticator, Principal, Role
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Forbidden, Invalid, ServiceError

bearer = HTTPBearer(auto_error=False, description="pd_<id>_<secret>, from `propdesk token create`")


class Unauthenticated(ServiceError):
    status = 401


class TooManyRequests(ServiceError):
    status = 429


def _rate_limited(request: Request, window: Window, message: str) -> TooManyRequests:
    request.state.rate_window = window
    return TooManyRequests("rate_limited", message, {"limit": window.limit, "reset": window.reset})


def _failures_message(window: Window) -> str:
    return f"too many failed authentications from this address (limit {window.limit} a minute); retry later"


def clean_url(request: Request) -> None:
    """Refuse control characters (NUL included: PostgreSQL text cannot hold one) in path and query
    parameters, names and values, with a 422 naming the parameter (see :mod:`propdesk.model.text`)."""
    query = request.query_params.multi_items()
    for where, params in (("path", list(request.path_params.items())), ("query", query)):
        for name, value in params:
            for text in (str(name), str(value)):
                problem = text_problem(text)
                if problem is not None:
                    shown = escape_text(str(name))
                    raise Invalid("invalid_request", f"{shown}: {problem}", {"field": shown, "in": where})


def context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency that authenticates the bearer token, checks its role and, on a route with an
    ``{account_id}`` path parameter, that the token may use that account.

    The ownership check lives here, in the one dependency every bearer-token route has, so that a
    new route with ``{account_id}`` is guarded by construction: a service token gets 404
    ``account_not_found`` for an account it neither created nor was granted, exactly as for a
    missing one. Routes keyed by other ids scope their lookups in the services.
    """

    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> Principal:
        authenticator: CachedAuthenticator[Principal] = request.app.state.authenticator
        try:
            principal = auth_failures.authenticate(
                request,
                lambda: None if credentials is None else authenticator(credentials.credentials),
                presented=credentials is not None,
            )
        except auth_failures.TooManyFailures as exc:
            raise _rate_limited(request, exc.window, _failures_message(exc.window)) from None
        except auth_failures.NotAuthenticated as exc:
            if not exc.presented:
                raise Unauthenticated("unauthenticated", "send Authorization: Bearer <token>") from None
            raise Unauthenticated(
                "invalid_token", "the bearer token is unknown, revoked or malformed"
            ) from None
        limiter: RateLimiter = request.app.state.service_api_limiter
        window = limiter.hit(principal.token_id)
        request.state.rate_window = window
        if window.exceeded:
            raise _rate_limited(
                request, window, f"rate limit exceeded: {window.limit} requests a minute per token"
            )
        if principal.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise Forbidden(
                "forbidden", f"this route needs a {allowed} token; yours is {principal.role.value}"
            )
        account_id = request.path_params.get("account_id")
        if account_id is not None:
            ownership.require_access(context(request), principal, AccountId(str(account_id)))
        return principal

    return dependency


service_or_admin = require(Role.SERVICE, Role.ADMIN)
admin_only = require(Role.ADMIN)


def rate_limit_headers(request: Request, response: Response) -> None:
    """Copy the request's rate window (if one was counted) into the response, with ``Retry-After``
    on a 429."""
    window: Window | None = getattr(request.state, "rate_window", None)
    if window is None:
        return
    response.headers.update(window.headers())
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, window.reset - int(time.time())))


def install(app: FastAPI) -> None:
    """The ``X-RateLimit-*`` headers on every ``/api/v1`` response that was counted."""

    @app.middleware("http")
    async def service_api_rate_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/api/v1"):
            rate_limit_headers(request, response)
        return response
