"""Golden tests for the paper broker (pure): order types against scripted quotes and bars,
reservations, short-sale permissions, buying power at fill time and Alpaca-parity partials.

Time in force lives in ``test_expiry.py``, order classes and cancel/replace in
``test_legs.py``, the random interleavings in ``test_properties.py``.
The builders below are shared by those modules.

Unless a test says otherwise: a 100,000 account at 5x, the seed policy (fills at the quote's
mid, 10 bps fee), AAPL quoted 99.99 / 100.01 at T0 (Monday 2026-01-05, 10:00 New York).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from propdesk.accounting.state import AccountState
from propdesk.execution.order_book.book import OrderBook
from propdesk.execution.order_book.buying_power import open_reserved
from propdesk.execution.order_book.errors import OrderRejected
from propdesk.execution.order_book.requests import OrderRequest, SessionView, Tick
from propdesk.execution.partial_fills import AlpacaParity
from propdesk.model.instruments import AssetClass, Instrument, equity, parse_instrument
from propdesk.model.market import Bar, Quote
from propdesk.model.orders import Direction, Order, OrderStatus, OrderType, OrderUpdate, Side, TimeInForce
from propdesk.model.policy import ExecutionPolicy, FillModelName
from propdesk.services.orders.book_runner import session_view
from tests.execution.factories import AAPL, T0, filled, started

D = Decimal
SEED = ExecutionPolicy()
NBBO = ExecutionPolicy(fill_model=FillModelName.NBBO)
MINUTE = timedelta(minutes=1)

# --- builders ------------------------------------------------------------------------------------


def ids(prefix: str = "o") -> Callable[[], str]:
    """Deterministic ids that sort in creation order."""
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter):04d}"


def parse(symbol: str, asset_class: AssetClass | None) -> Instrument:
    return parse_instrument(symbol, asset_class)


def new_book(
    state: AccountState | None = None,
    policy: ExecutionPolicy = SEED,
    *,
    resolve: Callable[[str, AssetClass | None], Instrument] = parse,
    new_id: Callable[[], str] | None = None,
) -> OrderBook:
    return OrderBook.of(
        started() if state is None else state, policy, [], resolve=resolve, new_id=new_id or ids()
    )


def long_aapl(qty: str = "10", price: str = "100", state: AccountState | None = None) -> AccountState:
    """The seed account holding ``qty`` AAPL bought fee-free at ``price``."""
    return filled(started() if state is None else state, AAPL, Side.BUY, qty, price)


def utc(text: str) -> datetime:
    """A UTC time from ``YYYY-MM-DD HH:MM`` text."""
    return datetime.fromisoformat(f"{text}+00:00")


def q(
    bid: str = "99.99",
    ask: str = "100.01",
    at: datetime = T0,
    *,
    bid_size: str = "0",
    ask_size: str = "0",
    symbol: str = "AAPL",
) -> Quote:
    return Quote(symbol, at, D(bid), D(ask), bid_size=D(bid_size), ask_size=D(ask_size))


FRESH = q()


def bar(o: str, h: str, low: str, c: str, *, minute: int, volume: str = "0", symbol: str = "AAPL") -> Bar:
    """A one-minute bar starting ``minute`` minutes after T0."""
    return Bar(symbol, "1Min", T0 + minute * MINUTE, D(o), D(h), D(low), D(c), D(volume))


def bar_tick(b: Bar, *, in_session: bool = True) -> Tick:
    """As the evaluator builds it: stamped at the bar's end, seen by orders placed by its start."""
    return Tick(b.symbol, b.start + MINUTE, bar=b, in_session=in_session, starts=b.start)


def quote_tick(quote: Quote, *, in_session: bool = True) -> Tick:
    return Tick(quote.symbol, quote.time, quote=quote, in_session=in_session)


def close_tick(
    at: datetime, *, last_bar: Bar | None = None, last_quote: Quote | None = None, symbol: str = "AAPL"
) -> Tick:
    """The session-close event, carrying the session's last bar (else its last quote)."""
    return Tick(
        symbol,
        at,
        quote=last_quote if last_bar is None else None,
        bar=last_bar,
        closes_session=True,
    )


