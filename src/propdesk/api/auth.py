"""Bearer-token authentication and role checks for the service and admin APIs."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from propdesk.model.text import escape_text, text_problem
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Invalid, ServiceError
from propdesk.services.tokens import CachedAuthenticator, Principal, Role

bearer = HTTPBearer(auto_error=False, description="pd_<id>_<secret>, from `propdesk token create`")


class Unauthenticated(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


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
    """A dependency that authenticates the bearer token and checks its role."""

    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> Principal:
        if credentials is None:
            raise Unauthenticated("unauthenticated", "send Authorization: Bearer <token>")
        authenticator: CachedAuthenticator[Principal] = request.app.state.authenticator
        principal = authenticator(credentials.credentials)
        if principal is None:
            raise Unauthenticated("invalid_token", "the bearer token is unknown, revoked or malformed")
        if principal.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise Forbidden(
                "forbidden", f"this route needs a {allowed} token; yours is {principal.role.value}"
            )
        return principal

    return dependency


service_or_admin = require(Role.SERVICE, Role.ADMIN)
admin_only = require(Role.ADMIN)
