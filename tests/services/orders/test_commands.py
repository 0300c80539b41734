"""Order services on both databases: acceptance, idempotency, cancel, replace, evaluation, catch-up."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from propdesk.execution.order_book.requests import OrderRequest, ReplaceRequest, StopLoss, TakeProfit
from propdesk.model.ids import AccountId, OrderId
from propdesk.model.market import Bar, Quote
from propdesk.model.orders import OrderClass, OrderStatus, OrderType, Side, TimeInForce
from propdesk.services.accounts import lifecycle
from propdesk.services.accounts.commands import get_state, recompute
from propdesk.services.errors import Forbidden, Invalid, NotFound, Refused
from propdesk.services.orders import book_runner
from propdesk.services.orders import commands as orders
from propdesk.services.orders.evaluation import evaluate_account
from propdesk.store.pages import Page
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import Api, build_api
from tests.factories import T0

D = Decimal


def open_account(api: Api, key: str = "o", **overrides: object) -> AccountId:
    row = lifecycle.create_account(
        api.ctx, lifecycle.NewAccount(idempotency_key=key, overrides=dict(overrides))
    )
    lifecycle.start(api.ctx, AccountId(row.id))
    return AccountId(row.id)


def limit_buy(coid: str, qty: str = "10", limit: str = "99", **changes: object) -> OrderRequest:
    fields: dict[str, object] = {
        "client_order_id": coid,
        "symbol": "AAPL",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "qty": D(qty),
        "limit_price": D(limit),
        **changes,
    }
    return OrderRequest(**fields)  # type: ignore[arg-type]


def minute_bars(start: datetime, closes: list[str], symbol: str = "AAPL") -> list[Bar]:
    bars = []
    for i, close in enumerate(closes):
        c = D(close)
        bars.append(
            Bar(symbol, "1Min", start + timedelta(minutes=i), c, c + D("0.5"), c - D("0.5"), c, D(1000))
        )
    return bars


def store_bars(api: Api, bars: list[Bar]) -> None:
    with UnitOfWork(api.ctx.engine) as uow:
        uow.prices.insert_bars(bars)
        uow.commit()


@pytest.fixture
def api(engine: Engine) -> Api:
    return build_api(engine)


def test_a_resting_limit_reserves_then_fills_on_a_bar_and_releases(api: Api) -> None:
    account_id = open_account(api)
    api.quote("AAPL", "100.00", "100.02")
    placed = orders.submit_order(api.ctx, account_id, limit_buy("c1")).order
    assert placed.status is OrderStatus.NEW
    # 10 × 99 at 5x leverage plus the 10 bps fee, rounded up to the cent.
    assert placed.reserved == D("198.99")
    assert get_state(api.ctx.engine, account_id).reserved_for_orders == D("198.99")

    store_bars(api, minute_bars(T0 + timedelta(minutes=1), ["100", "98.8"]))
    api.clock.advance(600)
    result = evaluate_account(api.ctx, account_id)
    assert (result.ticks, result.fills) == (2, 1)
    order, _ = orders.get_order(api.ctx, account_id, OrderId(placed.id))
    # The second bar opens at 98.8, below the limit: it fills at the open (the gap rule).
    assert (order.status, order.filled_qty, order.filled_avg_price) == (OrderStatus.FILLED, D(10), D("98.8"))
    state = get_state(api.ctx.engine, account_id)
    assert state.reserved_for_orders == 0
    assert state.positions["AAPL"].qty == D(10)
    assert recompute(api.ctx.engine, account_id) == {}
    # Evaluating again for the same horizon adds nothing.
    assert evaluate_account(api.ctx, account_id).ticks == 0


def test_a_client_order_id_resubmit_returns_the_order_and_a_different_order_is_refused(api: Api) -> None:
    account_id = open_account(api)
    api.quote("AAPL", "100.00", "100.02")
    first = orders.submit_order(api.ctx, account_id, limit_buy("same"))
    again = orders.submit_order(api.ctx, account_id, limit_buy("same", qty="10.000"))
    assert (again.order.id, again.replayed) == (first.order.id, True)
    with pytest.raises(Invalid) as refused:
        orders.submit_order(api.ctx, account_id, limit_buy("same", qty="11"))
    assert refused.value.code == "duplicate_client_order_id"
    assert get_state(api.ctx.engine, account_id).reserved_for_orders == first.order.reserved


def test_a_marketable_order_fills_at_once_and_a_refusal_stores_nothing(api: Api) -> None:
    account_id = open_account(api, max_order_notional="1000000", max_leverage="1")
    api.quote("AAPL", "100.00", "100.02")
    market = orders.submit_order(
        api.ctx, account_id, OrderRequest(client_order_id="m", symbol="AAPL", side=Side.BUY, qty=D(5))
    ).order
    assert (market.status, market.filled_avg_price) == (OrderStatus.FILLED, D("100.01"))
    before = get_state(api.ctx.engine, account_id)
    with pytest.raises(Forbidden) as refused:
        orders.submit_order(api.ctx, account_id, limit_buy("big", qty="2000", limit="100"))
    assert refused.value.code == "insufficient_buying_power"
    assert get_state(api.ctx.engine, account_id) == before
    with pytest.raises(NotFound):
        orders.get_by_client_id(api.ctx, account_id, "big")


def test_cancel_and_replace_move_the_reservation(api: Api) -> None:
    account_id = open_account(api)
    api.quote("AAPL", "100.00", "100.02")
    placed = orders.submit_order(api.ctx, account_id, limit_buy("r1")).order
    replaced = orders.replace_order(
        api.ctx, account_id, OrderId(placed.id), ReplaceRequest(qty=D(20), limit_price=D("98"))
    )
    assert replaced.replaces == placed.id
    old, _ = orders.get_order(api.ctx, account_id, OrderId(placed.id))
    assert (old.status, old.replaced_by, old.reserved) == (OrderStatus.REPLACED, replaced.id, D(0))
    assert get_state(api.ctx.engine, account_id).reserved_for_orders == replaced.reserved == D("393.96")
    canceled = orders.cancel_order(api.ctx, account_id, OrderId(replaced.id))
    assert canceled.status is OrderStatus.CANCELED
    assert get_state(api.ctx.engine, account_id).reserved_for_orders == 0
    with pytest.raises(Invalid) as again:
        orders.cancel_order(api.ctx, account_id, OrderId(replaced.id))
    assert again.value.code == "order_not_open"
    assert recompute(api.ctx.engine, account_id) == {}


def test_day_orders_expire_at_the_close_and_gtc_orders_stay(api: Api) -> None:
    account_id = open_account(api)
    api.quote("AAPL", "100.00", "100.02")
    day = orders.submit_order(api.ctx, account_id, limit_buy("day", limit="90")).order
    gtc = orders.submit_order(
        api.ctx, account_id, limit_buy("gtc", limit="90", time_in_force=TimeInForce.GTC)
    ).order
    # 2026-01-05 is a Monday: NYSE closes at 16:00 New York time, 21:00 UTC.
    assert day.expires_at == datetime.fromisoformat("2026-01-05T21:00:00+00:00")
    api.clock.advance(8 * 3600)
    evaluate_account(api.ctx, account_id)
    expired, _ = orders.get_order(api.ctx, account_id, OrderId(day.id))
    still, _ = orders.get_order(api.ctx, account_id, OrderId(gtc.id))
    assert (expired.status, expired.expired_at) == (OrderStatus.EXPIRED, day.expires_at)
    assert still.status is OrderStatus.NEW
    assert get_state(api.ctx.engine, account_id).reserved_for_orders == gtc.reserved


def test_a_bracket_exits_at_the_take_profit_and_cancels_the_stop(api: Api) -> None:
    account_id = open_account(api)
    api.quote("AAPL", "100.00", "100.02")
    entry = orders.submit_order(
        api.ctx,
        account_id,
        OrderRequest(
            client_order_id="b",
            symbol="AAPL",
            side=Side.BUY,
            qty=D(5),
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfit(limit_price=D("105")),
            stop_loss=StopLoss(stop_price=D("95")),
        ),
    )
    assert entry.order.status is OrderStatus.FILLED
    assert [leg.status for leg in entry.legs] == [OrderStatus.NEW, OrderStatus.NEW]
    store_bars(api, minute_bars(T0 + timedelta(minutes=1), ["101", "104.8", "106"]))
    api.clock.advance(600)
    evaluate_account(api.ctx, account_id)
    _, legs = orders.get_order(api.ctx, account_id, OrderId(entry.order.id))
    by_role = {leg.leg_role.value if leg.leg_role else "": leg for leg in legs}
    assert by_role["take_profit"].status is OrderStatus.FILLED
    assert by_role["take_profit"].filled_avg_price == D("105")
    assert by_role["stop_loss"].status is OrderStatus.CANCELED
    assert "AAPL" not in get_state(api.ctx.engine, account_id).positions
    assert recompute(api.ctx.engine, account_id) == {}


def test_catch_up_after_downtime_fills_exactly_as_an_evaluator_that_never_stopped(engine: Engine) -> None:
    """Two accounts place the same orders; one is evaluated after every bar, the other once after
    500 bars have arrived. The fills (order, qty, price, time) are identical."""
    api = build_api(engine)
    steady = open_account(api, "steady")
    stopped = open_account(api, "stopped")
    api.quote("AAPL", "100.00", "100.02")
    requests = [
        limit_buy("buy-dip", qty="10", limit="97", time_in_force=TimeInForce.GTC),
        OrderRequest(
            client_order_id="trail",
            symbol="AAPL",
            side=Side.BUY,
            type=OrderType.TRAILING_STOP,
            trail_percent=D("1"),
            qty=D(3),
            time_in_force=TimeInForce.GTC,
        ),
        OrderRequest(
            client_order_id="stop",
            symbol="AAPL",
            side=Side.BUY,
            type=OrderType.STOP,
            stop_price=D("103"),
            qty=D(2),
            time_in_force=TimeInForce.GTC,
        ),
    ]
    for account_id in (steady, stopped):
        for request in requests:
            orders.submit_order(api.ctx, account_id, request)
    # A random-walk minute series over two sessions (with the overnight gap between them).
    rng = random.Random(7)
    price = D("100")
    closes: list[str] = []
    for _ in range(500):
        price = max(D("80"), price + D(rng.randint(-30, 30)) / 100)
        closes.append(str(price))
    start = T0 + timedelta(minutes=1)
    bars = minute_bars(start, closes[:300]) + minute_bars(start + timedelta(days=1), closes[300:])
    for bar in bars:
        store_bars(api, [bar])
        evaluate_account(api.ctx, steady, until=bar.start + timedelta(minutes=1))
    caught_up = evaluate_account(api.ctx, stopped, until=bars[-1].start + timedelta(minutes=1))
    assert caught_up.ticks >= 500
    assert caught_up.delayed is True

    def fills_of(account_id: str) -> list[tuple[str, Decimal, Decimal, datetime]]:
        listed = orders.list_orders(
            api.ctx, AccountId(account_id), status="all", limit=500, newest_first=False
        )
        coid = {o.id: o.client_order_id for o, _ in listed}
        with UnitOfWork(engine, read_only=True) as uow:
            rows = uow.fills.page(account_id, Page(limit=10_000))
        return sorted((coid[r.fill.order_id or ""], r.fill.qty, r.fill.price, r.fill.time) for r in rows)

    assert fills_of(steady) == fills_of(stopped)
    assert len(fills_of(steady)) >= 2
    for account_id in (steady, stopped):
        assert recompute(engine, account_id) == {}


def test_a_roll_closes_then_opens_and_sends_nothing_when_the_close_fails(api: Api) -> None:
    account_id = open_account(api)
    api.quote("MESH26", "5000.00", "5000.25")
    api.quote("MESM26", "5050.00", "5050.25")

    def market(coid: str, symbol: str, side: Side) -> OrderRequest:
        return OrderRequest(client_order_id=coid, symbol=symbol, side=side, qty=D(1))

    orders.submit_order(api.ctx, account_id, market("in", "MESH26", Side.BUY))
    rolled = orders.roll(
        api.ctx, account_id, market("out-h", "MESH26", Side.SELL), market("in-m", "MESM26", Side.BUY)
    )
    assert (rolled.close.status, rolled.open.status) == (OrderStatus.FILLED, OrderStatus.FILLED)
    assert {s: p.qty for s, p in get_state(api.ctx.engine, account_id).positions.items()} == {"MESM26": D(1)}

    before = get_state(api.ctx.engine, account_id)
    with pytest.raises(Refused) as refused:  # no quote for MESU26: the close cannot fill
        orders.roll(
            api.ctx, account_id, market("out-u", "MESU26", Side.SELL), market("in-z", "MESZ26", Side.BUY)
        )
    assert refused.value.code == "roll_close_failed"
    with pytest.raises(NotFound):
        orders.get_by_client_id(api.ctx, account_id, "in-z")
    assert get_state(api.ctx.engine, account_id) == before
    assert recompute(api.ctx.engine, account_id) == {}


def test_a_replacement_that_grows_the_order_passes_the_rule_pack_again(api: Api) -> None:
    row = lifecycle.create_account(
        api.ctx,
        lifecycle.NewAccount(
            idempotency_key="prop",
            rule_pack="topstep-50k-combine",
            overrides={"max_order_notional": "1000000", "max_position_equity_ratio": "10"},
        ),
    )
    lifecycle.start(api.ctx, AccountId(row.id))
    api.quote("MES", "5000", "5000.25")
    request = OrderRequest(
        client_order_id="mes",
        symbol="MES",
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        qty=D(2),
        limit_price=D("4990"),
    )
    placed = orders.submit_order(api.ctx, AccountId(row.id), request).order
    before = get_state(api.ctx.engine, AccountId(row.id))
    with pytest.raises(Forbidden) as refused:
        orders.replace_order(api.ctx, AccountId(row.id), OrderId(placed.id), ReplaceRequest(qty=D(6)))
    assert refused.value.code == "rule:max_contracts"
    assert get_state(api.ctx.engine, AccountId(row.id)) == before
    assert orders.get_order(api.ctx, AccountId(row.id), OrderId(placed.id))[0].status is OrderStatus.NEW
    assert orders.replace_order(
        api.ctx, AccountId(row.id), OrderId(placed.id), ReplaceRequest(qty=D(5))
    ).qty == D(5)


@pytest.mark.parametrize("field", ["symbol", "client_order_id"])
def test_a_numeric_looking_symbol_or_id_is_an_ordinary_string(api: Api, field: str) -> None:
    account_id = open_account(api)
    api.quote("AAPL", "100.00", "100.02")
    request = limit_buy("c1", **{field: "1E9999999"})
    if field == "symbol":
        with pytest.raises(Invalid) as refused:
            orders.submit_order(api.ctx, account_id, request)
        assert refused.value.code == "invalid_symbol"
    else:
        first = orders.submit_order(api.ctx, account_id, request)
        assert orders.submit_order(api.ctx, account_id, request).order.id == first.order.id
        assert book_runner.request_hash(request) != book_runner.request_hash(limit_buy("1e9999999"))


def test_orders_sent_friday_evening_go_live_at_mondays_open_and_fill_on_its_first_quote(api: Api) -> None:
    """Sessions as on Alpaca, through the evaluator: ``accepted`` while closed, ``new`` at 09:30
    (a session-open event, before any quote), filled by the session's first quote and never by an
    after-hours one; a DAY limit that does not fill expires at Monday's close."""
    from propdesk.model.market import Quote
    from propdesk.services.orders import trade_updates

    account_id = open_account(api, max_order_notional="1000000")
    friday_evening = datetime.fromisoformat("2026-01-09T22:00:00+00:00")
    monday_open = datetime.fromisoformat("2026-01-12T14:30:00+00:00")
    monday_close = datetime.fromisoformat("2026-01-12T21:00:00+00:00")
    api.clock.current = friday_evening
    api.quote("AAPL", "101.00", "101.10")
    market = orders.submit_order(
        api.ctx, account_id, OrderRequest(client_order_id="mkt", symbol="AAPL", side=Side.BUY, qty=D(10))
    ).order
    limit = orders.submit_order(api.ctx, account_id, limit_buy("lmt", limit="95")).order
    assert (market.status, limit.status, market.expires_at) == (
        OrderStatus.ACCEPTED,
        OrderStatus.ACCEPTED,
        monday_close,
    )
    with UnitOfWork(api.ctx.engine) as uow:
        for at, bid, ask in (
            ("2026-01-10T15:00:00", "99.00", "99.10"),  # Saturday
            ("2026-01-12T14:29:00", "99.50", "99.60"),  # Monday pre-market
            ("2026-01-12T14:30:02", "100.40", "100.44"),  # the session's first quote
        ):
            uow.prices.write_quote(
                Quote("AAPL", datetime.fromisoformat(f"{at}+00:00"), D(bid), D(ask)), source="test"
            )
        uow.commit()
    api.clock.current = monday_open + timedelta(minutes=5)
    result = evaluate_account(api.ctx, account_id)
    assert (result.ticks, result.fills) == (4, 1)  # the open, three quotes; one fill
    filled, _ = orders.get_order(api.ctx, account_id, OrderId(market.id))
    # The seed policy fills at the mid of the first session quote.
    assert (filled.status, filled.filled_avg_price, filled.filled_at) == (
        OrderStatus.FILLED,
        D("100.42"),
        datetime.fromisoformat("2026-01-12T14:30:02+00:00"),
    )
    updates = [
        (u.event, u.order.client_order_id, u.at) for u in trade_updates.updates_after(api.ctx, account_id, 0)
    ]
    assert updates == [
        ("accepted", "mkt", friday_evening + timedelta(seconds=1)),
        ("accepted", "lmt", friday_evening + timedelta(seconds=1)),
        ("new", "mkt", monday_open),
        ("new", "lmt", monday_open),
        ("fill", "mkt", datetime.fromisoformat("2026-01-12T14:30:02+00:00")),
    ]
    api.clock.current = monday_close + timedelta(minutes=1)
    evaluate_account(api.ctx, account_id)
    expired, _ = orders.get_order(api.ctx, account_id, OrderId(limit.id))
    assert (expired.status, expired.expired_at) == (OrderStatus.EXPIRED, monday_close)
    assert get_state(api.ctx.engine, account_id).reserved_for_orders == 0
    assert recompute(api.ctx.engine, account_id) == {}


