"""The real alpaca-py ``TradingClient`` on positions, assets and option contracts: every response parses
with the SDK's own models, and the figures are the kernel's.

Positions are opened through the order service (this file tests the position routes, not
``POST /v2/orders``); everything else goes through the SDK against the live server.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TypeVar, cast

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import (
    AssetClass,
    AssetExchange,
    ContractType,
    ExerciseStyle,
    OrderSide,
    PositionSide,
)
from alpaca.trading.models import (
    Asset,
    ClosePositionResponse,
    OptionContract,
    OptionContractsResponse,
    Order,
    Position,
)
from alpaca.trading.requests import ClosePositionRequest, GetAssetsRequest, GetOptionContractsRequest

from propdesk.api.alpaca.wire import asset_id
from propdesk.execution.order_book.requests import OrderRequest
from propdesk.model.orders import OrderType, Side, TimeInForce
from propdesk.services.access.api_keys import KeyPair
from propdesk.services.accounts import commands as accounts
from propdesk.services.orders import commands as orders
from tests.api.alpaca.conftest import Paper

CALL = "AAPL260220C00150000"
T = TypeVar("T")


def sdk(paper: Paper, keys: KeyPair | None = None) -> TradingClient:
    keys = keys or paper.keys
    return TradingClient(keys.key_id, keys.secret_key, paper=True, url_override=paper.url)


def models(items: object, model: type[T]) -> list[T]:
    """A list response, every item parsed as ``model`` by the SDK."""
    assert isinstance(items, list)
    assert all(isinstance(item, model) for item in items)
    return cast(list[T], items)


def trade(paper: Paper, symbol: str, qty: str, side: Side = Side.BUY, **fields: object) -> None:
    request = OrderRequest(
        client_order_id=str(uuid.uuid4()),
        symbol=symbol,
        side=side,
        qty=Decimal(qty),
        time_in_force=TimeInForce.GTC if "/" in symbol else TimeInForce.DAY,
        **fields,  # type: ignore[arg-type]
    )
    orders.submit_order(paper.ctx, paper.account_id, request)


def test_positions_read_and_close_through_the_sdk(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    paper.quote("BTC/USD", "90000", "90010")
    trade(paper, "AAPL", "10")
    trade(paper, "BTC/USD", "0.5")
    client = sdk(paper)

    everything = models(client.get_all_positions(), Position)
    assert [p.symbol for p in everything] == ["AAPL", "BTCUSD"]
    aapl = client.get_open_position("AAPL")
    assert isinstance(aapl, Position)
    assert client.get_open_position(uuid.UUID(asset_id("AAPL"))) == aapl
    assert (aapl.exchange, aapl.asset_class, aapl.side) == (
        AssetExchange.NASDAQ,
        AssetClass.US_EQUITY,
        PositionSide.LONG,
    )
    held = accounts.get_state(paper.ctx.engine, paper.account_id).positions["AAPL"]
    assert aapl.unrealized_pl is not None
    assert Decimal(aapl.unrealized_pl) == held.unrealized_pnl
    assert (Decimal(aapl.qty), Decimal(aapl.cost_basis)) == (held.qty, held.cost)
    btc = client.get_open_position("BTC/USD")  # alpaca-py puts the pair in the path as is
    assert isinstance(btc, Position)
    assert (btc.symbol, btc.exchange, btc.asset_class) == ("BTCUSD", AssetExchange.CRYPTO, AssetClass.CRYPTO)

    by_qty = client.close_position("AAPL", ClosePositionRequest(qty="4"))
    assert isinstance(by_qty, Order)
    assert (by_qty.qty, by_qty.filled_qty, by_qty.side) == ("4", "4", OrderSide.SELL)
    by_share = client.close_position("AAPL", ClosePositionRequest(percentage="50"))
    assert isinstance(by_share, Order)
    assert by_share.qty == "3"
    assert accounts.get_state(paper.ctx.engine, paper.account_id).positions["AAPL"].qty == 3

    trade(paper, "AAPL", "3", Side.SELL, type=OrderType.LIMIT, limit_price=Decimal("300"))
    closed = models(client.close_all_positions(cancel_orders=True), ClosePositionResponse)
    assert [(c.symbol, c.status) for c in closed] == [("AAPL", 200), ("BTCUSD", 200)]
    assert all(isinstance(c.body, Order) and c.body.status.value == "filled" for c in closed)
    assert client.get_all_positions() == []
    assert accounts.recompute(paper.ctx.engine, paper.account_id) == {}


def test_sdk_errors_for_missing_positions_and_another_accounts_keys(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    trade(paper, "AAPL", "10")
    _, other_keys = paper.open_account()
    other = sdk(paper, other_keys)
    assert other.get_all_positions() == []
    with pytest.raises(APIError) as missing:
        other.get_open_position("AAPL")
    assert (missing.value.status_code, missing.value.code) == (404, 40410000)
    assert missing.value.message == "position does not exist"
    with pytest.raises(APIError) as refused:
        sdk(paper).close_position("AAPL", ClosePositionRequest(qty="11"))
    assert (refused.value.status_code, refused.value.code) == (403, 40310000)
    assert accounts.get_state(paper.ctx.engine, paper.account_id).positions["AAPL"].qty == 10


def test_exercise_a_long_call_through_the_sdk(paper: Paper) -> None:
    paper.quote("AAPL", "190.00", "190.02")
    paper.quote(CALL, "40.00", "40.50")
    trade(paper, CALL, "1")
    client = sdk(paper)
    client.exercise_options_position(CALL)
    state = accounts.get_state(paper.ctx.engine, paper.account_id)
    assert list(state.positions) == ["AAPL"]
    assert (state.positions["AAPL"].qty, state.positions["AAPL"].cost) == (Decimal(100), Decimal(15_000))
    assert state.cash == Decimal(100_000) - 4050 - 15_000
    stock = client.get_open_position("AAPL")
    assert isinstance(stock, Position)
    assert (stock.qty, stock.avg_entry_price) == ("100", "150")
    assert accounts.recompute(paper.ctx.engine, paper.account_id) == {}


def test_assets_and_option_contracts_parse_with_the_sdk_models(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    paper.quote(CALL, "40.00", "40.50")
    client = sdk(paper)

    aapl = client.get_asset("AAPL")
    assert isinstance(aapl, Asset)
    assert (aapl.asset_class, aapl.exchange, str(aapl.id)) == (
        AssetClass.US_EQUITY,
        AssetExchange.NASDAQ,
        asset_id("AAPL"),
    )
    assert client.get_asset(aapl.id) == aapl
    btc = client.get_asset("BTC/USD")
    assert isinstance(btc, Asset)
    assert (btc.asset_class, btc.min_order_size) == (AssetClass.CRYPTO, 1e-9)
    everything = models(client.get_all_assets(), Asset)
    assert len(everything) > 2
    crypto = models(client.get_all_assets(GetAssetsRequest(asset_class=AssetClass.CRYPTO)), Asset)
    assert crypto
    assert {a.asset_class for a in crypto} == {AssetClass.CRYPTO}
    with pytest.raises(APIError) as unknown:
        client.get_asset("ZZZZ")
    assert (unknown.value.status_code, unknown.value.code) == (404, 40410000)

    page = client.get_option_contracts(
        GetOptionContractsRequest(underlying_symbols=["AAPL"], type=ContractType.CALL, strike_price_gte="100")
    )
    assert isinstance(page, OptionContractsResponse)
    assert page.option_contracts is not None
    [contract] = page.option_contracts
    assert isinstance(contract, OptionContract)
    assert page.next_page_token is None
    assert (contract.symbol, contract.strike_price, contract.style) == (CALL, 150.0, ExerciseStyle.AMERICAN)
    assert (contract.close_price, str(contract.underlying_asset_id)) == ("40.25", asset_id("AAPL"))
    assert client.get_option_contract(CALL) == contract
    assert client.get_option_contract(contract.id) == contract
