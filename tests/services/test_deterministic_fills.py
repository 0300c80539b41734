"""``pd-fill-`` and ``pd-reject-`` orders through the services on both databases: outside market
hours they fill (or are rejected) at once, through the normal reservation, fill, ledger and
trade-update paths, and recompute finds no drift."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from propdesk.execution.order_book.requests import OrderRequest, StopLoss, TakeProfit
from propdesk.model.ids import AccountId, OrderId
from propdesk.model.orders import OrderClass, OrderStatus, OrderType, Side, TimeInForce
from propdesk.services.accounts import lifecycle
from propdesk.services.accounts.commands import get_state, recompute
from propdesk.services.errors import Forbidden, Invalid, NotFound
from propdesk.services.orders import commands as orders
from propdesk.services.orders import trade_updates
from propdesk.settings import Settings
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import Api, build_api

D = Decimal
SATURDAY = datetime(2026, 1, 10, 17, 0, tzinfo=UTC)  # the NYSE is closed


@pytest.fixture
def api(engine: Engine) -> Api:
    built = build_api(engine)
    built.clock.current = SATURDAY
    return built


def paper_account(api: Api, key: str = "p") -> AccountId:
    row = lifecycle.create_account(api.ctx, lifecycle.NewAccount(preset="paper", idempotency_key=key))
    account_id = AccountId(row.id)
    lifecycle.start(api.ctx, account_id)
    return account_id


def buy(coid: str, qty: str = "10", kind: OrderType = OrderType.MARKET, **fields: object) -> OrderRequest:
    values: dict[str, object] = {
        "client_order_id": coid,
        "symbol": "AAPL",
        "side": Side.BUY,
        "type": kind,
        "qty": D(qty),
        **fields,
    }
    return OrderRequest(**values)  # type: ignore[arg-type]


def events(api: Api, account_id: AccountId) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """(event, client order id, qty, price, position qty) of every stored trade update."""
    return [
        (
            u.event,
            u.order.client_order_id,
            None if u.qty is None else str(u.qty),
            None if u.price is None else str(u.price),
            None if u.position_qty is None else str(u.position_qty),
        )
        for u in trade_updates.updates_after(api.ctx, account_id, 0)
    ]


def ledger_types(api: Api, account_id: AccountId) -> list[str]:
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        return [e.type for e in uow.accounts.load_events(account_id)]


def test_pd_fill_market_fills_on_a_saturday_at_the_quotes_ask(api: Api) -> None:
    account_id = paper_account(api)
    api.quote("AAPL", "100.00", "100.02")  # Saturday 17:00:01, outside any session
    placed = orders.submit_order(api.ctx, account_id, buy("pd-fill-m")).order
    assert (placed.status, placed.filled_qty, placed.filled_avg_price, placed.reserved) == (
        OrderStatus.FILLED,
        D(10),
        D("100.02"),
        D(0),
    )
    state = get_state(api.ctx.engine, account_id)
    assert (state.cash, state.positions["AAPL"].qty, state.reserved_for_orders) == (
        D("98999.80"),  # 100,000 − 10 × 100.02, no fee on the paper preset
        D(10),
        D(0),
    )
    assert events(api, account_id) == [
        ("new", "pd-fill-m", None, None, None),
        ("fill", "pd-fill-m", "10", "100.02", "10"),
    ]
    assert recompute(api.ctx.engine, account_id) == {}
    # Sending it again returns the stored order: no second fill.
    again = orders.submit_order(api.ctx, account_id, buy("pd-fill-m"))
    assert (again.replayed, again.order.id) == (True, placed.id)
    assert get_state(api.ctx.engine, account_id).positions["AAPL"].qty == D(10)


def test_pd_fill_limit_without_a_quote_fills_at_its_limit_and_a_plain_order_waits(api: Api) -> None:
    account_id = paper_account(api)
    limit = orders.submit_order(
        api.ctx, account_id, buy("pd-fill-l", "4", OrderType.LIMIT, limit_price=D("250.5"))
    )
    assert (limit.order.status, limit.order.filled_avg_price) == (OrderStatus.FILLED, D("250.5"))
    plain = orders.submit_order(
        api.ctx, account_id, buy("plain", "4", OrderType.LIMIT, limit_price=D("250.5"))
    )
    assert (plain.order.status, plain.order.filled_qty) == (OrderStatus.ACCEPTED, D(0))
    assert [e[0] for e in events(api, account_id)] == ["new", "fill", "accepted"]
    state = get_state(api.ctx.engine, account_id)
    assert (state.cash, state.positions["AAPL"].qty) == (D(100_000) - D("1002.0"), D(4))
    assert state.reserved_for_orders == plain.order.reserved > 0
    assert recompute(api.ctx.engine, account_id) == {}


def test_pd_fill_market_without_a_quote_is_refused_and_nothing_is_stored(api: Api) -> None:
    account_id = paper_account(api)
    before = get_state(api.ctx.engine, account_id)
    with pytest.raises(Invalid) as refused:
        orders.submit_order(api.ctx, account_id, buy("pd-fill-none"))
    assert refused.value.code == "price_missing"
    assert get_state(api.ctx.engine, account_id) == before
    with pytest.raises(NotFound):
        orders.get_by_client_id(api.ctx, account_id, "pd-fill-none")
    assert events(api, account_id) == []


def test_pd_fill_beyond_buying_power_is_refused_like_any_order(api: Api) -> None:
    account_id = paper_account(api)
    with pytest.raises(Forbidden) as refused:
        orders.submit_order(
            api.ctx, account_id, buy("pd-fill-big", "3000", OrderType.LIMIT, limit_price=D(100))
        )
    assert refused.value.code == "insufficient_buying_power"
    assert events(api, account_id) == []


def test_pd_fill_bracket_fills_the_entry_and_its_exits_rest(api: Api) -> None:
    account_id = paper_account(api)
    placed = orders.submit_order(
        api.ctx,
        account_id,
        buy(
            "pd-fill-b",
            "10",
            OrderType.LIMIT,
            limit_price=D(100),
            time_in_force=TimeInForce.GTC,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfit(limit_price=D(110)),
            stop_loss=StopLoss(stop_price=D(95)),
        ),
    )
    assert placed.order.status is OrderStatus.FILLED
    _, legs = orders.get_order(api.ctx, account_id, OrderId(placed.order.id))
    assert sorted((leg.type, leg.status, leg.qty) for leg in legs) == [
        (OrderType.LIMIT, OrderStatus.NEW, D(10)),
        (OrderType.STOP, OrderStatus.NEW, D(10)),
    ]
    assert recompute(api.ctx.engine, account_id) == {}


def test_pd_reject_is_rejected_at_once_and_changes_nothing_but_its_record(api: Api) -> None:
    account_id = paper_account(api)
    api.quote("AAPL", "100.00", "100.02")
    before = get_state(api.ctx.engine, account_id)
    rejected = orders.submit_order(
        api.ctx, account_id, buy("pd-reject-1", "10", OrderType.LIMIT, limit_price=D(99))
    )
    assert (rejected.order.status, rejected.order.reserved, rejected.order.reason) == (
        OrderStatus.REJECTED,
        D(0),
        "rejected on request (client_order_id prefix pd-reject-)",
    )
    stored, _ = orders.get_order(api.ctx, account_id, OrderId(rejected.order.id))
    assert (stored.status, stored.failed_at) == (OrderStatus.REJECTED, SATURDAY.replace(second=1))
    after = get_state(api.ctx.engine, account_id)
    assert (after.cash, after.positions, after.reserved_for_orders) == (before.cash, before.positions, D(0))
    assert events(api, account_id) == [("rejected", "pd-reject-1", None, None, None)]
    # The reservation went through the kernel and came back.
    assert ledger_types(api, account_id)[-2:] == ["funds_reserved", "reservation_released"]
    assert recompute(api.ctx.engine, account_id) == {}
    assert orders.list_orders(api.ctx, account_id, status="open") == []


def test_an_account_under_a_rule_pack_refuses_deterministic_outcomes(api: Api) -> None:
    """A prop-firm evaluation is judged on real fills: a pd-fill- limit at any price would pass it."""
    row = lifecycle.create_account(
        api.ctx, lifecycle.NewAccount(idempotency_key="prop", rule_pack="topstep-50k-combine")
    )
    account_id = AccountId(row.id)
    lifecycle.start(api.ctx, account_id)
    for coid in ("pd-fill-cheap", "pd-reject-x"):
        with pytest.raises(Forbidden) as refused:
            orders.submit_order(
                api.ctx,
                account_id,
                OrderRequest(
                    client_order_id=coid,
                    symbol="MES",
                    side=Side.BUY,
                    type=OrderType.LIMIT,
                    time_in_force=TimeInForce.GTC,
                    qty=D(1),
                    limit_price=D("1000"),
                ),
            )
        assert refused.value.code == "forced_outcome_not_allowed"
    assert events(api, account_id) == []


def test_an_operator_can_turn_forced_outcomes_off(engine: Engine) -> None:
    api = build_api(engine, Settings(forced_outcomes=False))
    api.clock.current = SATURDAY
    account_id = paper_account(api)
    api.quote("AAPL", "100.00", "100.02")
    before = get_state(api.ctx.engine, account_id)
    with pytest.raises(Forbidden) as refused:
        orders.submit_order(api.ctx, account_id, buy("pd-fill-1", kind=OrderType.LIMIT, limit_price=D(99)))
    assert refused.value.code == "forced_outcome_not_allowed"
    assert get_state(api.ctx.engine, account_id) == before
