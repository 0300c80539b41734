"""The Alpaca-compatible Trading API: ``/v2/...`` and the ``/stream`` WebSocket.

Strategy code written for Alpaca paper trading points ``url_override`` at propdesk and runs
unchanged (see ``docs/alpaca.md``). The routes are thin: they authenticate an account key pair,
translate Alpaca's request shapes into service calls and present the results in Alpaca's wire
format (:mod:`.wire`); errors become ``{code, message}`` (:mod:`.errors`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from propdesk.api.alpaca import (
    account,
    assets,
    history,
    market,
    orders,
    positions,
    reset,
    stream,
    watchlists,
)
from propdesk.api.alpaca.ratelimit import RateLimiter
from propdesk.services import api_keys
from propdesk.services.context import ServiceContext
from propdesk.services.tokens import CachedAuthenticator


def install(app: FastAPI, ctx: ServiceContext) -> None:
    app.state.key_authenticator = CachedAuthenticator(api_keys.lookup(ctx.engine))
    app.state.trading_api_limiter = RateLimiter(ctx.settings.trading_api_rate_limit)

    @app.middleware("http")
    async def rate_limit_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/v2"):
            window = getattr(request.state, "rate_window", None)
            if window is None:  # not authenticated: counted by address
                host = request.client.host if request.client else "unknown"
                window = app.state.trading_api_limiter.hit(f"address:{host}")
            response.headers.update(window.headers())
        return response

    for module in (account, reset, orders, positions, assets, market, history, stream, watchlists):
        app.include_router(module.router)
