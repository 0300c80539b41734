"""/v2 positions (Alpaca-compatible): list, read, close (by qty or percentage, or all) and exercise.

A position is named by its symbol (crypto as ``BTCUSD``, ``BTC/USD`` or ``BTC%2FUSD``; alpaca-py
puts ``BTC/USD`` in the path unencoded, hence the ``:path`` parameters) or by its asset id
(:func:`~propdesk.api.alpaca.wire.asset_id`). Only the caller's account is ever read or changed:
another account's position does not exist here.

Figures follow Alpaca's Position (docs/alpaca.md, "Endpoints"): decimal strings, ``qty``
negative for shorts, ratios as fractions, ``current_price`` the position's mark,
``lastday_price`` the price at the previous session's close (null if no price from then is
stored). Options have ``exchange ""``; futures are shown as ``us_equity`` like their orders.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Query

from propdesk.api.alpaca import errors
from propdesk.api.alpaca.auth import authenticated
from propdesk.api.alpaca.errors import ERROR_RESPONSES, INVALID_PARAMETER, NOT_FOUND, AlpacaError
from propdesk.api.alpaca.present import alpaca_asset_class, order
from propdesk.api.alpaca.wire import asset_id, dec, derived, parse_bool
from propdesk.api.auth import context
from propdesk.api.routing import api_router
from propdesk.model.ids import AccountId
from propdesk.model.instruments import AssetClass
from propdesk.model.numbers import NotExactError, parse_decimal
from propdesk.services.access.api_keys import KeyPrincipal
from propdesk.services.context import ServiceContext
from propdesk.services.errors import ServiceError
from propdesk.services.orders import exercise as option_exercise
from propdesk.services.orders import positions
from propdesk.services.orders.positions import HeldPosition

router = api_router(prefix="/v2", tags=["alpaca"], responses=ERROR_RESPONSES)
Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[KeyPrincipal, Depends(authenticated)]

# Context Alpaca adds to a refused close (alpaca-py's FailedClosePositionDetails).
_FAILURE_DETAILS = ("available", "existing_qty", "held_for_orders", "symbol")


def present_position(held: HeldPosition) -> dict[str, Any]:
    p = held.position
    crypto = p.instrument.asset_class is AssetClass.CRYPTO
    sign = Decimal(1) if p.qty > 0 else Decimal(-1)
    return {
        "asset_id": asset_id(p.symbol),
        "symbol": p.symbol.replace("/", "") if crypto else p.symbol,
        "exchange": held.asset.exchange,
        "asset_class": alpaca_asset_class(p.instrument.asset_class),
        "asset_marginable": held.asset.marginable,
        "avg_entry_price": derived(p.avg_price),
        "qty": dec(p.qty),
        "qty_available": dec(sign * held.available),
        "side": "long" if p.qty > 0 else "short",
        "market_value": derived(p.market_value),
        "cost_basis": derived(p.cost),
        "unrealized_pl": derived(p.unrealized_pnl),
        "unrealized_plpc": derived(held.unrealized_plpc),
        "unrealized_intraday_pl": derived(held.unrealized_intraday_pl),
        "unrealized_intraday_plpc": derived(held.unrealized_intraday_plpc),
        "current_price": derived(p.mark),
        "lastday_price": derived(held.lastday_price),
        "change_today": derived(held.change_today),
        "swap_rate": None,
        "avg_entry_swap_rate": None,
        "usd": None,
    }


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _symbol(ctx: ServiceContext, account_id: AccountId, text: str) -> str:
    """The held symbol an asset id names, or ``text`` itself (the service matches symbols)."""
    if not _is_uuid(text):
        return text
    wanted = str(uuid.UUID(text))
    for held in positions.open_positions(ctx, account_id):
        if asset_id(held.symbol) == wanted:
            return held.symbol
    raise AlpacaError(404, NOT_FOUND, "position does not exist")


def _query_decimal(name: str, text: str | None) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        return parse_decimal(text, field=name, positive=True)
    except NotExactError as exc:
        raise AlpacaError(422, INVALID_PARAMETER, str(exc)) from None


def _failure(exc: ServiceError) -> tuple[int, dict[str, Any]]:
    """A refused close as Alpaca reports it: its status and ``{code, message, ...}`` body."""
    translated = errors.translate(exc.status, exc.code, exc.message)
    body: dict[str, Any] = json.loads(bytes(translated.body))
    for key in _FAILURE_DETAILS:
        value = exc.details.get(key)
        if value is not None:
            body[key] = dec(value) if isinstance(value, Decimal) else value
    return translated.status_code, body


@router.get("/positions", summary="Open positions of the account")
def list_positions(ctx: Ctx, caller: Caller) -> list[dict[str, Any]]:
    return [present_position(h) for h in positions.open_positions(ctx, caller.account_id)]


@router.delete("/positions", status_code=207, summary="Close every position (207, one entry per position)")
def close_all(
    ctx: Ctx,
    caller: Caller,
    cancel_orders: Annotated[str | None, Query(description="true: cancel open orders first")] = None,
) -> list[dict[str, Any]]:
    cancel = parse_bool("cancel_orders", cancel_orders)
    entries: list[dict[str, Any]] = []
    for closed in positions.close_all(ctx, caller.account_id, cancel_orders=cancel):
        crypto = "/" in closed.symbol
        shown = closed.symbol.replace("/", "") if crypto else closed.symbol
        if closed.submitted is not None:
            body = order(closed.submitted.order, closed.submitted.legs)
            entries.append({"symbol": shown, "status": 200, "order_id": body["id"], "body": body})
        else:
            assert closed.error is not None
            status, failure = _failure(closed.error)
            entries.append({"symbol": shown, "status": status, "body": failure})
    return entries


@router.post(
    "/positions/{symbol_or_contract_id}/exercise",
    summary="Exercise a long option position (what open orders do not hold)",
)
def exercise(symbol_or_contract_id: str, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    symbol = _symbol(ctx, caller.account_id, symbol_or_contract_id)
    try:
        option_exercise.exercise(ctx, caller.account_id, symbol)
    except ServiceError as exc:
        status, body = _failure(exc)
        raise AlpacaError(status, body.pop("code"), body.pop("message"), body) from None
    return {}


@router.get("/positions/{symbol_or_asset_id:path}", summary="One open position")
def get_position(symbol_or_asset_id: str, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    symbol = _symbol(ctx, caller.account_id, symbol_or_asset_id)
    return present_position(positions.get_position(ctx, caller.account_id, symbol))


@router.delete(
    "/positions/{symbol_or_asset_id:path}",
    summary="Close a position, or qty or percentage of it, with a market order (200 with the order)",
)
def close_position(
    symbol_or_asset_id: str,
    ctx: Ctx,
    caller: Caller,
    qty: Annotated[str | None, Query(description="how much to close")] = None,
    percentage: Annotated[str | None, Query(description="percent of the position to close (0-100)")] = None,
) -> dict[str, Any]:
    symbol = _symbol(ctx, caller.account_id, symbol_or_asset_id)
    amount, share = _query_decimal("qty", qty), _query_decimal("percentage", percentage)
    if amount is not None and share is not None:
        raise AlpacaError(422, INVALID_PARAMETER, "qty and percentage cannot both be given")
    try:
        submitted = positions.close_position(ctx, caller.account_id, symbol, qty=amount, percentage=share)
    except ServiceError as exc:
        status, body = _failure(exc)
        raise AlpacaError(status, body.pop("code"), body.pop("message"), body) from None
    return order(submitted.order, submitted.legs)
