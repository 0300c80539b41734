"""Golden tests for order classes (bracket, OTO, OCO) and for cancel and replace."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from propdesk.execution.order_book.book import OrderBook
from propdesk.execution.order_book.requests import OrderRequest, ReplaceRequest, StopLoss, TakeProfit
from propdesk.model.instruments import AssetClass
from propdesk.model.orders import (
    Direction,
    LegRole,
    Order,
    OrderClass,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
)
from propdesk.model.policy import ExecutionPolicy, FillModelName
from propdesk.services.orders.book_runner import session_view
from tests.execution.factories import T0
from tests.execution.order_book.test_book import (
    FRESH,
    MINUTE,
    assert_reservations_agree,
    bar,
    bar_tick,
    close_tick,
    events_of,
    long_aapl,
    new_book,
    q,
    refused,
    request,
    submit,
)

D = Decimal
SHARE = ExecutionPolicy(fill_model=FillModelName.VOLUME_SHARE, participation_rate=D("0.1"), impact_bps=D(0))
OPEN = session_view(AssetClass.US_EQUITY, T0)


def legs(book: OrderBook, parent: Order) -> dict[LegRole, Order]:
    return {o.leg_role: o for o in book.orders.values() if o.parent_id == parent.id and o.leg_role}


def bracket(
    qty: str = "10",
    *,
    limit: str | None = None,
    take_profit: str = "105",
    stop_loss: str = "95",
    stop_limit: str | None = None,
    side: Side = Side.BUY,
    tif: TimeInForce = TimeInForce.GTC,
    order_class: OrderClass = OrderClass.BRACKET,
) -> OrderRequest:
    return request(
        side,
        qty,
        OrderType.MARKET if limit is None else OrderType.LIMIT,
        limit=limit,
        tif=tif,
        order_class=order_class,
        take_profit=TakeProfit(limit_price=D(take_profit)),
        stop_loss=StopLoss(
            stop_price=D(stop_loss), limit_price=None if stop_limit is None else D(stop_limit)
        ),
        client_order_id=f"{order_class.value}-{qty}-{limit}",
    )


# --- bracket ------------------------------------------------------------------------------------


def test_a_filled_bracket_entry_releases_its_exits_and_the_take_profit_cancels_the_stop() -> None:
    book = new_book()
    entry = submit(book, bracket())
    assert entry.status is OrderStatus.FILLED
    exits = legs(book, entry)
    tp, sl = exits[LegRole.TAKE_PROFIT], exits[LegRole.STOP_LOSS]
    assert (tp.status, tp.type, tp.side, tp.qty, tp.limit_price) == (
        OrderStatus.NEW,
        OrderType.LIMIT,
        Side.SELL,
        D(10),
        D(105),
    )
    assert (sl.status, sl.type, sl.stop_price) == (OrderStatus.NEW, OrderType.STOP, D(95))
    assert tp.reserved == sl.reserved == 0  # exits reserve nothing
    book.on_tick(bar_tick(bar("104", "106", "103.50", "105.50", minute=1)))
    tp, sl = book.orders[tp.id], book.orders[sl.id]
    assert (tp.status, tp.filled_avg_price) == (OrderStatus.FILLED, D(105))
    assert (sl.status, sl.reason) == (OrderStatus.CANCELED, f"other leg {tp.id} filled")
    assert "AAPL" not in book.state.positions
    assert_reservations_agree(book)


def test_bracket_exits_are_held_until_the_entry_fills_completely_and_skip_the_filling_bar() -> None:
    book = new_book(policy=SHARE)
    entry = submit(book, bracket(limit="99"))
    exits = legs(book, entry)
    assert {o.status for o in exits.values()} == {OrderStatus.HELD}
    assert entry.reserved == D("198.99")
    # 4 of 10 fill: the exits stay held (and ignore the bar, which is far below their stop).
    book.on_tick(bar_tick(bar("98", "98", "90", "91", minute=1, volume="40")))
    assert book.orders[entry.id].filled_qty == D(4)
    assert {book.orders[o.id].status for o in exits.values()} == {OrderStatus.HELD}
    # The rest fills at the open of a bar that also trades below the stop: the exits become
    # active for all 10, but only from the next event on.
    book.on_tick(bar_tick(bar("98", "98", "94", "94.50", minute=2, volume="1000")))
    assert book.orders[entry.id].status is OrderStatus.FILLED
    sl = book.orders[exits[LegRole.STOP_LOSS].id]
    assert (sl.status, sl.qty, sl.active_from, sl.filled_qty) == (
        OrderStatus.NEW,
        D(10),
        T0 + 3 * MINUTE,
        D(0),
    )
    # A gap down through the stop: sold at the open.
    book.on_tick(bar_tick(bar("93", "93.50", "92", "93", minute=3, volume="1000")))
    sl, tp = book.orders[sl.id], book.orders[exits[LegRole.TAKE_PROFIT].id]
    assert (sl.status, sl.filled_avg_price) == (OrderStatus.FILLED, D(93))
    assert tp.status is OrderStatus.CANCELED
    assert "AAPL" not in book.state.positions
    assert_reservations_agree(book)


def test_a_bracket_exit_partially_filled_shrinks_the_other_exit() -> None:
    book = new_book(policy=SHARE)
    entry = submit(book, bracket())
    exits = legs(book, entry)
    book.on_tick(bar_tick(bar("105", "106", "104", "105", minute=1, volume="30")))  # 3 at the take-profit
    tp, sl = book.orders[exits[LegRole.TAKE_PROFIT].id], book.orders[exits[LegRole.STOP_LOSS].id]
    assert (tp.status, tp.filled_qty) == (OrderStatus.PARTIALLY_FILLED, D(3))
    assert (sl.qty, sl.remaining) == (D(7), D(7))
    book.on_tick(bar_tick(bar("94", "94", "93", "93.50", minute=2, volume="1000")))
    tp, sl = book.orders[tp.id], book.orders[sl.id]
    assert (sl.status, sl.filled_qty) == (OrderStatus.FILLED, D(7))
    assert (tp.status, tp.filled_qty) == (OrderStatus.CANCELED, D(3))
    assert "AAPL" not in book.state.positions  # together they closed exactly the 10 bought


def test_an_unfilled_bracket_entry_takes_its_exits_with_it() -> None:
    book = new_book()
    entry = submit(book, bracket(limit="99"))
    book.cancel(entry.id, now=T0 + MINUTE)
    for leg in legs(book, entry).values():
        assert (leg.status, leg.reason) == (OrderStatus.CANCELED, "parent order canceled")
    assert book.state.reservations == {}


def test_a_partly_filled_bracket_entry_that_ends_protects_what_it_filled() -> None:
    book = new_book(policy=SHARE)
    entry = submit(book, bracket(limit="99", tif=TimeInForce.DAY))
    book.on_tick(bar_tick(bar("98", "98.50", "97", "98", minute=1, volume="40")))
    book.cancel(entry.id, now=T0 + 5 * MINUTE)
    for leg in legs(book, entry).values():
        assert (leg.status, leg.qty, leg.active_from) == (OrderStatus.NEW, D(4), T0 + 5 * MINUTE)
    assert_reservations_agree(book)


def test_a_short_bracket_has_buy_exits_on_the_other_sides() -> None:
    book = new_book()
    entry = submit(book, bracket(side=Side.SELL, take_profit="95", stop_loss="105"))
    exits = legs(book, entry)
    assert {o.side for o in exits.values()} == {Side.BUY}
    wrong = refused(lambda: submit(book, bracket(side=Side.SELL, take_profit="105", stop_loss="95")))
    assert wrong.code == "invalid_legs"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"take_profit": "95", "stop_loss": "105"}, "invalid_legs"),  # profit below the stop
        ({"tif": TimeInForce.IOC}, "invalid_time_in_force"),
    ],
)
def test_invalid_brackets_are_refused(changes: dict[str, object], code: str) -> None:
    assert refused(lambda: submit(new_book(), bracket(**changes))).code == code  # type: ignore[arg-type]


def test_a_stop_entry_cannot_carry_a_bracket() -> None:
    req = OrderRequest(
        client_order_id="x",
        symbol="AAPL",
        side=Side.BUY,
        type=OrderType.STOP,
        stop_price=D(101),
        qty=D(1),
        order_class=OrderClass.BRACKET,
        take_profit=TakeProfit(limit_price=D(110)),
        stop_loss=StopLoss(stop_price=D(90)),
    )
    assert refused(lambda: submit(new_book(), req)).code == "invalid_order_type"


# --- OTO ------------------------------------------------------------------------------------------


def test_oto_releases_its_one_exit_when_the_entry_fills() -> None:
    book = new_book()
    req = request(
        Side.BUY,
        "10",
        OrderType.LIMIT,
        limit="99",
        tif=TimeInForce.GTC,
        order_class=OrderClass.OTO,
        stop_loss=StopLoss(stop_price=D(95), limit_price=D("94.50")),
    )
    entry = submit(book, req)
    (sl,) = legs(book, entry).values()
    assert (sl.status, sl.type, sl.limit_price) == (OrderStatus.HELD, OrderType.STOP_LIMIT, D("94.50"))
    book.on_tick(bar_tick(bar("98.50", "99", "98", "98.50", minute=1)))
    book.on_tick(bar_tick(bar("95.50", "96", "94.80", "95", minute=2)))
    assert book.orders[sl.id].filled_avg_price == D(95)
    both = request(
        Side.BUY,
        "1",
        order_class=OrderClass.OTO,
        take_profit=TakeProfit(limit_price=D(110)),
        stop_loss=StopLoss(stop_price=D(90)),
    )
    assert refused(lambda: submit(book, both)).code == "invalid_legs"


# --- OCO ------------------------------------------------------------------------------------------


def oco(qty: str = "10") -> OrderRequest:
    return request(
        Side.SELL,
        qty,
        OrderType.LIMIT,
        limit="105",
        tif=TimeInForce.GTC,
        order_class=OrderClass.OCO,
        take_profit=TakeProfit(limit_price=D(105)),
        stop_loss=StopLoss(stop_price=D(95)),
    )


def test_oco_legs_both_work_at_once_and_reserve_nothing_against_a_long() -> None:
    book = new_book(long_aapl("10"))
    limit = submit(book, oco())
    stop = next(o for o in book.orders.values() if o.parent_id == limit.id)
    assert (limit.status, limit.type, stop.status, stop.type, stop.side) == (
        OrderStatus.NEW,
        OrderType.LIMIT,
        OrderStatus.NEW,
        OrderType.STOP,
        Side.SELL,
    )
    assert limit.reserved == stop.reserved == 0
    assert book.state.reservations == {}


def test_an_oco_limit_fill_cancels_the_stop() -> None:
    """Regression: the OCO's own (limit) leg filling used to leave the stop working, which then
    sold again and opened a short."""
    book = new_book(long_aapl("10"))
    limit = submit(book, oco())
    stop = next(o for o in book.orders.values() if o.parent_id == limit.id)
    book.on_tick(bar_tick(bar("104", "106", "104", "105", minute=1)))
    assert book.orders[limit.id].status is OrderStatus.FILLED
    assert (book.orders[stop.id].status, book.orders[stop.id].reason) == (
        OrderStatus.CANCELED,
        f"other leg {limit.id} filled",
    )
    book.on_tick(bar_tick(bar("94", "94", "93", "93", minute=2)))
    assert len(book.fills) == 1
    assert "AAPL" not in book.state.positions


def test_an_oco_stop_fill_cancels_the_limit() -> None:
    book = new_book(long_aapl("10"))
    limit = submit(book, oco())
    stop = next(o for o in book.orders.values() if o.parent_id == limit.id)
    book.on_tick(bar_tick(bar("94", "94", "93", "93", minute=1)))
    assert book.orders[stop.id].filled_avg_price == D(94)
    assert book.orders[limit.id].status is OrderStatus.CANCELED
    assert "AAPL" not in book.state.positions


def test_oco_partial_fills_never_close_more_than_asked() -> None:
    book = new_book(long_aapl("10"), SHARE)
    limit = submit(book, oco())
    stop = next(o for o in book.orders.values() if o.parent_id == limit.id)
    book.on_tick(bar_tick(bar("105", "106", "104", "105", minute=1, volume="40")))
    assert book.orders[limit.id].filled_qty == D(4)
    assert book.orders[stop.id].remaining == D(6)
    book.on_tick(bar_tick(bar("94", "94", "93", "93", minute=2, volume="1000")))
    assert (book.orders[stop.id].status, book.orders[stop.id].filled_qty) == (OrderStatus.FILLED, D(6))
    assert book.orders[limit.id].status is OrderStatus.CANCELED
    assert "AAPL" not in book.state.positions


def test_an_oco_order_is_a_limit_with_both_legs() -> None:
    market = request(
        Side.SELL,
        "1",
        order_class=OrderClass.OCO,
        take_profit=TakeProfit(limit_price=D(105)),
        stop_loss=StopLoss(stop_price=D(95)),
    )
    assert refused(lambda: submit(new_book(long_aapl()), market)).code == "invalid_order_type"


# --- replace ----------------------------------------------------------------------------------------


def test_replace_links_both_orders_and_moves_the_reservation() -> None:
    book = new_book()
    old = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99"))
    new = book.replace(
        old.id, ReplaceRequest(qty=D(20), limit_price=D(98)), quote=FRESH, session=OPEN, now=T0 + MINUTE
    )
    replaced = book.orders[old.id]
    assert (replaced.status, replaced.replaced_by, replaced.replaced_at, replaced.reserved) == (
        OrderStatus.REPLACED,
        new.id,
        T0 + MINUTE,
        D(0),
    )
    # 20 × 98 / 5 = 392 plus fee 1.96
    assert (new.replaces, new.qty, new.limit_price, new.reserved, new.status) == (
        old.id,
        D(20),
        D(98),
        D("393.96"),
        OrderStatus.NEW,
    )
    assert book.state.reservations == {new.id: D("393.96")}
    # The published update of the old order names its replacement.
    (update,) = [u for u in book.updates if u.event is OrderUpdate.REPLACED]
    assert (update.order.id, update.order.replaced_by) == (old.id, new.id)
    assert events_of(book, new.id) == [OrderUpdate.NEW]


def test_replacing_a_partly_filled_order_keeps_the_fill_with_the_old_one() -> None:
    book = new_book(policy=SHARE)
    old = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99", tif=TimeInForce.GTC))
    book.on_tick(bar_tick(bar("98", "98.50", "97", "98", minute=1, volume="40")))
    new = book.replace(
        old.id, ReplaceRequest(limit_price=D(97)), quote=FRESH, session=OPEN, now=T0 + 3 * MINUTE
    )
    assert (book.orders[old.id].filled_qty, book.orders[old.id].status) == (D(4), OrderStatus.REPLACED)
    assert (new.qty, new.filled_qty) == (D(6), D(0))
    assert_reservations_agree(book)


def test_a_marketable_replacement_fills_at_once() -> None:
    book = new_book(policy=ExecutionPolicy(fill_model=FillModelName.NBBO))
    old = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99"))
    new = book.replace(old.id, ReplaceRequest(limit_price=D(101)), quote=FRESH, session=OPEN, now=T0)
    assert (new.status, new.filled_avg_price) == (OrderStatus.FILLED, D("100.01"))
    assert book.state.reservations == {}


def test_replacing_a_closed_order_is_a_conflict() -> None:
    book = new_book()
    order = submit(book, request())
    rejection = refused(
        lambda: book.replace(order.id, ReplaceRequest(qty=D(2)), quote=FRESH, session=OPEN, now=T0)
    )
    assert (rejection.code, rejection.kind) == ("order_not_open", "conflict")


def test_replacing_the_time_in_force_moves_the_expiry() -> None:
    """Regression: a GTC order replaced as DAY kept no expiry (and a DAY order replaced as GTC
    still expired at the close)."""
    book = new_book()
    gtc = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="90", tif=TimeInForce.GTC))
    day = book.replace(
        gtc.id, ReplaceRequest(time_in_force=TimeInForce.DAY), quote=FRESH, session=OPEN, now=T0
    )
    assert (day.time_in_force, day.expires_at) == (TimeInForce.DAY, OPEN.close)
    back = book.replace(
        day.id, ReplaceRequest(time_in_force=TimeInForce.GTC), quote=FRESH, session=OPEN, now=T0
    )
    assert (back.time_in_force, back.expires_at) == (TimeInForce.GTC, None)
    same = book.replace(back.id, ReplaceRequest(limit_price=D(91)), quote=FRESH, session=OPEN, now=T0)
    assert same.expires_at is None
    opg = refused(
        lambda: book.replace(
            same.id, ReplaceRequest(time_in_force=TimeInForce.OPG), quote=FRESH, session=OPEN, now=T0
        )
    )
    assert opg.code == "market_open"


def test_a_bracket_entry_replaced_as_gtc_takes_its_held_exits_along() -> None:
    book = new_book()
    entry = submit(book, bracket(limit="99", tif=TimeInForce.DAY))
    new = book.replace(
        entry.id, ReplaceRequest(time_in_force=TimeInForce.GTC), quote=FRESH, session=OPEN, now=T0
    )
    for leg in legs(book, new).values():
        assert (leg.status, leg.time_in_force, leg.expires_at) == (OrderStatus.HELD, TimeInForce.GTC, None)
    assert legs(book, entry) == {}
    ioc = refused(
        lambda: book.replace(
            new.id, ReplaceRequest(time_in_force=TimeInForce.IOC), quote=FRESH, session=OPEN, now=T0
        )
    )
    assert ioc.code == "invalid_time_in_force"


def test_a_replacement_that_would_open_a_short_is_refused_like_a_new_order_and_changes_nothing() -> None:
    """Regression: replace skipped the exposure rules, so an exit could be grown into a short the
    policy forbids."""
    long_only = ExecutionPolicy(allowed_directions=frozenset({Direction.LONG}))
    book = new_book(long_aapl("10"), long_only)
    exit_ = submit(book, request(Side.SELL, "10", OrderType.LIMIT, limit="110", tif=TimeInForce.GTC))
    before = (book.state, dict(book.orders), list(book.events), list(book.updates))
    rejection = refused(
        lambda: book.replace(exit_.id, ReplaceRequest(qty=D(20)), quote=FRESH, session=OPEN, now=T0)
    )
    assert (rejection.code, rejection.kind) == ("short_selling_not_allowed", "forbidden")
    assert (book.state, dict(book.orders), list(book.events), list(book.updates)) == before
    assert book.orders[exit_.id].status is OrderStatus.NEW
    # Within the position it is fine.
    smaller = book.replace(exit_.id, ReplaceRequest(qty=D(5)), quote=FRESH, session=OPEN, now=T0)
    assert (smaller.qty, smaller.reserved) == (D(5), D(0))


def test_a_replacement_the_account_cannot_afford_leaves_the_old_order_working() -> None:
    book = new_book()
    old = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99", tif=TimeInForce.GTC))
    rejection = refused(
        lambda: book.replace(old.id, ReplaceRequest(qty=D(5000)), quote=FRESH, session=OPEN, now=T0)
    )
    assert rejection.code in ("insufficient_buying_power", "max_order_notional")
    assert (book.orders[old.id].status, book.orders[old.id].reserved) == (OrderStatus.NEW, D("198.99"))
    assert book.state.reservations == {old.id: D("198.99")}


def test_replacing_an_exit_leg_reserves_nothing() -> None:
    """Regression: a replaced bracket stop (held, or working beside an OCO limit) reserved buying
    power as if it opened a short."""
    book = new_book()
    entry = submit(book, bracket(limit="99"))
    sl = legs(book, entry)[LegRole.STOP_LOSS]
    moved = book.replace(sl.id, ReplaceRequest(stop_price=D(94)), quote=FRESH, session=OPEN, now=T0)
    assert (moved.status, moved.stop_price, moved.reserved, moved.parent_id) == (
        OrderStatus.HELD,
        D(94),
        D(0),
        entry.id,
    )
    assert book.state.reservations == {entry.id: entry.reserved}
    book = new_book(long_aapl("10"))
    limit = submit(book, oco())
    stop = next(o for o in book.orders.values() if o.parent_id == limit.id)
    moved = book.replace(stop.id, ReplaceRequest(stop_price=D(96)), quote=FRESH, session=OPEN, now=T0)
    assert (moved.status, moved.reserved) == (OrderStatus.NEW, D(0))
    assert book.state.reservations == {}
    # The replaced stop is still the limit's other leg.
    book.on_tick(bar_tick(bar("105", "106", "104", "105", minute=1)))
    assert book.orders[moved.id].status is OrderStatus.CANCELED


def test_a_replaced_trailing_stop_keeps_its_watermark_and_takes_the_new_trail() -> None:
    book = new_book(long_aapl("10"))
    req = request(Side.SELL, "10", OrderType.TRAILING_STOP, tif=TimeInForce.GTC, trail_percent=D(5))
    old = submit(book, req)
    new = book.replace(old.id, ReplaceRequest(trail=D(2)), quote=None, session=OPEN, now=T0 + MINUTE)
    assert (new.trail_percent, new.trail_price, new.watermark) == (D(2), None, D("99.99"))


def test_replace_outside_the_session_is_accepted_for_the_next_one() -> None:
    evening = datetime.fromisoformat("2026-01-05T22:00:00+00:00")
    closed = session_view(AssetClass.US_EQUITY, evening)
    book = new_book()
    old = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99", tif=TimeInForce.GTC))
    new = book.replace(
        old.id, ReplaceRequest(limit_price=D(98)), quote=q(at=evening), session=closed, now=evening
    )
    assert new.status is OrderStatus.ACCEPTED
    assert new.created_at == evening
    assert book.orders[old.id].replaced_at == evening


def test_an_exit_leg_keeps_its_entrys_time_in_force() -> None:
    book = new_book()
    entry = submit(book, bracket(limit="99"))
    sl = legs(book, entry)[LegRole.STOP_LOSS]
    rejection = refused(
        lambda: book.replace(
            sl.id, ReplaceRequest(time_in_force=TimeInForce.DAY), quote=FRESH, session=OPEN, now=T0
        )
    )
    assert rejection.code == "invalid_time_in_force"
    assert book.orders[sl.id].status is OrderStatus.HELD


def test_a_day_bracket_entry_part_filled_at_the_close_expires_its_exits_with_it() -> None:
    """Regression: the exits of a DAY entry that expired part-filled were released at the close and
    stayed open overnight, past their own DAY."""
    book = new_book(policy=SHARE)
    entry = submit(book, bracket(limit="99", tif=TimeInForce.DAY))
    book.on_tick(bar_tick(bar("98", "98.50", "97", "98", minute=1, volume="40")))
    close = OPEN.close
    assert close is not None
    book.on_tick(close_tick(close, last_bar=bar("98", "98.50", "97", "98", minute=1, volume="40")))
    assert (book.orders[entry.id].status, book.orders[entry.id].filled_qty) == (OrderStatus.EXPIRED, D(4))
    for leg in legs(book, entry).values():
        assert (leg.status, leg.expired_at) == (OrderStatus.EXPIRED, close)
    assert book.open_orders() == []
    assert_reservations_agree(book)
