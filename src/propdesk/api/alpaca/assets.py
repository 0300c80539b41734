"""/v2 assets and option contracts (Alpaca-compatible), from propdesk's asset catalogue.

Assets carry the key ``class`` (alpaca-py's alias), an ``id`` derived from the symbol
(:func:`~propdesk.api.alpaca.wire.asset_id`, so ``BTC/USD`` and ``BTCUSD`` are one asset) and an
exchange from alpaca-py's enum only. Margin requirements are the caller's account's: a marginable
asset ties up ``100 / leverage`` percent of its value, anything else 100. Which symbols are known,
and the rules where Alpaca's master data has no counterpart, are in
:mod:`propdesk.services.market.assets`.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Query

from propdesk.api.alpaca.auth import authenticated
from propdesk.api.alpaca.errors import ERROR_RESPONSES, INVALID_PARAMETER, NOT_FOUND, AlpacaError
from propdesk.api.alpaca.wire import asset_id, dec
from propdesk.api.auth import context
from propdesk.api.routing import api_router
from propdesk.model.numbers import NotExactError, parse_decimal
from propdesk.services.access.api_keys import KeyPrincipal
from propdesk.services.accounts import commands as accounts
from propdesk.services.context import ServiceContext
from propdesk.services.market import assets
from propdesk.services.market.assets import AssetInfo, ContractFilter, ContractInfo

router = api_router(prefix="/v2", tags=["alpaca"], responses=ERROR_RESPONSES)
Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[KeyPrincipal, Depends(authenticated)]
Text = Annotated[str | None, Query()]


def present_asset(info: AssetInfo, leverage: Decimal) -> dict[str, Any]:
    requirement = dec(info.margin_requirement(leverage))
    return {
        "id": asset_id(info.symbol),
        "class": info.asset_class.value,
        "exchange": info.exchange,
        "symbol": info.symbol,
        "name": info.name,
        "status": "active",
        "tradable": info.tradable,
        "marginable": info.marginable,
        "shortable": info.shortable,
        "easy_to_borrow": info.easy_to_borrow,
        "fractionable": info.fractionable,
        "attributes": list(info.attributes),
        "maintenance_margin_requirement": requirement,
        "margin_requirement_long": requirement,
        "margin_requirement_short": requirement,
        "min_order_size": dec(info.min_order_size),
        "min_trade_increment": dec(info.min_trade_increment),
        "price_increment": dec(info.price_increment),
        "cusip": None,
    }


def present_contract(info: ContractInfo) -> dict[str, Any]:
    c = info.contract
    return {
        "id": asset_id(c.symbol),
        "symbol": c.symbol,
        "name": info.name,
        "status": "active" if info.active else "inactive",
        "tradable": info.active,
        "expiration_date": c.expiry.isoformat(),
        "root_symbol": c.underlying,
        "underlying_symbol": info.underlying,
        "underlying_asset_id": asset_id(info.underlying),
        "type": c.right.value,
        "style": c.style.value,
        "strike_price": dec(c.strike),
        "multiplier": dec(c.multiplier),
        "size": dec(c.multiplier),
        "open_interest": None,
        "open_interest_date": None,
        "close_price": dec(info.close_price),
        "close_price_date": None if info.close_price_date is None else info.close_price_date.isoformat(),
    }


def _uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def _leverage(ctx: ServiceContext, account_id: str) -> Decimal:
    return accounts.get_state(ctx.engine, account_id).leverage


@router.get("/assets", summary="Known equities and crypto pairs")
def list_assets(
    ctx: Ctx,
    caller: Caller,
    status: Text = None,
    asset_class: Text = None,
    exchange: Text = None,
    attributes: Text = None,
) -> list[dict[str, Any]]:
    wanted = [a.strip() for a in (attributes or "").split(",") if a.strip()]
    found = assets.list_assets(
        ctx,
        status=status or None,
        asset_class=asset_class or None,
        exchange=exchange or None,
        attributes=wanted,
    )
    leverage = _leverage(ctx, caller.account_id)
    return [present_asset(info, leverage) for info in found]


@router.get("/assets/{symbol_or_asset_id:path}", summary="One asset by symbol or id")
def get_asset(symbol_or_asset_id: str, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    wanted = _uuid(symbol_or_asset_id)
    if wanted is None:
        return present_asset(assets.get_asset(ctx, symbol_or_asset_id), _leverage(ctx, caller.account_id))
    found = next((a for a in assets.list_assets(ctx) if asset_id(a.symbol) == wanted), None)
    if found is None:
        raise AlpacaError(404, NOT_FOUND, f"asset not found for {symbol_or_asset_id}")
    return present_asset(found, _leverage(ctx, caller.account_id))


def _date(name: str, text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AlpacaError(422, INVALID_PARAMETER, f"{name} must be a date YYYY-MM-DD, not {text!r}") from None


def _price(name: str, text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        return parse_decimal(text, field=name)
    except NotExactError as exc:
        raise AlpacaError(422, INVALID_PARAMETER, str(exc)) from None


@router.get("/options/contracts", summary="Option contracts with stored prices")
def list_contracts(
    ctx: Ctx,
    _: Caller,
    underlying_symbols: Text = None,
    status: Text = None,
    expiration_date: Text = None,
    expiration_date_gte: Text = None,
    expiration_date_lte: Text = None,
    root_symbol: Text = None,
    type: Text = None,
    style: Text = None,
    strike_price_gte: Text = None,
    strike_price_lte: Text = None,
    limit: Text = None,
    page_token: Text = None,
) -> dict[str, Any]:
    try:
        size = assets.DEFAULT_CONTRACTS_PAGE if not limit else int(limit)
    except ValueError:
        raise AlpacaError(422, INVALID_PARAMETER, f"limit must be an integer, not {limit!r}") from None
    query = ContractFilter(
        underlying_symbols=[s for s in (underlying_symbols or "").split(",") if s.strip()],
        status=(status or "active").lower(),
        expiration_date=_date("expiration_date", expiration_date),
        expiration_date_gte=_date("expiration_date_gte", expiration_date_gte),
        expiration_date_lte=_date("expiration_date_lte", expiration_date_lte),
        root_symbol=root_symbol or None,
        type=type.lower() if type else None,
        style=style.lower() if style else None,
        strike_price_gte=_price("strike_price_gte", strike_price_gte),
        strike_price_lte=_price("strike_price_lte", strike_price_lte),
        limit=size,
        page_token=page_token or None,
    )
    page = assets.list_contracts(ctx, query)
    return {
        "option_contracts": [present_contract(c) for c in page.contracts],
        "next_page_token": page.next_page_token,
    }


@router.get("/options/contracts/{symbol_or_id}", summary="One option contract by OCC symbol or id")
def get_contract(symbol_or_id: str, ctx: Ctx, _: Caller) -> dict[str, Any]:
    wanted = _uuid(symbol_or_id)
    symbol = symbol_or_id
    if wanted is not None:
        match = next((s for s in assets.all_contracts(ctx) if asset_id(s) == wanted), None)
        if match is None:
            raise AlpacaError(404, NOT_FOUND, f"option contract not found for {symbol_or_id}")
        symbol = match
    return present_contract(assets.get_contract(ctx, symbol))