def request(
    side: Side = Side.BUY,
    qty: str | None = "10",
    type: OrderType = OrderType.MARKET,
    *,
    limit: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.DAY,
    symbol: str = "AAPL",
    **fields: Any,
) -> OrderRequest:
    return OrderRequest(
        client_order_id=fields.pop("client_order_id", f"c-{side.value}-{type.value}-{qty}"),
        symbol=symbol,
        side=side,
        type=type,
        time_in_force=tif,
        qty=None if qty is None else D(qty),
        limit_price=None if limit is None else D(limit),
        stop_price=None if stop is None else D(stop),
        **fields,
    )


def submit(
    book: OrderBook,
    req: OrderRequest,
    *,
    quote: Quote | None = FRESH,
    now: datetime = T0,
    session: SessionView | None = None,
) -> Order:
    """Submit at ``now`` with the real calendar's view of the session (crypto: always open)."""
    asset_class = book.resolve(req.symbol, req.asset_class).asset_class
    return book.submit(req, quote=quote, session=session or session_view(asset_class, now), now=now)


def refused(action: Callable[[], object]) -> OrderRejected:
    with pytest.raises(OrderRejected) as caught:
        action()
    return caught.value


def assert_reservations_agree(book: OrderBook) -> None:
    """The kernel's reservations are exactly what the open orders hold; closed orders hold nothing."""
    assert dict(book.state.reservations) == dict(open_reserved(list(book.orders.values())))
    assert all(o.reserved == 0 for o in book.orders.values() if not o.is_open)


def events_of(book: OrderBook, order_id: str) -> list[OrderUpdate]:
    return [u.event for u in book.updates if u.order.id == order_id]


# --- immediate execution against the quote --------------------------------------------------------


def test_a_market_buy_fills_at_once_at_the_mid_and_releases_its_reservation() -> None:
    book = new_book()
    order = submit(book, request())
    assert (order.status, order.filled_qty, order.filled_avg_price) == (OrderStatus.FILLED, D(10), D(100))
    (fill,) = book.fills
    assert (fill.price, fill.fee, fill.bid, fill.ask, fill.slippage) == (
        D(100),
        D("1.00"),
        D("99.99"),
        D("100.01"),
        D(0),
    )
    assert order.reserved == 0
    assert book.state.reservations == {}
    assert book.state.positions["AAPL"].qty == D(10)
    assert book.state.cash == D(100_000) - D(1000) - D("1.00")
    assert events_of(book, order.id) == [OrderUpdate.NEW, OrderUpdate.FILL]


def test_nbbo_fills_a_buy_at_the_ask_and_a_sell_at_the_bid() -> None:
    book = new_book(long_aapl("10"), NBBO)
    buy = submit(book, request(Side.BUY, "5"))
    sell = submit(book, request(Side.SELL, "5"))
    assert (buy.filled_avg_price, sell.filled_avg_price) == (D("100.01"), D("99.99"))


def test_a_marketable_limit_gets_the_quote_not_its_limit() -> None:
    """Price improvement: a buy limit above the ask pays the ask, a sell limit below the bid gets the bid."""
    book = new_book(long_aapl("10"), NBBO)
    quote = q("99.98", "100.02")
    buy = submit(book, request(Side.BUY, "5", OrderType.LIMIT, limit="101"), quote=quote)
    sell = submit(book, request(Side.SELL, "5", OrderType.LIMIT, limit="99"), quote=quote)
    assert (buy.status, buy.filled_avg_price) == (OrderStatus.FILLED, D("100.02"))
    assert (sell.status, sell.filled_avg_price) == (OrderStatus.FILLED, D("99.98"))


def test_a_mid_fill_never_beats_the_limit_of_a_limit_order() -> None:
    # The ask touches the limit exactly; the mid (99.99) is inside it, so the mid is the price.
    book = new_book()
    order = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="100"), quote=q("99.98", "100.00"))
    assert order.filled_avg_price == D("99.99")


def test_a_stale_quote_is_not_traded_and_the_order_fills_on_the_next_bar_at_its_open() -> None:
    book = new_book()
    stale = q(at=T0 - timedelta(seconds=61))
    order = submit(book, request(), quote=stale)
    assert (order.status, book.fills) == (OrderStatus.NEW, [])
    assert order.reserved > 0  # reserved against the stale quote, the only price there is
    book.on_tick(bar_tick(bar("100.50", "101", "100", "100.80", minute=1)))
    done = book.orders[order.id]
    assert (done.status, done.filled_avg_price, done.filled_at) == (
        OrderStatus.FILLED,
        D("100.50"),
        T0 + 2 * MINUTE,
    )
    assert book.state.reservations == {}


