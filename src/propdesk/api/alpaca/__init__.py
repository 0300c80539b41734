"""The Alpaca-compatible Trading API: ``/v2/...`` and the ``/stream`` WebSocket.

Strategy code written for Alpaca paper trading points ``url_override`` at propdesk and runs
unchanged (see ``docs/alpaca.md``). The routes are thin: they authenticate an account key pair,
translate Alpaca's request shapes into service calls and present the results in Alpaca's wire
format (:mod:`.wire`); errors become ``{code, message}`` (:mod:`.errors`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

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
from propdesk.api.alpaca.errors import FORBIDDEN
from propdesk.api.auth import rate_limit_headers
from propdesk.api.auth_failures import client_address
from propdesk.services.access import api_keys
from propdesk.services.access.rate_limits import Counter, MemoryCounter, RateLimiter
from propdesk.services.access.tokens import AuthVersionWatcher, CachedAuthenticator
from propdesk.services.alpaca.paper_accounts import PAPER_TRADING_OFF
from propdesk.services.context import ServiceContext


def install(app: FastAPI, ctx: ServiceContext, *, counter: Counter, auth_version: AuthVersionWatcher) -> None:
    """The /v2 routes and /stream; key pairs are cached until ``auth_version`` changes, requests
    are counted in ``counter`` (shared with the service API's limits)."""
    app.state.key_authenticator = CachedAuthenticator(
        api_keys.lookup(ctx.engine), version=auth_version.current
    )
    app.state.trading_api_limiter = RateLimiter(counter, ctx.settings.trading_api_rate_limit, scope="v2")
    anonymous = RateLimiter(MemoryCounter(), ctx.settings.trading_api_rate_limit, scope="v2")

    @app.middleware("http")
    async def alpaca_rate_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/v2"):
            if getattr(request.state, "rate_window", None) is None:  # not authenticated: by address
                # Counted in this process only: an anonymous request (a 401 anyway) must not cost
                # a database write. Failed credentials are throttled across processes (auth_failures).
                request.state.rate_window = anonymous.hit(f"address:{client_address(request)}")
            rate_limit_headers(request, response)
        return response

    @app.middleware("http")
    async def paper_trading_switch(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not ctx.settings.paper_trading and request.url.path.startswith("/v2"):
            return JSONResponse({"code": FORBIDDEN, "message": PAPER_TRADING_OFF}, status_code=403)
        return await call_next(request)

    for module in (account, reset, orders, positions, assets, market, history, stream, watchlists):
        app.include_router(module.router)
