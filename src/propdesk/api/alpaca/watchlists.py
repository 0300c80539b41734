"""/v2 watchlists (Alpaca-compatible): the key pair's account's named lists of assets.

What alpaca-py's ``TradingClient`` calls, and parses into its ``Watchlist`` model: list (without
assets), create, get, replace (PUT), add one symbol (POST ``{symbol}``), remove one symbol, delete
(204). Alpaca's ``/v2/watchlists:by_name`` variants are not served: alpaca-py has no method for
them. Assets are presented as on ``GET /v2/assets``; the rules are in
:mod:`propdesk.services.alpaca.watchlists`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Response

from propdesk.api.alpaca.assets import present_asset
from propdesk.api.alpaca.auth import authenticated
from propdesk.api.alpaca.errors import ERROR_RESPONSES
from propdesk.api.alpaca.requests import AlpacaBody
from propdesk.api.alpaca.wire import ts
from propdesk.api.auth import context
from propdesk.api.routing import api_router
from propdesk.services.access.api_keys import KeyPrincipal
from propdesk.services.alpaca import watchlists
from propdesk.services.alpaca.watchlists import WatchlistView
from propdesk.services.context import ServiceContext
from propdesk.store.watchlists import AlpacaWatchlistRecord

router = api_router(prefix="/v2", tags=["alpaca"], responses=ERROR_RESPONSES)
Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[KeyPrincipal, Depends(authenticated)]


class WatchlistIn(AlpacaBody):
    """``POST /v2/watchlists``: a name (1–64 characters, unique in the account) and symbols."""

    name: str
    symbols: list[str] | None = None


class WatchlistUpdateIn(AlpacaBody):
    """``PUT /v2/watchlists/{id}``: a new name and/or the whole new list of symbols (absent or null
    keeps it; ``[]`` empties the list)."""

    name: str | None = None
    symbols: list[str] | None = None


class WatchlistAssetIn(AlpacaBody):
    """``POST /v2/watchlists/{id}``: one symbol to append."""

    symbol: str


def _summary(w: AlpacaWatchlistRecord) -> dict[str, Any]:
    return {
        "id": w.id,
        "account_id": w.account_id,
        "name": w.name,
        "created_at": ts(w.created_at),
        "updated_at": ts(w.updated_at),
    }


def _watchlist(view: WatchlistView) -> dict[str, Any]:
    return {**_summary(view.watchlist), "assets": [present_asset(a, view.leverage) for a in view.assets]}


@router.get("/watchlists", summary="The account's watchlists (without their assets)")
def list_watchlists(ctx: Ctx, caller: Caller) -> list[dict[str, Any]]:
    return [_summary(w) for w in watchlists.list_watchlists(ctx, caller.account_id)]


@router.post("/watchlists", summary="Create a watchlist")
def create_watchlist(body: WatchlistIn, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return _watchlist(watchlists.create_watchlist(ctx, caller.account_id, body.name, body.symbols or ()))


@router.get("/watchlists/{watchlist_id}", summary="One watchlist with its assets")
def get_watchlist(watchlist_id: str, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return _watchlist(watchlists.get_watchlist(ctx, caller.account_id, watchlist_id))


@router.put("/watchlists/{watchlist_id}", summary="Rename a watchlist and/or replace its symbols")
def update_watchlist(watchlist_id: str, body: WatchlistUpdateIn, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    view = watchlists.update_watchlist(
        ctx, caller.account_id, watchlist_id, name=body.name, symbols=body.symbols
    )
    return _watchlist(view)


@router.post("/watchlists/{watchlist_id}", summary="Append one asset to a watchlist")
def add_asset(watchlist_id: str, body: WatchlistAssetIn, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return _watchlist(watchlists.add_symbol(ctx, caller.account_id, watchlist_id, body.symbol))


@router.delete("/watchlists/{watchlist_id}", status_code=204, summary="Delete a watchlist (204, no body)")
def delete_watchlist(watchlist_id: str, ctx: Ctx, caller: Caller) -> Response:
    watchlists.delete_watchlist(ctx, caller.account_id, watchlist_id)
    return Response(status_code=204)


# ``{symbol:path}``: alpaca-py puts a crypto pair into the path unencoded (``…/BTC/USD``).
@router.delete("/watchlists/{watchlist_id}/{symbol:path}", summary="Remove one asset from a watchlist")
def remove_asset(watchlist_id: str, symbol: str, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    return _watchlist(watchlists.remove_symbol(ctx, caller.account_id, watchlist_id, symbol))