def test_a_market_order_without_any_quote_cannot_be_reserved() -> None:
    rejection = refused(lambda: submit(new_book(), request(), quote=None))
    assert rejection.code == "price_missing"


# --- resting orders on quotes --------------------------------------------------------------------


def test_a_resting_buy_limit_fills_when_the_ask_touches_it_exactly() -> None:
    book = new_book(policy=NBBO)
    order = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99.50", tif=TimeInForce.GTC))
    book.on_tick(quote_tick(q("99.49", "99.51", T0 + MINUTE)))
    assert book.orders[order.id].status is OrderStatus.NEW
    book.on_tick(quote_tick(q("99.48", "99.50", T0 + 2 * MINUTE)))
    assert (book.orders[order.id].status, book.orders[order.id].filled_avg_price) == (
        OrderStatus.FILLED,
        D("99.50"),
    )


def test_a_buy_stop_triggers_when_the_ask_reaches_it_and_fills_like_a_market_order() -> None:
    book = new_book(policy=NBBO)
    order = submit(book, request(Side.BUY, "10", OrderType.STOP, stop="101", tif=TimeInForce.GTC))
    book.on_tick(quote_tick(q("100.97", "100.99", T0 + MINUTE)))
    assert book.orders[order.id].status is OrderStatus.NEW
    book.on_tick(quote_tick(q("101.02", "101.04", T0 + 2 * MINUTE)))  # jumped over the stop
    assert book.orders[order.id].filled_avg_price == D("101.04")


def test_a_sell_stop_limit_triggers_then_waits_for_its_limit() -> None:
    book = new_book(long_aapl("10"), NBBO)
    order = submit(
        book, request(Side.SELL, "10", OrderType.STOP_LIMIT, stop="99", limit="98.90", tif=TimeInForce.GTC)
    )
    book.on_tick(quote_tick(q("98.80", "98.85", T0 + MINUTE)))
    triggered = book.orders[order.id]
    assert (triggered.status, triggered.triggered) == (OrderStatus.NEW, True)
    book.on_tick(quote_tick(q("98.95", "99.00", T0 + 2 * MINUTE)))
    assert book.orders[order.id].filled_avg_price == D("98.95")
    assert "AAPL" not in book.state.positions


def test_a_trailing_stop_by_price_trails_the_bid_and_fills_when_it_turns() -> None:
    book = new_book(long_aapl("10"), NBBO)
    req = request(Side.SELL, "10", OrderType.TRAILING_STOP, tif=TimeInForce.GTC, trail_price=D(1))
    order = submit(book, req)
    assert book.orders[order.id].watermark == D("99.99")  # seeded by the quote at acceptance
    book.on_tick(quote_tick(q("101.50", "101.52", T0 + MINUTE)))
    assert book.orders[order.id].watermark == D("101.50")
    book.on_tick(quote_tick(q("100.51", "100.53", T0 + 2 * MINUTE)))  # stop 100.50 not reached
    assert book.orders[order.id].status is OrderStatus.NEW
    book.on_tick(quote_tick(q("100.50", "100.52", T0 + 3 * MINUTE)))
    assert (book.orders[order.id].status, book.orders[order.id].filled_avg_price) == (
        OrderStatus.FILLED,
        D("100.50"),
    )


