"""Bearer-token authentication and role checks for the service and admin APIs."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from propdesk.services import ownership
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Invalid, ServiceError
from propdesk.services.tokens import CachedAuthenticator, Principal, Role

bearer = HTTPBearer(auto_error=False, description="pd_<id>_<secret>, from `propdesk token create`")


class Unauthenticated(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


def no_nul_in_url(request: Request) -> None:
    """Refuse a NUL character in path or query parameters (PostgreSQL text cannot hold one)."""
    for where, params in (("path", request.path_params), ("query", request.query_params)):
        for name, value in params.items():
            if "\x00" in str(value):
                raise Invalid(
                    "invalid_request",
                    f"{name}: must not contain a NUL character",
                    {"field": name, "in": where},
                )


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
        account_id = request.path_params.get("account_id")
        if account_id is not None:
            ownership.require_access(context(request), principal, str(account_id))
        return principal

    return dependency


service_or_admin = require(Role.SERVICE, Role.ADMIN)
admin_only = require(Role.ADMIN)
