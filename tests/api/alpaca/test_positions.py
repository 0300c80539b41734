"""/v2 positions over plain HTTP: figures against the kernel, lookups, closes, close-all and exercise.

Positions are built through the order service (market orders after a quote); the routes under
test only read and close them. Every case runs on SQLite and PostgreSQL (the ``paper`` fixture).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from propdesk.accounting.state import AccountState
from propdesk.api.alpaca.wire import asset_id, derived
from propdesk.execution.order_book.requests import OrderRequest
from propdesk.model.ids import AccountId
from propdesk.model.market import Quote
from propdesk.model.orders import OrderType, Side, TimeInForce
from propdesk.services.accounts import commands as accounts
from propdesk.services.orders import commands as orders
from propdesk.services.prop import marking
from propdesk.store.uow import UnitOfWork
from tests.api.alpaca.conftest import Paper

CALL = "AAPL260220C00150000"
PUT = "AAPL260220P00150000"


def trade(paper: Paper, symbol: str, qty: str, side: Side = Side.BUY, **fields: object) -> None:
    """A market order (or whatever ``fields`` say) through the order service."""
    tif = TimeInForce.GTC if "/" in symbol else TimeInForce.DAY
    request = OrderRequest(
        client_order_id=str(uuid.uuid4()),
        symbol=symbol,
        side=side,
        qty=Decimal(qty),
        time_in_force=tif,
        **fields,  # type: ignore[arg-type]
    )
    orders.submit_order(paper.ctx, paper.account_id, request)


def quote_at(paper: Paper, symbol: str, at: datetime, bid: str, ask: str) -> None:
    with UnitOfWork(paper.ctx.engine) as uow:
        uow.prices.write_quote(Quote(symbol, at, Decimal(bid), Decimal(ask)), source="test")
        uow.commit()


def state(paper: Paper, account_id: str | None = None) -> AccountState:
    return accounts.get_state(paper.ctx.engine, AccountId(account_id or paper.account_id))


def test_a_long_position_in_alpacas_shape_with_figures_from_the_kernel(paper: Paper) -> None:
    # Tuesday's close (16:00 ET = 21:00 UTC) sets the day's reference price.
    quote_at(paper, "AAPL", datetime(2026, 1, 6, 20, 59, tzinfo=UTC), "185.00", "185.02")
    paper.quote("AAPL", "187.10", "187.12")
    trade(paper, "AAPL", "10")

    with paper.http() as http:
        listed = http.get("/v2/positions")
        one = http.get("/v2/positions/AAPL")
        lower = http.get("/v2/positions/aapl")
        by_id = http.get(f"/v2/positions/{asset_id('AAPL')}")
    assert listed.status_code == one.status_code == 200
    held = state(paper).positions["AAPL"]
    mark, lastday = Decimal("187.11"), Decimal("185.01")
    assert held.mark == mark
    expected: dict[str, Any] = {
        "asset_id": asset_id("AAPL"),
        "symbol": "AAPL",
        "exchange": "NASDAQ",
        "asset_class": "us_equity",
        "asset_marginable": True,
        "avg_entry_price": "187.12",
        "qty": "10",
        "qty_available": "10",
        "side": "long",
        "market_value": "1871.1",
        "cost_basis": "1871.2",
        "unrealized_pl": "-0.1",
        "unrealized_plpc": derived(Decimal("-0.1") / Decimal("1871.2")),
        # Opened today: the day's P/L is measured from the entry.
        "unrealized_intraday_pl": "-0.1",
        "unrealized_intraday_plpc": derived(Decimal("-0.1") / Decimal("1871.2")),
        "current_price": "187.11",
        "lastday_price": "185.01",
        "change_today": derived((mark - lastday) / lastday),
        "swap_rate": None,
        "avg_entry_swap_rate": None,
        "usd": None,
    }
    assert one.json() == expected
    assert listed.json() == [expected]
    assert lower.json() == by_id.json() == expected
    assert Decimal(expected["unrealized_pl"]) == held.unrealized_pnl
    assert Decimal(expected["market_value"]) == held.market_value


def test_a_position_held_overnight_measures_the_day_from_the_previous_close(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    trade(paper, "AAPL", "10")
    # Thursday 10:00 ET: Wednesday's last quote (mid 187.11) is the reference.
    paper.clock.current = datetime(2026, 1, 8, 15, 0, tzinfo=UTC)
    paper.quote("AAPL", "190.00", "190.02")
    marking.mark_account(paper.ctx, paper.account_id, force=True)

    with paper.http() as http:
        shown = http.get("/v2/positions/AAPL").json()
    assert shown["current_price"] == "190.01"
    assert shown["lastday_price"] == "187.11"
    assert shown["unrealized_pl"] == "28.9"  # (190.01 - 187.12) x 10
    assert shown["unrealized_intraday_pl"] == "29"  # (190.01 - 187.11) x 10
    assert shown["unrealized_intraday_plpc"] == derived(Decimal("29") / Decimal("1871.1"))
    assert Decimal(shown["unrealized_pl"]) == state(paper).positions["AAPL"].unrealized_pnl


def test_a_short_position_has_negative_qty_value_and_cost(paper: Paper) -> None:
    paper.quote("MSFT", "400.00", "400.10")
    trade(paper, "MSFT", "5", Side.SELL)
    with paper.http() as http:
        shown = http.get("/v2/positions/MSFT").json()
    assert shown["side"] == "short"
    assert (shown["qty"], shown["qty_available"]) == ("-5", "-5")
    assert shown["avg_entry_price"] == "400"
    assert shown["cost_basis"] == "-2000"
    assert shown["market_value"] == "-2000.25"  # mark 400.05
    assert shown["unrealized_pl"] == "-0.25"
    assert shown["unrealized_plpc"] == "-0.000125"
    assert shown["lastday_price"] is None
    assert shown["change_today"] is None


def test_crypto_positions_show_the_pair_without_its_slash_and_any_spelling_finds_them(paper: Paper) -> None:
    paper.quote("BTC/USD", "90000", "90010")
    trade(paper, "BTC/USD", "0.5")
    with paper.http() as http:
        shown = [
            http.get(f"/v2/positions/{name}").json()
            for name in ("BTCUSD", "BTC/USD", "BTC%2FUSD", "btcusd", asset_id("BTC/USD"))
        ]
    assert all(s == shown[0] for s in shown)
    assert shown[0]["symbol"] == "BTCUSD"
    assert shown[0]["asset_id"] == asset_id("BTCUSD")
    assert (shown[0]["exchange"], shown[0]["asset_class"]) == ("CRYPTO", "crypto")
    assert shown[0]["asset_marginable"] is False
    assert (shown[0]["qty"], shown[0]["cost_basis"], shown[0]["market_value"]) == ("0.5", "45005", "45002.5")


def test_an_option_position_values_100_shares_per_contract_on_no_exchange(paper: Paper) -> None:
    paper.quote(CALL, "40.00", "40.50")
    trade(paper, CALL, "2")
    with paper.http() as http:
        shown = http.get(f"/v2/positions/{CALL}").json()
    assert (shown["exchange"], shown["asset_class"]) == ("", "us_option")
    assert (shown["avg_entry_price"], shown["cost_basis"]) == ("40.5", "8100")
    assert (shown["current_price"], shown["market_value"]) == ("40.25", "8050")


def test_open_closing_orders_hold_quantity_and_a_close_beyond_it_is_refused(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    trade(paper, "AAPL", "10")
    trade(paper, "AAPL", "4", Side.SELL, type=OrderType.LIMIT, limit_price=Decimal("250"))
    with paper.http() as http:
        assert http.get("/v2/positions/AAPL").json()["qty_available"] == "6"
        too_many = http.delete("/v2/positions/AAPL", params={"qty": "7"})
        everything = http.delete("/v2/positions/AAPL")
        six = http.delete("/v2/positions/AAPL", params={"qty": "6"})
    assert too_many.status_code == 403
    assert too_many.json() == {
        "code": 40310000,
        "message": "insufficient qty available for order (requested: 7, available: 6)",
        "reason": "insufficient_qty_available",
        "available": "6",
        "existing_qty": "10",
        "held_for_orders": "4",
        "symbol": "AAPL",
    }
    assert everything.status_code == 403
    assert six.status_code == 200
    assert (six.json()["side"], six.json()["qty"], six.json()["status"]) == ("sell", "6", "filled")
    assert state(paper).positions["AAPL"].qty == 4


def test_close_by_qty_and_by_percentage_rounds_down_to_the_lot(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    paper.quote(CALL, "40.00", "40.50")
    trade(paper, "AAPL", "10")
    trade(paper, CALL, "3")
    with paper.http() as http:
        by_qty = http.delete("/v2/positions/AAPL", params={"qty": "2.5"}).json()
        third = http.delete("/v2/positions/AAPL", params={"percentage": "33.333333333"}).json()
        half_of_three = http.delete(f"/v2/positions/{CALL}", params={"percentage": "50"}).json()
    assert (by_qty["qty"], by_qty["filled_avg_price"], by_qty["order_type"]) == ("2.5", "187.1", "market")
    assert third["qty"] == "2.499999999"  # 7.5 x 33.333333333% = 2.49999999997..., down to 1e-9
    assert (half_of_three["qty"], half_of_three["side"], half_of_three["time_in_force"]) == (
        "1",
        "sell",
        "day",
    )
    positions = state(paper).positions
    assert positions["AAPL"].qty == Decimal("5.000000001")
    assert positions[CALL].qty == 2


BAD_CLOSES = [
    {"qty": "abc"},
    {"qty": "nan"},
    {"qty": "-1"},
    {"qty": "0"},
    {"qty": "0.0000000001"},
    {"qty": "1", "percentage": "10"},
    {"percentage": "0"},
    {"percentage": "100.5"},
    {"percentage": "12.0000000001"},
    {"percentage": "Infinity"},
    {"percentage": "0.0000000001"},
]


def test_bad_close_parameters_are_a_422_and_change_nothing(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    trade(paper, "AAPL", "10")
    before = state(paper)
    with paper.http() as http:
        replies = [http.delete("/v2/positions/AAPL", params=params) for params in BAD_CLOSES]
    assert [(r.status_code, r.json()["code"]) for r in replies] == [(422, 40010001)] * len(BAD_CLOSES)
    assert state(paper) == before
    assert len(orders.list_orders(paper.ctx, paper.account_id, status="all")) == 1


def test_an_unknown_or_another_accounts_position_does_not_exist(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    trade(paper, "AAPL", "10")
    other_id, other_keys = paper.open_account()
    with paper.http(other_keys) as other, paper.http() as mine:
        assert other.get("/v2/positions").json() == []
        for reply in (
            other.get("/v2/positions/AAPL"),
            other.get(f"/v2/positions/{asset_id('AAPL')}"),
            other.delete("/v2/positions/AAPL"),
            other.post("/v2/positions/AAPL/exercise"),
            mine.get("/v2/positions/MSFT"),
            mine.delete("/v2/positions/MSFT"),
        ):
            assert reply.status_code == 404
            assert reply.json()["code"] == 40410000
            assert reply.json()["message"] == "position does not exist"
        closed = other.delete("/v2/positions")
    assert (closed.status_code, closed.json()) == (207, [])
    assert state(paper).positions["AAPL"].qty == 10
    assert state(paper, other_id).positions == {}


def test_close_all_reports_each_position_and_cancels_orders_first_when_asked(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    paper.quote("BTC/USD", "90000", "90010")
    trade(paper, "AAPL", "10")
    trade(paper, "BTC/USD", "0.25")
    trade(paper, "AAPL", "10", Side.SELL, type=OrderType.LIMIT, limit_price=Decimal("250"))
    with paper.http() as http:
        first = http.delete("/v2/positions")
        assert list(state(paper).positions) == ["AAPL"]
        second = http.delete("/v2/positions", params={"cancel_orders": "True"})
    assert first.status_code == second.status_code == 207
    aapl, btc = first.json()
    assert (aapl["symbol"], aapl["status"]) == ("AAPL", 403)
    assert aapl["body"]["code"] == 40310000
    assert (aapl["body"]["available"], aapl["body"]["held_for_orders"]) == ("0", "10")
    assert (btc["symbol"], btc["status"], btc["body"]["symbol"]) == ("BTCUSD", 200, "BTC/USD")
    assert btc["body"]["status"] == "filled"
    assert btc["order_id"] == btc["body"]["id"]
    [again] = second.json()
    assert (again["symbol"], again["status"], again["body"]["qty"]) == ("AAPL", 200, "10")
    assert state(paper).positions == {}
    assert orders.list_orders(paper.ctx, paper.account_id, status="open") == []
    assert accounts.recompute(paper.ctx.engine, paper.account_id) == {}


def test_exercising_a_long_call_buys_the_shares_at_the_strike(paper: Paper) -> None:
    paper.quote("AAPL", "190.00", "190.02")
    paper.quote(CALL, "40.00", "40.50")
    trade(paper, CALL, "2")
    with paper.http() as http:
        reply = http.post(f"/v2/positions/{asset_id(CALL)}/exercise")
        stock = http.get("/v2/positions/AAPL").json()
    assert (reply.status_code, reply.json()) == (200, {})
    after = state(paper)
    assert list(after.positions) == ["AAPL"]
    assert (stock["qty"], stock["avg_entry_price"], stock["cost_basis"]) == ("200", "150", "30000")
    assert stock["current_price"] == "190.01"
    assert after.cash == Decimal(100_000) - 8100 - 30_000
    assert after.realized_pnl == -8100  # the premium
    assert accounts.recompute(paper.ctx.engine, paper.account_id) == {}


def test_exercising_a_put_sells_at_the_strike_and_what_orders_hold_stays(paper: Paper) -> None:
    paper.quote("AAPL", "140.00", "140.02")
    paper.quote(PUT, "10.00", "10.20")
    trade(paper, PUT, "3")
    trade(paper, PUT, "1", Side.SELL, type=OrderType.LIMIT, limit_price=Decimal("30"))
    with paper.http() as http:
        assert http.post(f"/v2/positions/{PUT}/exercise").status_code == 200
    after = state(paper)
    assert after.positions[PUT].qty == 1
    assert after.positions["AAPL"].qty == -200
    assert after.positions["AAPL"].cost == -30_000
    assert after.cash == Decimal(100_000) - 3060 + 30_000
    assert accounts.recompute(paper.ctx.engine, paper.account_id) == {}


def test_a_cash_settled_index_option_pays_its_intrinsic_value_on_expiry_day(paper: Paper) -> None:
    expiring = "SPXW260107C05000000"  # expires today (Wednesday 2026-01-07), settles on SPX
    later = "SPX260320C05000000"
    paper.quote(expiring, "99.00", "101.00")
    paper.quote(later, "150.00", "152.00")
    trade(paper, expiring, "1")
    trade(paper, later, "1")
    with paper.http() as http:
        no_index_quote = http.post(f"/v2/positions/{expiring}/exercise")
        paper.quote("SPX", "5120.50", "5120.50")
        paid = http.post(f"/v2/positions/{expiring}/exercise")
        european = http.post(f"/v2/positions/{later}/exercise")
    assert (no_index_quote.status_code, no_index_quote.json()["code"]) == (422, 42210000)
    assert paid.status_code == 200
    assert (european.status_code, european.json()["reason"]) == (422, "european_exercise")
    after = state(paper)
    assert list(after.positions) == [later]
    assert after.cash == Decimal(100_000) - 10_100 - 15_200 + 12_050  # intrinsic 120.50 x 100
    assert accounts.recompute(paper.ctx.engine, paper.account_id) == {}


def test_exercise_refuses_shorts_stocks_and_a_closed_market(paper: Paper) -> None:
    paper.quote("AAPL", "187.10", "187.12")
    paper.quote(PUT, "10.00", "10.20")
    paper.quote(CALL, "40.00", "40.50")
    trade(paper, PUT, "1", Side.SELL)
    trade(paper, CALL, "1")
    trade(paper, "AAPL", "1")
    with paper.http() as http:
        short = http.post(f"/v2/positions/{PUT}/exercise")
        stock = http.post("/v2/positions/AAPL/exercise")
        missing = http.post("/v2/positions/AAPL260220C00200000/exercise")
        paper.clock.current = datetime(2026, 1, 7, 22, 0, tzinfo=UTC)  # 17:00 ET
        closed = http.post(f"/v2/positions/{CALL}/exercise")
    assert (short.status_code, short.json()["code"], short.json()["reason"]) == (
        422,
        42210000,
        "short_option_position",
    )
    assert (stock.status_code, stock.json()["reason"]) == (422, "not_an_option")
    assert (missing.status_code, missing.json()["code"]) == (404, 40410000)
    assert (closed.status_code, closed.json()["reason"]) == (422, "market_closed")
    positions = state(paper).positions
    assert [positions[s].qty for s in (PUT, CALL, "AAPL")] == [-1, 1, 1]