# --- resting orders on bars (gap rules) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "kind", "prices", "candle", "expected"),
    [
        # Limits: a gap through the limit fills at the (better) open; touched exactly at the limit.
        (Side.BUY, OrderType.LIMIT, {"limit": "99"}, ("97.50", "98", "97", "97.80"), "97.50"),
        (Side.BUY, OrderType.LIMIT, {"limit": "99"}, ("100", "100.50", "99", "99.80"), "99"),
        (Side.BUY, OrderType.LIMIT, {"limit": "99"}, ("100", "100.50", "99.01", "99.80"), None),
        (Side.SELL, OrderType.LIMIT, {"limit": "101"}, ("102.50", "103", "102", "102.20"), "102.50"),
        (Side.SELL, OrderType.LIMIT, {"limit": "101"}, ("100", "101", "99.50", "100.20"), "101"),
        # Stops: jumped through at the open fills at the (worse) open; reached inside at the stop.
        (Side.BUY, OrderType.STOP, {"stop": "102"}, ("104", "105", "103.50", "104.50"), "104"),
        (Side.BUY, OrderType.STOP, {"stop": "102"}, ("100.50", "102", "100", "101"), "102"),
        (Side.BUY, OrderType.STOP, {"stop": "102"}, ("100.50", "101.99", "100", "101"), None),
        (Side.SELL, OrderType.STOP, {"stop": "98"}, ("95", "96", "94", "95.50"), "95"),
        (Side.SELL, OrderType.STOP, {"stop": "98"}, ("99.50", "100", "98", "98.50"), "98"),
        # Stop-limit: the trigger price fills when the limit allows it.
        (
            Side.BUY,
            OrderType.STOP_LIMIT,
            {"stop": "102", "limit": "102.50"},
            ("101", "102.20", "101", "102"),
            "102",
        ),
        (
            Side.BUY,
            OrderType.STOP_LIMIT,
            {"stop": "102", "limit": "102.50"},
            ("102.40", "103", "102", "102.80"),
            "102.40",
        ),
        (
            Side.BUY,
            OrderType.STOP_LIMIT,
            {"stop": "102", "limit": "102.50"},
            ("103", "104", "102.60", "103"),
            None,
        ),
    ],
)
def test_gap_rules_on_a_bar(
    side: Side,
    kind: OrderType,
    prices: dict[str, str],
    candle: tuple[str, str, str, str],
    expected: str | None,
) -> None:
    book = new_book(long_aapl("10"))
    order = submit(book, request(side, "10", kind, tif=TimeInForce.GTC, **prices))
    assert book.orders[order.id].status is OrderStatus.NEW
    book.on_tick(bar_tick(bar(*candle, minute=1)))
    after = book.orders[order.id]
    if expected is None:
        assert (after.status, book.fills) == (OrderStatus.NEW, [])
    else:
        assert (after.status, after.filled_avg_price) == (OrderStatus.FILLED, D(expected))
        assert book.fills[-1].time == T0 + 2 * MINUTE  # the bar's end, when it became known
    assert_reservations_agree(book)


def test_a_gap_down_through_a_protective_stop_sells_at_the_open_not_the_stop() -> None:
    book = new_book(long_aapl("10"))
    order = submit(book, request(Side.SELL, "10", OrderType.STOP, stop="98", tif=TimeInForce.GTC))
    book.on_tick(bar_tick(bar("99.50", "100", "98.50", "99", minute=1)))
    book.on_tick(bar_tick(bar("92", "93", "91", "92.50", minute=2)))
    done = book.orders[order.id]
    assert (done.filled_avg_price, done.filled_at) == (D("92"), T0 + 3 * MINUTE)
    assert book.state.realized_pnl == D(10) * (D(92) - D(100))


def test_a_stop_limit_jumped_past_its_limit_rests_as_a_limit_from_the_next_bar() -> None:
    book = new_book()
    order = submit(
        book, request(Side.BUY, "10", OrderType.STOP_LIMIT, stop="102", limit="102.50", tif=TimeInForce.GTC)
    )
    book.on_tick(bar_tick(bar("103", "104", "102.60", "103", minute=1)))
    waiting = book.orders[order.id]
    assert (waiting.status, waiting.triggered) == (OrderStatus.NEW, True)
    # Below the stop again: the triggered order is a limit now and fills at 102.50.
    book.on_tick(bar_tick(bar("102.90", "103", "101.80", "102", minute=2)))
    assert book.orders[order.id].filled_avg_price == D("102.50")


def test_a_trailing_stop_by_percent_follows_the_lows_and_fills_when_the_market_turns() -> None:
    book = new_book()
    # No fresh quote at acceptance: the first bar sets the watermark.
    req = request(Side.BUY, "10", OrderType.TRAILING_STOP, tif=TimeInForce.GTC, trail_percent=D(2))
    order = submit(book, req, quote=q(at=T0 - timedelta(minutes=5)))
    assert book.orders[order.id].watermark is None
    book.on_tick(bar_tick(bar("100", "101", "99", "100.50", minute=1)))
    assert book.orders[order.id].watermark == D(99)  # stop 100.98
    book.on_tick(bar_tick(bar("100", "100.50", "97", "98", minute=2)))  # high under 100.98; low 97
    assert book.orders[order.id].watermark == D(97)  # stop 98.94
    book.on_tick(bar_tick(bar("98.50", "99.50", "98.20", "99.20", minute=3)))
    assert book.orders[order.id].filled_avg_price == D("98.94")


