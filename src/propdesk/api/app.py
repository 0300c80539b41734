"""The FastAPI application factory: ``create_app(ctx)``; nothing is built at import time."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from propdesk import __version__
from propdesk.api import alpaca, errors
from propdesk.api.auth import clean_url
from propdesk.api.routers import admin, health, orders, prices, prop, risk
from propdesk.api.routing import ExactJsonRoute
from propdesk.api.schemas import ErrorOut
from propdesk.services.context import ServiceContext
from propdesk.services.tokens import token_authenticator


def create_app(ctx: ServiceContext) -> FastAPI:
    app = FastAPI(
        title="propdesk",
        version=__version__,
        description="Paper-trading and prop-firm account engine: service API, admin API.",
        responses={code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 422)},
        dependencies=[Depends(clean_url)],
    )
    app.router.route_class = ExactJsonRoute  # routes added on the app itself decode exactly too
    app.state.ctx = ctx
    app.state.authenticator = token_authenticator(ctx.engine)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(prop.router)
    app.include_router(orders.router)
    app.include_router(admin.router)
    app.include_router(prices.router)
    app.include_router(risk.router)
    alpaca.install(app, ctx)
    return app
