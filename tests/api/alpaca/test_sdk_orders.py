"""The real alpaca-py ``TradingClient`` against a live propdesk: orders and the account.

Every call goes through the SDK unchanged (``url_override``), so each response is also checked
by the SDK's own models; the figures are checked against the account kernel's state.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import (
    AccountStatus,
    OrderClass,
    OrderSide,
    OrderStatus,
    OrderType,
    QueryOrderStatus,
    TimeInForce,
)
from alpaca.trading.models import AccountConfiguration, Order, TradeAccount
from alpaca.trading.requests import (
    GetOrderByIdRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    OptionLegRequest,
    ReplaceOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
)

from propdesk.api.alpaca.wire import dec
from propdesk.services.access.api_keys import KeyPair
from propdesk.services.accounts.commands import get_state
from tests.api.alpaca.conftest import Paper

CALL_LONG = "AAPL260220C00100000"
CALL_SHORT = "AAPL260220C00110000"


def sdk(paper: Paper, keys: KeyPair | None = None) -> TradingClient:
    keys = keys or paper.keys
    return TradingClient(keys.key_id, keys.secret_key, paper=True, url_override=paper.url)


def market(symbol: str, qty: float, side: OrderSide = OrderSide.BUY, **extra: object) -> MarketOrderRequest:
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY, **extra)


def limit(
    symbol: str, qty: float, price: float, side: OrderSide = OrderSide.BUY, **extra: object
) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.GTC, limit_price=price, **extra
    )


def as_order(value: object) -> Order:
    assert isinstance(value, Order)
    return value


def test_market_buy_fills_at_the_ask_and_the_account_shows_the_kernel_figures(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")
    order = as_order(client.submit_order(market("AAPL", 10, client_order_id="first-buy")))
    assert order.status is OrderStatus.FILLED
    assert order.order_class is OrderClass.SIMPLE
    assert (order.symbol, order.qty, order.filled_qty, order.filled_avg_price) == (
        "AAPL",
        "10",
        "10",
        "100.02",
    )
    assert order.client_order_id == "first-buy"

    account = client.get_account()
    assert isinstance(account, TradeAccount)
    state = get_state(paper.ctx.engine, paper.account_id)
    assert account.id == UUID(paper.account_id)
    assert account.status is AccountStatus.ACTIVE
    assert account.account_number.startswith("PA")
    assert len(account.account_number) == 12
    assert account.cash == "98999.8" == dec(state.cash)
    assert account.equity == account.portfolio_value == dec(state.equity)
    assert account.buying_power == dec(state.buying_power)
    assert account.initial_margin == dec(state.margin_used)
    assert Decimal(account.cash) + Decimal(account.long_market_value or "0") == Decimal(account.equity or "")
    assert account.short_market_value == "0"
    assert account.multiplier == "2"
    assert account.last_equity == "100000"


def test_a_limit_order_rests_and_holds_buying_power(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")
    order = as_order(client.submit_order(limit("AAPL", 5, 95)))
    assert (order.status, order.type, order.limit_price, order.filled_qty) == (
        OrderStatus.NEW,
        OrderType.LIMIT,
        "95",
        "0",
    )
    account = client.get_account()
    assert isinstance(account, TradeAccount)
    # 5 × 95 at 2x margin holds 237.5 of equity: (100,000 − 237.5) × 2 of buying power is left.
    assert account.buying_power == "199525"
    assert account.non_marginable_buying_power == "99762.5"


def test_a_stop_order_waits_for_its_trigger(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")
    order = as_order(
        client.submit_order(
            StopOrderRequest(
                symbol="AAPL", qty=3, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, stop_price=105
            )
        )
    )
    assert (order.status, order.type, order.stop_price, order.limit_price) == (
        OrderStatus.NEW,
        OrderType.STOP,
        "105",
        None,
    )


def test_a_bracket_lists_its_exits_nested_or_on_their_own(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")
    entry = as_order(
        client.submit_order(
            limit(
                "AAPL",
                5,
                99.5,
                order_class=OrderClass.BRACKET,
                take_profit=TakeProfitRequest(limit_price=110),
                stop_loss=StopLossRequest(stop_price=90, limit_price=89.5),
            )
        )
    )
    assert entry.order_class is OrderClass.BRACKET
    assert entry.legs is not None
    exits = sorted(entry.legs, key=lambda leg: str(leg.type))
    assert [(leg.type, leg.side, leg.status, leg.limit_price, leg.stop_price) for leg in exits] == [
        (OrderType.LIMIT, OrderSide.SELL, OrderStatus.HELD, "110", None),
        (OrderType.STOP_LIMIT, OrderSide.SELL, OrderStatus.HELD, "89.5", "90"),
    ]

    flat = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))
    assert isinstance(flat, list)
    assert {str(o.id) for o in flat} == {str(entry.id), *(str(leg.id) for leg in exits)}
    assert all(o.legs is None for o in flat)

    nested = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True))
    assert isinstance(nested, list)
    assert [o.id for o in nested] == [entry.id]
    assert nested[0].legs is not None
    assert {leg.id for leg in nested[0].legs} == {leg.id for leg in exits}

    alone = as_order(client.get_order_by_id(entry.id))
    assert alone.legs is None
    rolled = as_order(client.get_order_by_id(entry.id, GetOrderByIdRequest(nested=True)))
    assert rolled.legs is not None
    assert len(rolled.legs) == 2


def test_an_oco_order_protects_an_existing_position(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")
    client.submit_order(market("AAPL", 10))
    oco = as_order(
        client.submit_order(
            LimitOrderRequest(
                symbol="AAPL",
                qty=10,
                side=OrderSide.SELL,
                time_in_force=TimeInForce.GTC,
                order_class=OrderClass.OCO,
                take_profit=TakeProfitRequest(limit_price=110),
                stop_loss=StopLossRequest(stop_price=90),
            )
        )
    )
    assert (oco.order_class, oco.type, oco.side, oco.limit_price, oco.status) == (
        OrderClass.OCO,
        OrderType.LIMIT,
        OrderSide.SELL,
        "110",
        OrderStatus.NEW,
    )
    assert oco.legs is not None
    assert [(leg.type, leg.stop_price, leg.qty) for leg in oco.legs] == [(OrderType.STOP, "90", "10")]
    account = client.get_account()
    assert isinstance(account, TradeAccount)
    assert account.buying_power == dec(get_state(paper.ctx.engine, paper.account_id).buying_power)


def test_a_call_spread_fills_all_legs_at_the_net_price(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote(CALL_LONG, "5.00", "5.20")
    paper.quote(CALL_SHORT, "1.00", "1.10")
    spread = as_order(
        client.submit_order(
            LimitOrderRequest(
                qty=2,
                order_class=OrderClass.MLEG,
                time_in_force=TimeInForce.DAY,
                limit_price=4.5,
                legs=[
                    OptionLegRequest(symbol=CALL_LONG, ratio_qty=1, side=OrderSide.BUY),
                    OptionLegRequest(symbol=CALL_SHORT, ratio_qty=1, position_intent="sell_to_open"),
                ],
            )
        )
    )
    assert (spread.order_class, spread.status, spread.symbol, spread.side) == (
        OrderClass.MLEG,
        OrderStatus.FILLED,
        None,
        None,
    )
    assert spread.filled_avg_price == "4.2"  # 5.20 paid, 1.00 received
    assert spread.legs is not None
    legs = {leg.symbol: leg for leg in spread.legs}
    assert {
        s: (leg.side, leg.ratio_qty, leg.filled_qty, leg.filled_avg_price) for s, leg in legs.items()
    } == {
        CALL_LONG: (OrderSide.BUY, "1", "2", "5.2"),
        CALL_SHORT: (OrderSide.SELL, "1", "2", "1"),
    }
    # The legs are only shown under their order, never listed on their own.
    listed = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))
    assert isinstance(listed, list)
    assert [o.id for o in listed] == [spread.id]
    assert listed[0].legs is not None
    assert len(listed[0].legs) == 2


def test_get_orders_filters_as_alpaca_does(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")
    paper.quote("MSFT", "399.9", "400.1")
    start = paper.clock()
    bought = as_order(client.submit_order(market("AAPL", 1)))
    paper.clock.advance(60)
    resting = as_order(client.submit_order(limit("AAPL", 2, 90)))
    paper.clock.advance(60)
    sold = as_order(client.submit_order(limit("MSFT", 1, 500, OrderSide.SELL)))
    middle = start + timedelta(seconds=30)

    def ids(**filters: object) -> list[UUID]:
        found = client.get_orders(GetOrdersRequest(**filters))
        assert isinstance(found, list)
        return [o.id for o in found]

    assert ids() == [sold.id, resting.id]  # open by default, newest first
    assert ids(status=QueryOrderStatus.CLOSED) == [bought.id]
    assert ids(status=QueryOrderStatus.ALL, direction="asc") == [bought.id, resting.id, sold.id]
    assert ids(status=QueryOrderStatus.ALL, symbols=["AAPL"]) == [resting.id, bought.id]
    assert ids(status=QueryOrderStatus.ALL, side=OrderSide.SELL) == [sold.id]
    assert ids(status=QueryOrderStatus.ALL, after=middle) == [sold.id, resting.id]
    assert ids(status=QueryOrderStatus.ALL, until=middle) == [bought.id]
    assert ids(status=QueryOrderStatus.ALL, limit=1) == [sold.id]


def test_get_order_by_id_and_by_client_order_id(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")
    placed = as_order(client.submit_order(limit("AAPL", 2, 90, client_order_id="bot-7:entry")))
    by_id = as_order(client.get_order_by_id(placed.id))
    by_client = as_order(client.get_order_by_client_id("bot-7:entry"))
    assert by_id.model_dump() == by_client.model_dump() == placed.model_dump()


def test_replace_makes_a_new_order_that_replaces_the_old(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")
    old = as_order(client.submit_order(limit("AAPL", 2, 90)))
    new = as_order(client.replace_order_by_id(old.id, ReplaceOrderRequest(qty=3, limit_price=91.25)))
    assert new.id != old.id
    assert (new.replaces, new.qty, new.limit_price, new.status) == (old.id, "3", "91.25", OrderStatus.NEW)
    replaced = as_order(client.get_order_by_id(old.id))
    assert (replaced.status, replaced.replaced_by) == (OrderStatus.REPLACED, new.id)
    account = client.get_account()
    assert isinstance(account, TradeAccount)
    # Only the new order holds: 3 × 91.25 / 2 = 136.875, reserved rounded up to 136.88.
    assert account.buying_power == "199726.24"


def test_cancel_one_then_all(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")
    first = as_order(client.submit_order(limit("AAPL", 1, 90)))
    second = as_order(client.submit_order(limit("AAPL", 1, 91)))
    third = as_order(client.submit_order(limit("AAPL", 1, 92)))
    client.cancel_order_by_id(first.id)  # 204: the SDK returns nothing
    assert as_order(client.get_order_by_id(first.id)).status is OrderStatus.CANCELED
    responses = client.cancel_orders()
    assert isinstance(responses, list)
    assert {(r.id, r.status) for r in responses} == {(second.id, 200), (third.id, 200)}
    assert client.get_orders() == []
    account = client.get_account()
    assert isinstance(account, TradeAccount)
    assert account.buying_power == "200000"


def error_of(call: object) -> APIError:
    assert callable(call)
    with pytest.raises(APIError) as raised:
        call()
    return raised.value


def test_refusals_reach_the_sdk_with_alpacas_status_and_code(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")

    poor = error_of(lambda: client.submit_order(limit("AAPL", 10_000, 100)))
    assert (poor.status_code, poor.code, poor.message) == (403, 40310000, "insufficient buying power")
    assert poor._error is not None
    assert '"buying_power":"200000"' in poor._error
    assert '"cost_basis":"1000000"' in poor._error

    missing = error_of(lambda: client.get_order_by_id("00000000-0000-4000-8000-000000000000"))
    assert (missing.status_code, missing.code, missing.message) == (404, 40410000, "order not found")

    client.submit_order(limit("AAPL", 1, 90, client_order_id="once"))
    again = error_of(lambda: client.submit_order(limit("AAPL", 2, 90, client_order_id="once")))
    assert (again.status_code, again.code) == (422, 42210000)
    assert again.message == "client_order_id must be unique"

    fractional_limit = error_of(lambda: client.submit_order(limit("AAPL", 0.0000000001, 90)))
    assert fractional_limit.status_code == 422


def test_one_key_pair_never_sees_another_accounts_orders(paper: Paper) -> None:
    mine = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")
    order = as_order(mine.submit_order(limit("AAPL", 1, 90, client_order_id="private")))
    _, other_keys = paper.open_account()
    other = sdk(paper, other_keys)
    assert other.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL)) == []
    for call in (
        lambda: other.get_order_by_id(order.id),
        lambda: other.get_order_by_client_id("private"),
        lambda: other.cancel_order_by_id(order.id),
        lambda: other.replace_order_by_id(order.id, ReplaceOrderRequest(limit_price=91)),
    ):
        refused = error_of(call)
        assert (refused.status_code, refused.code) == (404, 40410000)
    assert other.cancel_orders() == []
    assert as_order(mine.get_order_by_id(order.id)).status is OrderStatus.NEW
    # The same client order id is free in another account.
    assert as_order(other.submit_order(limit("AAPL", 1, 90, client_order_id="private"))).id != order.id


def test_configurations_round_trip_and_suspend_trade_refuses_orders(paper: Paper) -> None:
    client = sdk(paper)
    paper.quote("AAPL", "99.98", "100.02")
    config = client.get_account_configurations()
    assert isinstance(config, AccountConfiguration)
    assert (
        config.no_shorting,
        config.suspend_trade,
        config.fractional_trading,
        config.max_margin_multiplier,
    ) == (
        False,
        False,
        True,
        "2",
    )
    changed = client.set_account_configurations(config.model_copy(update={"suspend_trade": True}))
    assert isinstance(changed, AccountConfiguration)
    assert changed.suspend_trade is True
    assert client.get_account_configurations() == changed
    account = client.get_account()
    assert isinstance(account, TradeAccount)
    assert account.trade_suspended_by_user is True

    refused = error_of(lambda: client.submit_order(market("AAPL", 1)))
    assert (refused.status_code, refused.code) == (403, 40310000)
    client.set_account_configurations(
        changed.model_copy(update={"suspend_trade": False, "no_shorting": True})
    )
    short = error_of(lambda: client.submit_order(market("AAPL", 1, OrderSide.SELL)))
    assert (short.status_code, short.code) == (403, 40310000)
    assert "not allowed to short" in short.message
    client.submit_order(market("AAPL", 3))
    assert as_order(client.submit_order(market("AAPL", 3, OrderSide.SELL))).status is OrderStatus.FILLED