def test_orders_ignore_bars_that_began_before_they_were_placed() -> None:
    book = new_book()
    order = submit(
        book, request(Side.BUY, "10", OrderType.LIMIT, limit="99"), now=T0 + 30 * timedelta(seconds=1)
    )
    book.on_tick(bar_tick(bar("98", "98.50", "97", "98", minute=0)))  # began at T0, before the order
    assert book.orders[order.id].status is OrderStatus.NEW
    book.on_tick(bar_tick(bar("98", "98.50", "97", "98", minute=1)))
    assert book.orders[order.id].filled_avg_price == D(98)


def test_ticks_outside_the_session_do_not_trade_equities() -> None:
    book = new_book()
    order = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99", tif=TimeInForce.GTC))
    book.on_tick(bar_tick(bar("98", "98.50", "97", "98", minute=1), in_session=False))
    assert book.orders[order.id].status is OrderStatus.NEW


# --- reservations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("req", "expected"),
    [
        # limit: 10 × 99 / 5 = 198 plus the 10 bps fee 0.99
        (request(Side.BUY, "10", OrderType.LIMIT, limit="99"), "198.99"),
        # 3 × 33.33 / 5 = 19.998 plus fee 0.10 = 20.098: rounded up to the cent, never down
        (request(Side.BUY, "3", OrderType.LIMIT, limit="33.33"), "20.10"),
        # stop-limit: at its limit as well
        (request(Side.BUY, "10", OrderType.STOP_LIMIT, stop="101", limit="101.50"), "204.02"),
        # market-style: the ask plus 2.5%, 10 × 102.51025 / 5 = 205.0205 plus fee 1.03
        (request(Side.BUY, "10", OrderType.STOP, stop="105"), "206.06"),
        # a short sale: at least 3% above the ask, 10 × 103.0103 / 5 = 206.0206 plus fee 1.03
        (request(Side.SELL, "10", OrderType.LIMIT, limit="100.50"), "207.06"),
        (request(Side.SELL, "10", OrderType.LIMIT, limit="104"), "209.04"),
    ],
)
def test_reservation_amounts(req: OrderRequest, expected: str) -> None:
    book = new_book()
    order = submit(book, req)
    assert order.status is OrderStatus.NEW
    assert order.reserved == D(expected)
    assert book.state.reservations == {order.id: D(expected)}


def test_a_stop_without_a_quote_reserves_at_its_stop_plus_the_market_buffer() -> None:
    book = new_book()
    order = submit(book, request(Side.BUY, "10", OrderType.STOP, stop="100"), quote=None)
    # 10 × 102.5 / 5 = 205 plus fee 1.03 (on 1025)
    assert order.reserved == D("206.03")


def test_an_exit_reserves_nothing_and_only_the_opening_part_of_a_flip_is_reserved() -> None:
    book = new_book(long_aapl("10"))
    exit_ = submit(book, request(Side.SELL, "10", OrderType.LIMIT, limit="105", tif=TimeInForce.GTC))
    assert exit_.reserved == 0
    # The long is already being closed by the exit: this sell opens a short of 4 in full.
    flip = submit(book, request(Side.SELL, "4", OrderType.LIMIT, limit="105", tif=TimeInForce.GTC))
    # 4 × 105 / 5 = 84 plus fee 0.42
    assert flip.reserved == D("84.42")
    assert_reservations_agree(book)


def test_a_partial_fill_releases_its_share_and_the_rest_covers_what_is_open() -> None:
    policy = ExecutionPolicy(
        fill_model=FillModelName.VOLUME_SHARE, participation_rate=D("0.1"), impact_bps=D(0)
    )
    book = new_book(policy=policy)
    order = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99", tif=TimeInForce.GTC))
    assert order.reserved == D("198.99")
    book.on_tick(bar_tick(bar("98", "98.50", "97.50", "98", minute=1, volume="40")))
    partial = book.orders[order.id]
    # 4 of 10 filled: 4/10 of 198.99 = 79.596, released rounded up to the cent.
    assert (partial.status, partial.filled_qty, partial.reserved) == (
        OrderStatus.PARTIALLY_FILLED,
        D(4),
        D("198.99") - D("79.60"),
    )
    assert_reservations_agree(book)
    book.on_tick(bar_tick(bar("98", "98.50", "97.50", "98", minute=2, volume="1000")))
    done = book.orders[order.id]
    assert (done.status, done.filled_qty, done.reserved) == (OrderStatus.FILLED, D(10), D(0))
    assert book.state.reservations == {}
    assert events_of(book, order.id) == [OrderUpdate.NEW, OrderUpdate.PARTIAL_FILL, OrderUpdate.FILL]


