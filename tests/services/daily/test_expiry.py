"""The option expiry job: golden figures for every cell of the OCC table, AM and PM settlement
of index options, where the settlement price came from, idempotency and what is refused after.

Positions are set up by fills through the kernel (as a trade would leave them); the job runs
after the close of the expiry date. Every case runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propdesk.execution.order_book.requests import OrderRequest
from propdesk.model.instruments import AssetClass
from propdesk.model.orders import OrderType, Side, TimeInForce
from propdesk.services.accounts import commands as accounts
from propdesk.services.daily import expiry
from propdesk.services.errors import Invalid, ServiceError
from propdesk.services.orders import commands as orders
from propdesk.services.orders import positions, trade_updates
from tests.services.daily.desk import AFTER, CALL, DAY, IN_SESSION, PUT, START, Desk

# (contract, position, close of AAPL, action, AAPL qty after, cash after, realized PnL)
OCC_TABLE = [
    # long call: ITM exercised (buys 100 at 150), OTM and ITM by less than a cent expire
    (CALL, "1", "160", "exercise", "100", START - 500 - 15_000, Decimal(-500)),
    (CALL, "1", "140", "expiry", None, START - 500, Decimal(-500)),
    (CALL, "1", "150.009", "expiry", None, START - 500, Decimal(-500)),
    (CALL, "1", "150.01", "exercise", "100", START - 500 - 15_000, Decimal(-500)),
    # long put: ITM exercised (delivers 100 at 150: -100)
    (PUT, "1", "140", "exercise", "-100", START - 500 + 15_000, Decimal(-500)),
    (PUT, "1", "160", "expiry", None, START - 500, Decimal(-500)),
    (PUT, "1", "149.991", "expiry", None, START - 500, Decimal(-500)),
    # short call: ITM assigned (sells 100 at 150)
    (CALL, "-1", "160", "assignment", "-100", START + 500 + 15_000, Decimal(500)),
    (CALL, "-1", "140", "expiry", None, START + 500, Decimal(500)),
    (CALL, "-1", "150.005", "expiry", None, START + 500, Decimal(500)),
    # short put: ITM assigned (buys 100 at 150)
    (PUT, "-1", "140", "assignment", "100", START + 500 - 15_000, Decimal(500)),
    (PUT, "-1", "160", "expiry", None, START + 500, Decimal(500)),
    (PUT, "-1", "149.995", "expiry", None, START + 500, Decimal(500)),
]


@pytest.mark.parametrize(("symbol", "qty", "close", "action", "stock", "cash", "realized"), OCC_TABLE)
def test_every_cell_of_the_occ_table(
    desk: Desk,
    symbol: str,
    qty: str,
    close: str,
    action: str,
    stock: str | None,
    cash: Decimal,
    realized: Decimal,
) -> None:
    desk.hold(symbol, qty, "5.00")
    desk.daily_bar("AAPL", DAY, "150", close)
    report = desk.run()
    assert report.failures == {}
    [settled] = report.settled
    assert (settled.symbol, settled.action, settled.qty) == (symbol, action, Decimal(qty))
    after = desk.state()
    assert symbol not in after.positions
    assert after.cash == cash
    assert after.realized_pnl == realized
    if stock is None:
        assert "AAPL" not in after.positions
    else:
        aapl = after.positions["AAPL"]
        assert aapl.qty == Decimal(stock)
        assert aapl.cost / aapl.qty / aapl.instrument.multiplier == 150  # average cost: the strike
    [payload] = desk.settled_payloads()
    assert payload["action"] == action
    assert (payload["settlement_price"], payload["settlement_source"]) == (close, "daily_bar_close")
    assert accounts.recompute(desk.ctx.engine, desk.account_id) == {}
    assert symbol not in {h.symbol for h in positions.open_positions(desk.ctx, desk.account_id)}


def test_two_contracts_deliver_two_hundred_shares(desk: Desk) -> None:
    desk.hold(CALL, "2", "5.00")
    desk.daily_bar("AAPL", DAY, "150", "170")
    desk.run()
    after = desk.state()
    assert after.positions["AAPL"].qty == 200
    assert after.cash == START - 1000 - 30_000


SPX_AM = "SPX260116C05000000"  # the standard January monthly: AM-settled
SPXW_PM = "SPXW260116C05000000"  # the weekly on the same day: PM-settled
JAN16 = date(2026, 1, 16)


def test_index_options_settle_in_cash_am_monthlies_at_the_open_and_weeklies_at_the_close(desk: Desk) -> None:
    desk.hold(SPX_AM, "1", "50")
    desk.hold(SPXW_PM, "-1", "50")
    desk.daily_bar("SPX", JAN16, "5100", "5030.50")
    report = desk.run(JAN16, datetime(2026, 1, 16, 21, 20, tzinfo=UTC))
    by_symbol = {s.symbol: s for s in report.settled}
    am, pm = by_symbol[SPX_AM], by_symbol[SPXW_PM]
    assert am.settlement == expiry.SettlementPrice(Decimal(5100), "daily_bar_open")
    assert pm.settlement == expiry.SettlementPrice(Decimal("5030.50"), "daily_bar_close")
    assert (am.action, pm.action) == ("exercise", "assignment")
    assert am.cash_delta == 100 * 100  # 5100 - 5000, per contract
    assert pm.cash_delta == Decimal("-3050.00")  # pays 30.50 x 100
    after = desk.state()
    assert after.positions == {}  # cash-settled: no shares delivered
    assert after.cash == START - 5000 + 5000 + 10_000 - Decimal("3050")
    sources = {p["symbol"]: p["settlement_source"] for p in desk.settled_payloads()}
    assert sources == {SPX_AM: "daily_bar_open", SPXW_PM: "daily_bar_close"}
    assert accounts.recompute(desk.ctx.engine, desk.account_id) == {}


def test_without_a_daily_bar_the_last_trade_then_the_quote_mid_decide(desk: Desk) -> None:
    other = desk.open_account()
    desk.hold(CALL, "1", "5")
    desk.hold("MSFT260107C00400000", "1", "5", account_id=other)
    desk.quote("AAPL", datetime(2026, 1, 7, 20, 59, tzinfo=UTC), "159", "161", last="158")
    desk.quote("AAPL", datetime(2026, 1, 7, 20, 59, 30, tzinfo=UTC), "159", "161")
    desk.quote("MSFT", datetime(2026, 1, 7, 20, 59, tzinfo=UTC), "399", "399.02")
    report = desk.run()
    by_symbol = {s.symbol: s for s in report.settled}
    assert by_symbol[CALL].settlement == expiry.SettlementPrice(Decimal(158), "last_trade")
    assert by_symbol["MSFT260107C00400000"].settlement == expiry.SettlementPrice(
        Decimal("399.01"), "quote_mid"
    )
    assert by_symbol["MSFT260107C00400000"].action == "expiry"


def test_an_account_without_any_price_is_reported_and_retried(desk: Desk) -> None:
    desk.hold(CALL, "1", "5")
    first = desk.run()
    assert list(first.failures) == [desk.account_id]
    assert CALL in desk.state().positions
    desk.daily_bar("AAPL", DAY, "150", "155")
    second = desk.run()
    assert [s.action for s in second.settled] == ["exercise"]


def test_running_twice_adds_nothing_and_only_the_expiry_date_is_touched(desk: Desk) -> None:
    later = "AAPL260220C00150000"
    desk.hold(CALL, "1", "5")
    desk.hold(later, "1", "7")
    desk.daily_bar("AAPL", DAY, "150", "160")
    desk.run()
    once = desk.state()
    again = desk.run()
    assert (again.settled, again.accounts_settled, again.failures) == ([], [], {})
    assert desk.state() == once
    assert set(once.positions) == {"AAPL", later}


def test_the_job_refuses_to_run_before_the_close(desk: Desk) -> None:
    with pytest.raises(Invalid) as refused:
        desk.run(at=datetime(2026, 1, 7, 21, 5, tzinfo=UTC))  # 16:05 New York
    assert refused.value.code == "too_early"


def test_an_exercise_short_of_buying_power_is_still_booked(desk: Desk) -> None:
    desk.hold("NVDA260107C00100000", "20", "1")  # delivers 2,000 shares at 100: $200,000
    desk.daily_bar("NVDA", DAY, "100", "130")
    desk.run()
    after = desk.state()
    assert after.positions["NVDA"].qty == 2000
    assert after.cash == START - 2000 - 200_000  # negative cash: margin rules take it from here


def test_an_expired_contract_is_refused_after_the_job(desk: Desk) -> None:
    desk.hold(CALL, "1", "5")
    desk.daily_bar("AAPL", DAY, "150", "160")
    desk.run()
    desk.quote(CALL, AFTER, "9.00", "11.00")
    request = OrderRequest(
        client_order_id="late", symbol=CALL, side=Side.BUY, qty=Decimal(1), asset_class=AssetClass.US_OPTION
    )
    with pytest.raises(ServiceError) as refused:
        orders.submit_order(desk.ctx, desk.account_id, request)
    assert refused.value.code == "contract_expired"
    assert CALL not in desk.state().positions


_BOOK = st.lists(
    st.tuples(
        st.sampled_from([CALL, PUT, "AAPL260107C00155000", "AAPL260107P00145000", "AAPL260220C00150000"]),
        st.integers(min_value=-3, max_value=3).filter(bool),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda item: item[0],
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(book=_BOOK, close=st.sampled_from(["140", "150", "150.005", "152", "160"]))
def test_property_a_second_run_changes_nothing(desk: Desk, book: list[tuple[str, int]], close: str) -> None:
    account_id = desk.open_account()
    desk.clock.current = IN_SESSION
    for symbol, qty in book:
        desk.hold(symbol, str(qty), "2", account_id=account_id)
    desk.daily_bar("AAPL", DAY, "150", close)  # the first example's bar stays (the store keeps it)
    desk.run()
    once = desk.state(account_id)
    assert not any(s.endswith(("260107C00150000", "260107P00150000")) for s in once.positions)
    desk.run()
    assert desk.state(account_id) == once
    assert accounts.recompute(desk.ctx.engine, account_id) == {}


def test_the_settlement_reaches_the_trade_updates(desk: Desk) -> None:
    desk.hold(PUT, "1", "5")
    desk.daily_bar("AAPL", DAY, "150", "140")
    start = trade_updates.latest_id(desk.ctx, desk.account_id)
    desk.run()
    updates = trade_updates.updates_after(desk.ctx, desk.account_id, start)
    assert [(u.event, u.order.symbol, u.qty, u.price, u.position_qty) for u in updates] == [
        ("fill", PUT, Decimal(1), Decimal(0), Decimal(0)),
        ("fill", "AAPL", Decimal(100), Decimal(150), Decimal(-100)),
    ]


def test_open_orders_on_a_settled_contract_are_canceled(desk: Desk) -> None:
    desk.hold(CALL, "2", "5")
    desk.quote(CALL, IN_SESSION, "5.00", "5.20")
    resting = OrderRequest(
        client_order_id="take-profit",
        symbol=CALL,
        side=Side.SELL,
        qty=Decimal(1),
        type=OrderType.LIMIT,
        limit_price=Decimal(50),
        time_in_force=TimeInForce.GTC,
        asset_class=AssetClass.US_OPTION,
    )
    order = orders.submit_order(desk.ctx, desk.account_id, resting).order
    assert order.is_open
    desk.daily_bar("AAPL", DAY, "150", "160")
    desk.run()
    assert orders.list_orders(desk.ctx, desk.account_id, status="open") == []
    after = desk.state()
    assert after.reservations == {}
    assert after.positions["AAPL"].qty == 200
    assert accounts.recompute(desk.ctx.engine, desk.account_id) == {}