def test_a_guard_runs_under_the_lock_after_the_idempotency_check(api: Api) -> None:
    account_id = open_account(api)
    api.quote("AAPL", "100.00", "100.02")
    seen: list[int] = []

    def refuse(uow: UnitOfWork) -> None:
        seen.append(uow.orders.count_open(account_id))
        raise Forbidden("not_now", "the caller's own check refuses")

    before = get_state(api.ctx.engine, account_id)
    with pytest.raises(Forbidden) as refused:
        orders.submit_order(api.ctx, account_id, limit_buy("g1"), guard=refuse)
    assert refused.value.code == "not_now"
    assert get_state(api.ctx.engine, account_id) == before
    with pytest.raises(NotFound):
        orders.get_by_client_id(api.ctx, account_id, "g1")

    placed = orders.submit_order(api.ctx, account_id, limit_buy("g2")).order
    # A resend is answered from the store before the guard is asked.
    again = orders.submit_order(api.ctx, account_id, limit_buy("g2"), guard=refuse)
    assert (again.order.id, again.replayed) == (placed.id, True)
    assert seen == [0]


def test_a_quote_written_after_the_evaluator_passed_its_time_is_still_evaluated_once(api: Api) -> None:
    """Live data arrives late: a quote stamped before the evaluator's last horizon but stored
    after that run (an ingestion poll, a slow writer) still reaches the resting orders, once."""
    account_id = open_account(api)
    api.quote("AAPL", "100.00", "100.02")
    placed = orders.submit_order(api.ctx, account_id, limit_buy("late", limit="99")).order
    stamped = api.clock.advance(1)
    api.clock.advance(1)
    assert evaluate_account(api.ctx, account_id).ticks == 0  # the run passes `stamped` with no quote
    with UnitOfWork(api.ctx.engine) as uow:
        uow.prices.write_quote(Quote("AAPL", stamped, D("98.90"), D("98.95")), source="late")
        uow.commit()
    api.clock.advance(1)
    result = evaluate_account(api.ctx, account_id)
    assert (result.ticks, result.fills) == (1, 1)
    order, _ = orders.get_order(api.ctx, account_id, OrderId(placed.id))
    assert (order.status, order.filled_avg_price) == (OrderStatus.FILLED, D("98.925"))  # mid fills
    api.clock.advance(1)
    assert evaluate_account(api.ctx, account_id).ticks == 0
    assert recompute(api.ctx.engine, account_id) == {}


def test_a_notional_order_is_sized_and_passes_the_rule_pack_like_a_quantity_order(api: Api) -> None:
    row = lifecycle.create_account(
        api.ctx,
        lifecycle.NewAccount(
            idempotency_key="prop-notional",
            rule_pack="topstep-50k-combine",
            overrides={"max_order_notional": "1000000", "max_position_equity_ratio": "10"},
        ),
    )
    account_id = AccountId(row.id)
    lifecycle.start(api.ctx, account_id)
    api.quote("MES", "5000", "5000.25")
    before = get_state(api.ctx.engine, account_id)
    # 35,001.75 buys 7 lots at the ask: over the pack's 5 contracts, as a qty=7 order would be.
    request = OrderRequest(client_order_id="mes-n", symbol="MES", side=Side.BUY, notional=D("35001.75"))
    with pytest.raises(Forbidden) as refused:
        orders.submit_order(api.ctx, account_id, request)
    assert refused.value.code == "rule:max_contracts"
    assert get_state(api.ctx.engine, account_id) == before