def test_an_order_the_account_cannot_afford_is_refused_and_changes_nothing() -> None:
    book = new_book(started(D(1000), D(1)))
    rejection = refused(lambda: submit(book, request(Side.BUY, "20", OrderType.LIMIT, limit="99")))
    assert (rejection.code, rejection.kind) == ("insufficient_buying_power", "forbidden")
    assert (book.orders, book.events, book.updates) == ({}, [], [])


def test_cancel_releases_the_reservation_and_a_second_cancel_is_a_conflict() -> None:
    book = new_book()
    order = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99"))
    canceled = book.cancel(order.id, now=T0 + MINUTE)
    assert (canceled.status, canceled.canceled_at, canceled.reserved) == (
        OrderStatus.CANCELED,
        T0 + MINUTE,
        D(0),
    )
    assert book.state.reservations == {}
    assert book.state.available_capital == D(100_000)
    again = refused(lambda: book.cancel(order.id, now=T0 + MINUTE))
    assert (again.code, again.kind) == ("order_not_open", "conflict")
    missing = refused(lambda: book.cancel("nope", now=T0))
    assert (missing.code, missing.kind) == ("order_not_found", "not_found")


# --- buying power at fill time -----------------------------------------------------------------------


def test_a_fill_that_would_overdraw_buying_power_cancels_the_order_with_the_reason() -> None:
    # 10,000 at 1x; a buy stop for 90 reserves 9,235.16 against the quote, then the market gaps
    # to 120: 10,800 plus fee is more than the account has.
    book = new_book(started(D(10_000), D(1)))
    order = submit(book, request(Side.BUY, "90", OrderType.STOP, stop="100.50", tif=TimeInForce.GTC))
    assert order.reserved == D("9235.16")
    book.on_tick(bar_tick(bar("120", "121", "119", "120", minute=1)))
    canceled = book.orders[order.id]
    assert (canceled.status, canceled.filled_qty, canceled.reason) == (
        OrderStatus.CANCELED,
        D(0),
        "insufficient buying power at fill time",
    )
    assert canceled.canceled_at == T0 + 2 * MINUTE
    assert (book.fills, dict(book.state.positions), dict(book.state.reservations)) == ([], {}, {})
    assert book.state.cash == D(10_000)


def test_a_fill_that_reduces_exposure_is_made_whatever_the_buying_power() -> None:
    # Short 100 at 100 on 2,000 at 5x; the market doubles: covering is always allowed.
    state = filled(started(D(2_000)), AAPL, Side.SELL, "100", "100")
    book = new_book(state)
    order = submit(book, request(Side.BUY, "100", OrderType.STOP, stop="150", tif=TimeInForce.GTC))
    assert order.reserved == 0
    book.on_tick(bar_tick(bar("200", "201", "199", "200", minute=1)))
    assert book.orders[order.id].status is OrderStatus.FILLED
    assert book.state.available_capital < 0
    assert "AAPL" not in book.state.positions


# --- acceptance: short sales and permissions ----------------------------------------------------------


def test_short_selling_needs_short_in_the_policy() -> None:
    long_only = ExecutionPolicy(allowed_directions=frozenset({Direction.LONG}))
    rejection = refused(lambda: submit(new_book(policy=long_only), request(Side.SELL, "5")))
    assert (rejection.code, rejection.kind) == ("short_selling_not_allowed", "forbidden")
    # Selling what is held only reduces; selling more than that would open a short.
    book = new_book(long_aapl("10"), long_only)
    assert submit(book, request(Side.SELL, "10")).status is OrderStatus.FILLED
    book = new_book(long_aapl("10"), long_only)
    assert refused(lambda: submit(book, request(Side.SELL, "11"))).code == "short_selling_not_allowed"


