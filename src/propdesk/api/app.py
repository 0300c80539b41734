"""The FastAPI application factory: ``create_app(ctx)``; nothing is built at import time."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from propdesk import __version__
from propdesk.api import alpaca, errors
from propdesk.api.auth import no_nul_in_url
from propdesk.api.routers import admin, health, orders, prices, prop, risk
from propdesk.api.schemas import ErrorOut
from propdesk.services.context import ServiceContext
from propdesk.services.tokens import token_authenticator

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
        dependencies=[Depends(no_nul_in_url)],
    )
    app.state.ctx = ctx
    app.state.authenticator = token_authenticator(ctx.engine)
    errors.install(app)
    for module in (health, prop, orders, admin, prices, risk):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    alpaca.install(app, ctx)
    return app
