"""Multi-leg option orders on both databases: atomic fills, a missing leg refuses everything."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.execution.multileg import Leg
from propdesk.execution.order_book.requests import OrderRequest
from propdesk.execution.spread_orders import SpreadRequest
from propdesk.model.ids import OrderId
from propdesk.model.market import Quote
from propdesk.model.orders import OrderStatus, OrderType, Side, TimeInForce
from propdesk.services.accounts.commands import get_state, recompute
from propdesk.services.errors import Forbidden, Invalid
from propdesk.services.orders import commands as orders
from propdesk.services.orders.evaluation import evaluate_account
from propdesk.store.tables import fills, ledger_events
from propdesk.store.tables import orders as orders_table
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import Api, build_api
from tests.services.orders.test_commands import open_account

D = Decimal
LONG_PUT = "SPY261218P00500000"
SHORT_PUT = "SPY261218P00510000"
SHORT_CALL = "SPY261218C00550000"
LONG_CALL = "SPY261218C00560000"
QUOTES = {
    LONG_PUT: ("1.00", "1.10"),
    SHORT_PUT: ("2.00", "2.10"),
    SHORT_CALL: ("2.50", "2.60"),
    LONG_CALL: ("1.20", "1.30"),
}
CONDOR = (
    Leg(LONG_PUT, Side.BUY, 1),
    Leg(SHORT_PUT, Side.SELL, 1),
    Leg(SHORT_CALL, Side.SELL, 1),
    Leg(LONG_CALL, Side.BUY, 1),
)


@pytest.fixture
def api(engine: Engine) -> Api:
    return build_api(engine)


def quote_all(api: Api, symbols: list[str]) -> None:
    api.clock.advance(1)
    with UnitOfWork(api.ctx.engine) as uow:
        for symbol in symbols:
            bid, ask = QUOTES[symbol]
            uow.prices.write_quote(Quote(symbol, api.clock(), D(bid), D(ask)), source="test")
        uow.commit()


def counts(engine: Engine, account_id: str) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                sa.select(sa.func.count()).select_from(t).where(t.c.account_id == account_id)
            ).scalar_one()
            for t in (orders_table, fills, ledger_events)
        )  # type: ignore[return-value]


def test_an_iron_condor_fills_all_four_legs_at_once(api: Api) -> None:
    account_id = open_account(api, fee_per_contract="0.65")
    quote_all(api, list(QUOTES))
    done = orders.submit_spread(
        api.ctx, account_id, SpreadRequest(client_order_id="condor", legs=CONDOR, qty=D(2))
    )
    # Net per spread: +1.10 − 2.00 − 2.50 + 1.30 = −2.10, a credit of 2.10.
    assert (done.order.status, done.order.filled_avg_price) == (OrderStatus.FILLED, D("-2.10"))
    assert sorted((leg.symbol, leg.status, leg.filled_avg_price) for leg in done.legs) == sorted(
        [
            (LONG_PUT, OrderStatus.FILLED, D("1.10")),
            (SHORT_PUT, OrderStatus.FILLED, D("2.00")),
            (SHORT_CALL, OrderStatus.FILLED, D("2.50")),
            (LONG_CALL, OrderStatus.FILLED, D("1.30")),
        ]
    )
    state = get_state(api.ctx.engine, account_id)
    assert {s: p.qty for s, p in state.positions.items()} == {
        LONG_PUT: D(2),
        SHORT_PUT: D(-2),
        SHORT_CALL: D(-2),
        LONG_CALL: D(2),
    }
    # Cash: the 420 credit less 8 contracts × 0.65.
    assert state.cash == D(100_000) + D(420) - D("5.20")
    # The condor ties up its maximum loss at the marks: 2 × 10 × 100 − 2 × 2.30 × 100 of value.
    assert state.margin_used == D(2000) - D(460)
    assert recompute(api.ctx.engine, account_id) == {}


def test_a_missing_leg_quote_rejects_the_whole_spread_naming_the_leg(api: Api) -> None:
    account_id = open_account(api)
    quote_all(api, [LONG_PUT, SHORT_PUT, LONG_CALL])  # no quote for the short call
    before = counts(api.ctx.engine, account_id)
    with pytest.raises(Invalid) as refused:
        orders.submit_spread(api.ctx, account_id, SpreadRequest(client_order_id="c", legs=CONDOR, qty=D(1)))
    assert refused.value.code == "leg_quote_missing"
    assert SHORT_CALL in refused.value.message
    assert refused.value.details["leg"] == 2
    assert counts(api.ctx.engine, account_id) == before
    assert get_state(api.ctx.engine, account_id).positions == {}


def test_a_naked_short_call_is_refused_and_a_short_put_needs_cash_for_its_strike(api: Api) -> None:
    account_id = open_account(api, starting_balance="40000")
    quote_all(api, list(QUOTES))
    naked = (Leg(SHORT_CALL, Side.SELL, 1), Leg(SHORT_PUT, Side.SELL, 1))
    with pytest.raises(Forbidden) as refused:
        orders.submit_spread(api.ctx, account_id, SpreadRequest(client_order_id="n", legs=naked, qty=D(1)))
    assert refused.value.code == "uncovered_short_call"
    # A strangle's put side alone: 510 strike × 100 needs 51,000 less the premium; 40,000 is not enough.
    puts = (Leg(SHORT_PUT, Side.SELL, 1), Leg(LONG_PUT, Side.BUY, 1))
    spread = orders.submit_spread(
        api.ctx, account_id, SpreadRequest(client_order_id="p", legs=puts, qty=D(1))
    )
    assert spread.order.status is OrderStatus.FILLED  # a put credit spread risks only its width
    naked_put = orders.submit_order(
        api.ctx,
        account_id,
        OrderRequest(
            client_order_id="np", symbol=SHORT_PUT, side=Side.SELL, qty=D(1), time_in_force=TimeInForce.DAY
        ),
    ).order
    assert naked_put.status is OrderStatus.CANCELED
    assert naked_put.reason == "insufficient buying power at fill time"
    assert get_state(api.ctx.engine, account_id).positions[SHORT_PUT].qty == D(-1)  # from the spread only
    assert recompute(api.ctx.engine, account_id) == {}


def test_a_limit_spread_rests_reserved_then_fills_when_the_quotes_reach_it(api: Api) -> None:
    account_id = open_account(api)
    quote_all(api, list(QUOTES))
    request = SpreadRequest(
        client_order_id="l", legs=CONDOR, qty=D(1), type=OrderType.LIMIT, limit_price=D("-2.20")
    )
    resting = orders.submit_spread(api.ctx, account_id, request).order
    assert resting.status is OrderStatus.NEW
    assert resting.reserved > 0
    assert get_state(api.ctx.engine, account_id).reserved_for_orders == resting.reserved
    QUOTES[SHORT_CALL] = ("2.60", "2.70")  # the credit grows to 2.20
    try:
        quote_all(api, list(QUOTES))
    finally:
        QUOTES[SHORT_CALL] = ("2.50", "2.60")
    evaluate_account(api.ctx, account_id)
    filled, legs = orders.get_order(api.ctx, account_id, OrderId(resting.id))
    assert (filled.status, filled.filled_avg_price) == (OrderStatus.FILLED, D("-2.20"))
    assert all(leg.status is OrderStatus.FILLED for leg in legs)
    assert get_state(api.ctx.engine, account_id).reserved_for_orders == 0
    assert recompute(api.ctx.engine, account_id) == {}