@pytest.mark.parametrize(
    ("flags", "policy", "code"),
    [
        ({"shortable": False}, SEED, "not_shortable"),
        ({"easy_to_borrow": False}, SEED, "hard_to_borrow"),
        ({"easy_to_borrow": False}, ExecutionPolicy(allow_hard_to_borrow=True), None),
    ],
)
def test_short_selling_needs_a_shortable_easy_to_borrow_asset(
    flags: dict[str, bool], policy: ExecutionPolicy, code: str | None
) -> None:
    def resolve(symbol: str, asset_class: AssetClass | None) -> Instrument:
        return equity(symbol, **flags)

    book = new_book(policy=policy, resolve=resolve)
    req = request(Side.SELL, "5", OrderType.LIMIT, limit="101", tif=TimeInForce.GTC)
    if code is None:
        assert submit(book, req).status is OrderStatus.NEW
        return
    rejection = refused(lambda: submit(book, req))
    assert (rejection.code, rejection.kind) == (code, "forbidden")
    # Selling a long position in the same asset is no short sale.
    book = new_book(long_aapl("5"), policy, resolve=resolve)
    assert submit(book, req).status is OrderStatus.NEW


def test_the_kill_switch_refuses_new_exposure_but_not_exits() -> None:
    book = new_book(long_aapl("10"))
    book.allow_new_exposure = False
    assert refused(lambda: submit(book, request(Side.BUY, "1"))).code == "new_orders_disabled"
    assert submit(book, request(Side.SELL, "10")).status is OrderStatus.FILLED


def test_an_inactive_account_takes_no_orders() -> None:
    from propdesk.accounting.state import AccountStatus
    from tests.execution.factories import with_status

    book = new_book(with_status(started(), AccountStatus.PAUSED))
    assert refused(lambda: submit(book, request())).code == "account_not_active"


# --- Alpaca-parity partial fills ------------------------------------------------------------------------


def _parity_run(policy: ExecutionPolicy) -> OrderBook:
    book = new_book(policy=policy)
    submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99", tif=TimeInForce.GTC), quote=FRESH)
    for minute in range(1, 30):
        book.on_tick(bar_tick(bar("98", "98.50", "97.50", "98", minute=minute)))
    return book


def test_alpaca_parity_partials_are_drawn_from_the_order_id_and_are_the_same_on_a_replay() -> None:
    policy = ExecutionPolicy(fill_model=FillModelName.ALPACA_PARITY, partial_fill_probability=D("0.5"))
    first, second = _parity_run(policy), _parity_run(policy)
    assert first.fills == second.fills
    assert first.updates == second.updates
    assert first.state == second.state
    (order,) = first.orders.values()
    assert sum(f.qty for f in first.fills) == order.filled_qty <= order.qty
    # The documented seed "<order id>:<evaluation count>": the quote at acceptance was evaluation 1
    # (not marketable), the first bar evaluation 2.
    expected = AlpacaParity(D("0.5")).quantity(D(10), AAPL, random.Random(f"{order.id}:2"))
    assert first.fills[0].qty == expected


def test_alpaca_parity_never_fills_more_than_is_open() -> None:
    # Every evaluation is a partial (probability 1) until one lot is left, which fills whole.
    always = ExecutionPolicy(fill_model=FillModelName.ALPACA_PARITY, partial_fill_probability=D(1))
    book = _parity_run(always)
    (order,) = book.orders.values()
    assert len(book.fills) == order.evaluations - 1 > 2  # every bar until done; not the acceptance
    assert sum(f.qty for f in book.fills) == order.filled_qty
    assert order.filled_qty <= order.qty
    updates = events_of(book, order.id)
    assert updates[0] is OrderUpdate.NEW
    assert set(updates[1:-1]) == {OrderUpdate.PARTIAL_FILL}
    if order.status is OrderStatus.FILLED:
        assert (updates[-1], order.filled_qty, book.fills[-1].qty) == (OrderUpdate.FILL, D(10), AAPL.lot_size)
    assert_reservations_agree(book)


def test_alpaca_parity_with_no_partials_fills_everything_at_once() -> None:
    never = ExecutionPolicy(fill_model=FillModelName.ALPACA_PARITY, partial_fill_probability=D(0))
    book = _parity_run(never)
    (order,) = book.orders.values()
    assert (len(book.fills), order.status) == (1, OrderStatus.FILLED)


def test_a_different_order_id_draws_differently() -> None:
    always = ExecutionPolicy(fill_model=FillModelName.ALPACA_PARITY, partial_fill_probability=D(1))
    book = new_book(policy=always, new_id=ids("x"))
    submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99", tif=TimeInForce.GTC))
    book.on_tick(bar_tick(bar("98", "98.50", "97.50", "98", minute=1)))
    assert book.fills[0].qty != _parity_run(always).fills[0].qty


