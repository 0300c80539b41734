"""The FastAPI application factory: ``create_app(ctx)``; nothing is built at import time."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from propdesk import __version__
from propdesk.api import alpaca, auth, errors
from propdesk.api.auth import clean_url
from propdesk.api.limits import BodyLimit
from propdesk.api.routers import admin, health, orders, prices, prop, risk, users
from propdesk.api.routing import ExactJsonRoute
from propdesk.api.schemas import ErrorOut
from propdesk.services.access.rate_limits import AuthThrottle, RateLimiter, shared_counter
from propdesk.services.access.tokens import AuthVersionWatcher, read_auth_version, token_authenticator
from propdesk.services.context import ServiceContext

# Every status the service and admin API may answer besides success, each with an ErrorOut body:
# the OpenAPI document declares them all (schemathesis checks that every answer is declared).
# 413 is a body over the size limit, 429 a rate limit. /v2 declares its own, in Alpaca's shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 413, 422, 429)
}


def create_app(ctx: ServiceContext) -> FastAPI:
    app = FastAPI(
        title="propdesk",
        version=__version__,
        description="Paper-trading and prop-firm account engine: service API, admin API.",
        dependencies=[Depends(clean_url)],
        openapi_url="/openapi.json" if ctx.settings.docs else None,
    )
    app.router.route_class = ExactJsonRoute  # routes added on the app itself decode exactly too
    app.state.ctx = ctx
    settings = ctx.settings
    # Revocation: every cache of valid credentials is dropped when the shared version changes.
    watcher = AuthVersionWatcher(
        lambda: read_auth_version(ctx.engine), interval=settings.auth_version_interval_seconds
    )
    app.state.auth_version = watcher
    app.state.authenticator = token_authenticator(ctx.engine, version=watcher.current)
    # Rate limits, counted where every server process sees them (Redis or the database).
    counter = shared_counter(ctx.engine, settings.redis_url)
    app.state.rate_counter = counter
    app.state.service_api_limiter = RateLimiter(counter, settings.service_api_rate_limit, scope="api")
    app.state.auth_throttle = AuthThrottle(
        RateLimiter(counter, settings.auth_failure_limit, scope="auth_failures")
    )
    errors.install(app)
    auth.install(app)
    for module in (health, prop, orders, admin, prices, risk, users):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    alpaca.install(app, ctx, counter=counter, auth_version=watcher)
    # Added last, so it is the outermost of our middlewares: nothing reads a body before the limit.
    app.add_middleware(BodyLimit, max_bytes=ctx.settings.max_body_bytes)
    return app