def test_a_replay_with_the_same_ids_gives_identical_books() -> None:
    """Determinism beyond parity: the same inputs give the same events, fills and updates."""
    runs = []
    for _ in range(2):
        book = new_book(long_aapl("5"), ExecutionPolicy(fill_model=FillModelName.VOLUME_SHARE))
        submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="99", tif=TimeInForce.GTC))
        submit(book, request(Side.SELL, "5", OrderType.STOP, stop="97", tif=TimeInForce.GTC))
        for minute, low in enumerate(["98.50", "97.50", "96", "98"], start=1):
            book.on_tick(bar_tick(bar("99", "99.50", low, "98.80", minute=minute, volume="50")))
        runs.append(book)
    assert runs[0].events == runs[1].events
    assert runs[0].fills == runs[1].fills
    assert runs[0].orders == runs[1].orders


def test_crypto_trades_around_the_clock() -> None:
    book = new_book(policy=NBBO)
    saturday = datetime.fromisoformat("2026-01-10T03:00:00+00:00")
    quote = replace(q("49999", "50001", saturday, symbol="BTC/USD"))
    order = submit(
        book,
        request(Side.BUY, "0.1", OrderType.LIMIT, limit="49000", tif=TimeInForce.GTC, symbol="BTC/USD"),
        quote=quote,
        now=saturday,
    )
    assert order.status is OrderStatus.NEW
    dip = Quote("BTC/USD", saturday + MINUTE, D("48990"), D("48995"))
    book.on_tick(Tick("BTC/USD", dip.time, quote=dip, in_session=False))
    assert book.orders[order.id].filled_avg_price == D("48995")
    day = refused(lambda: submit(book, request(Side.BUY, "0.1", symbol="BTC/USD"), quote=quote, now=saturday))
    assert day.code == "invalid_time_in_force"


def test_a_triggered_stop_partly_filled_keeps_filling_as_a_market_order() -> None:
    """Regression: the rest of a triggered stop crashed the next bar (it was matched as a
    stop-limit resting as a limit, without a limit); on a quote it waited for the stop again."""
    share = ExecutionPolicy(
        fill_model=FillModelName.VOLUME_SHARE, participation_rate=D("0.1"), impact_bps=D(0)
    )
    book = new_book(long_aapl("10"), share)
    order = submit(book, request(Side.SELL, "10", OrderType.STOP, stop="98", tif=TimeInForce.GTC))
    book.on_tick(bar_tick(bar("99", "99", "97", "97.50", minute=1, volume="40")))  # 4 at the stop
    partial = book.orders[order.id]
    assert (partial.status, partial.filled_qty, partial.triggered) == (
        OrderStatus.PARTIALLY_FILLED,
        D(4),
        True,
    )
    # Back above the stop: the rest still sells, at the open, as a market order would.
    book.on_tick(bar_tick(bar("99.50", "100", "99", "99.80", minute=2, volume="30")))
    assert book.orders[order.id].filled_qty == D(7)
    assert book.fills[-1].price == D("99.50")
    book.on_tick(quote_tick(replace(q("99.70", "99.72", T0 + 3 * MINUTE), bid_size=D(1000))))
    done = book.orders[order.id]
    assert (done.status, book.fills[-1].price) == (OrderStatus.FILLED, D("99.70"))
    assert "AAPL" not in book.state.positions


def test_a_triggered_trailing_stop_partly_filled_keeps_filling() -> None:
    share = ExecutionPolicy(
        fill_model=FillModelName.VOLUME_SHARE, participation_rate=D("0.1"), impact_bps=D(0)
    )
    book = new_book(long_aapl("10"), share)
    req = request(Side.SELL, "10", OrderType.TRAILING_STOP, tif=TimeInForce.GTC, trail_price=D(1))
    order = submit(book, req, quote=q(at=T0 - timedelta(minutes=5)))
    book.on_tick(bar_tick(bar("100", "101", "100", "100.50", minute=1, volume="1000")))  # watermark 101
    book.on_tick(bar_tick(bar("100.50", "100.50", "99.50", "99.80", minute=2, volume="50")))  # 5 at 100
    assert (book.orders[order.id].filled_qty, book.fills[-1].price) == (D(5), D(100))
    book.on_tick(bar_tick(bar("100.80", "101.50", "100.70", "101.20", minute=3, volume="1000")))
    assert (book.orders[order.id].status, book.fills[-1].price) == (OrderStatus.FILLED, D("100.80"))
