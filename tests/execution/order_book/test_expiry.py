"""Golden tests for time in force: DAY expiry at the real NYSE close (16:00 New York, 13:00 on an
early close), GTC, OPG at the open, CLS at the close, IOC and FOK against partial availability.

Session times come from the calendar (``session_view``), as the order services use it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from propdesk.execution.order_book.book import OrderBook
from propdesk.execution.order_book.requests import Tick
from propdesk.model.instruments import AssetClass
from propdesk.model.market import Bar
from propdesk.model.orders import OrderStatus, OrderType, OrderUpdate, Side, TimeInForce
from propdesk.model.policy import ExecutionPolicy, FillModelName
from propdesk.services.orders.book_runner import session_view
from tests.execution.factories import T0
from tests.execution.order_book.test_book import (
    MINUTE,
    NBBO,
    assert_reservations_agree,
    close_tick,
    events_of,
    long_aapl,
    new_book,
    q,
    quote_tick,
    refused,
    request,
    submit,
    utc,
)

D = Decimal


def minute_bar(start: datetime, o: str, h: str, low: str, c: str, volume: str = "0") -> Bar:
    return Bar("AAPL", "1Min", start, D(o), D(h), D(low), D(c), D(volume))


def at_end(b: Bar, *, in_session: bool = True) -> Tick:
    return Tick(b.symbol, b.start + MINUTE, bar=b, in_session=in_session, starts=b.start)


def day_limit(book: OrderBook, now: datetime, tif: TimeInForce = TimeInForce.DAY) -> str:
    order = submit(
        book, request(Side.BUY, "10", OrderType.LIMIT, limit="90", tif=tif), quote=q(at=now), now=now
    )
    return order.id


# --- DAY ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("placed", "close"),
    [
        ("2026-01-05T15:00:00", "2026-01-05T21:00:00"),  # winter: 16:00 New York is 21:00 UTC
        ("2026-07-06T15:00:00", "2026-07-06T20:00:00"),  # summer time: 20:00 UTC
        ("2026-11-27T15:00:00", "2026-11-27T18:00:00"),  # the day after Thanksgiving closes at 13:00
    ],
)
def test_a_day_order_expires_at_the_calendar_close(placed: str, close: str) -> None:
    now, closes = utc(placed), utc(close)
    assert session_view(AssetClass.US_EQUITY, now).close == closes
    book = new_book()
    order_id = day_limit(book, now)
    assert book.orders[order_id].expires_at == closes
    # Events before the close leave it working: the last minute bar of the session, a quote, and
    # a close event of an earlier time (not this order's close).
    last = minute_bar(closes - MINUTE, "100", "100.50", "99.50", "100")
    book.on_tick(quote_tick(q(at=closes - timedelta(seconds=1))))
    book.on_tick(at_end(last))
    book.on_tick(close_tick(closes - timedelta(hours=1), last_bar=last))
    assert book.orders[order_id].status is OrderStatus.NEW
    # The session's close event expires it, stamped at the close, and releases its reservation.
    book.on_tick(close_tick(closes, last_bar=last))
    expired = book.orders[order_id]
    assert (expired.status, expired.expired_at, expired.reason) == (
        OrderStatus.EXPIRED,
        closes,
        "day order expired",
    )
    assert expired.reserved == 0
    assert book.state.reservations == {}
    assert events_of(book, order_id) == [OrderUpdate.NEW, OrderUpdate.EXPIRED]


def test_on_an_early_close_day_the_normal_close_is_too_late() -> None:
    """2026-11-27 closes at 18:00 UTC: an order still open at 18:00 expires, whatever 21:00 says."""
    now = utc("2026-11-27T17:30:00")
    book = new_book()
    order_id = day_limit(book, now)
    book.on_tick(quote_tick(q(at=utc("2026-11-27T17:59:59"))))
    assert book.orders[order_id].is_open
    book.on_tick(close_tick(utc("2026-11-27T18:00:00"), last_quote=q(at=utc("2026-11-27T17:59:59"))))
    assert book.orders[order_id].expired_at == utc("2026-11-27T18:00:00")


def test_a_day_order_expires_on_the_first_event_after_its_close_without_a_close_event() -> None:
    book = new_book()
    order_id = day_limit(book, T0)
    next_morning = minute_bar(utc("2026-01-06T14:30:00"), "89", "89.50", "88", "89")
    book.on_tick(at_end(next_morning))  # would fill the limit, but the order died at 21:00
    expired = book.orders[order_id]
    assert (expired.status, expired.expired_at, book.fills) == (
        OrderStatus.EXPIRED,
        utc("2026-01-05T21:00:00"),
        [],
    )


def test_a_day_order_sent_after_the_close_waits_for_the_next_session_and_lives_until_its_close() -> None:
    evening = utc("2026-01-05T22:00:00")
    book = new_book(policy=NBBO)
    order = submit(
        book,
        request(Side.BUY, "10", OrderType.LIMIT, limit="99"),
        quote=q("98.90", "98.95", evening),
        now=evening,
    )
    # Marketable against the evening quote, but the market is closed: accepted, not filled.
    assert (order.status, order.expires_at, book.fills) == (
        OrderStatus.ACCEPTED,
        utc("2026-01-06T21:00:00"),
        [],
    )
    # Monday's close event is older than the order; Tuesday's pre-market is outside the session.
    book.on_tick(close_tick(utc("2026-01-05T21:00:00")))
    premarket = minute_bar(utc("2026-01-06T13:00:00"), "98", "98.50", "97", "98")
    book.on_tick(at_end(premarket, in_session=False))
    assert book.orders[order.id].status is OrderStatus.ACCEPTED
    opening = minute_bar(utc("2026-01-06T14:30:00"), "98.50", "99", "98", "98.80")
    book.on_tick(at_end(opening))
    assert (book.orders[order.id].status, book.orders[order.id].filled_avg_price) == (
        OrderStatus.FILLED,
        D("98.50"),
    )


def test_a_gtc_order_survives_the_close() -> None:
    book = new_book()
    order_id = day_limit(book, T0, TimeInForce.GTC)
    assert book.orders[order_id].expires_at is None
    book.on_tick(close_tick(utc("2026-01-05T21:00:00")))
    book.on_tick(at_end(minute_bar(utc("2026-01-06T14:30:00"), "95", "95", "94", "94.50")))
    assert book.orders[order_id].status is OrderStatus.NEW
    book.on_tick(at_end(minute_bar(utc("2026-01-06T14:31:00"), "91", "91", "89", "90")))
    assert book.orders[order_id].filled_avg_price == D(90)


# --- OPG ----------------------------------------------------------------------------------------

EVENING = utc("2026-01-05T22:00:00")
OPEN = utc("2026-01-06T14:30:00")  # Tuesday 09:30 New York


def opg(book: OrderBook, limit: str | None = None) -> str:
    kind = OrderType.MARKET if limit is None else OrderType.LIMIT
    order = submit(
        book,
        request(Side.BUY, "10", kind, limit=limit, tif=TimeInForce.OPG),
        quote=q(at=EVENING),
        now=EVENING,
    )
    assert (order.status, order.active_from, order.expires_at) == (OrderStatus.ACCEPTED, OPEN, OPEN)
    return order.id


def test_opg_is_taken_only_while_the_market_is_closed() -> None:
    rejection = refused(lambda: submit(new_book(), request(tif=TimeInForce.OPG)))
    assert rejection.code == "market_open"
    stop = refused(
        lambda: submit(
            new_book(), request(Side.BUY, "1", OrderType.STOP, stop="101", tif=TimeInForce.OPG), now=EVENING
        )
    )
    assert stop.code == "invalid_time_in_force"


def test_an_opg_market_order_fills_at_the_open_of_the_first_bar_of_the_session() -> None:
    book = new_book()
    order_id = opg(book)
    book.on_tick(at_end(minute_bar(utc("2026-01-06T14:00:00"), "99", "99", "98", "98.50"), in_session=False))
    assert book.orders[order_id].status is OrderStatus.ACCEPTED
    # The opening bar's open, not its high or close.
    book.on_tick(at_end(minute_bar(OPEN, "101", "103", "100.50", "102.50")))
    done = book.orders[order_id]
    assert (done.status, done.filled_avg_price, done.filled_at) == (OrderStatus.FILLED, D(101), OPEN + MINUTE)


def test_an_opg_limit_fills_only_if_the_open_satisfies_it_else_it_expires() -> None:
    book = new_book()
    order_id = opg(book, limit="100")
    book.on_tick(at_end(minute_bar(OPEN, "100", "101", "99", "100.50")))
    assert book.orders[order_id].filled_avg_price == D(100)
    book = new_book()
    order_id = opg(book, limit="100")
    # The bar trades through 100 after the open, but the opening price was 100.50.
    book.on_tick(at_end(minute_bar(OPEN, "100.50", "101", "99", "99.50")))
    missed = book.orders[order_id]
    assert (missed.status, missed.reason, book.fills) == (
        OrderStatus.EXPIRED,
        "opg order not filled at the open",
        [],
    )
    assert book.state.reservations == {}


def test_an_opg_order_fills_on_a_quote_at_the_open() -> None:
    book = new_book(policy=NBBO)
    order_id = opg(book)
    book.on_tick(quote_tick(q("100.20", "100.24", OPEN)))
    assert book.orders[order_id].filled_avg_price == D("100.24")


def test_an_opg_order_that_sees_no_event_of_the_session_expires_at_its_close_stamped_at_the_open() -> None:
    book = new_book()
    order_id = opg(book)
    book.on_tick(close_tick(utc("2026-01-06T21:00:00")))
    expired = book.orders[order_id]
    assert (expired.status, expired.expired_at) == (OrderStatus.EXPIRED, OPEN)


# --- CLS ----------------------------------------------------------------------------------------

CLOSE = utc("2026-01-05T21:00:00")


def test_a_cls_order_ignores_the_session_and_fills_at_the_close_at_the_last_bar_close() -> None:
    book = new_book()
    order = submit(book, request(Side.BUY, "10", tif=TimeInForce.CLS))
    assert (order.status, order.expires_at, book.fills) == (OrderStatus.NEW, CLOSE, [])
    last = minute_bar(CLOSE - MINUTE, "100.40", "100.60", "100.20", "100.55")
    book.on_tick(at_end(minute_bar(T0 + MINUTE, "100", "101", "99", "100.50")))
    book.on_tick(at_end(last))
    assert book.orders[order.id].status is OrderStatus.NEW
    book.on_tick(close_tick(CLOSE, last_bar=last))
    done = book.orders[order.id]
    assert (done.status, done.filled_avg_price, done.filled_at) == (OrderStatus.FILLED, D("100.55"), CLOSE)


def test_a_cls_limit_the_closing_price_does_not_satisfy_expires() -> None:
    book = new_book()
    order = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="100.50", tif=TimeInForce.CLS))
    last = minute_bar(CLOSE - MINUTE, "100.40", "100.60", "100.20", "100.55")  # traded 100.20, closed 100.55
    book.on_tick(close_tick(CLOSE, last_bar=last))
    expired = book.orders[order.id]
    assert (expired.status, expired.expired_at, book.fills) == (OrderStatus.EXPIRED, CLOSE, [])
    assert book.state.reservations == {}


def test_a_cls_order_fills_against_the_last_quote_of_the_session() -> None:
    book = new_book(long_aapl("10"), NBBO)
    order = submit(book, request(Side.SELL, "10", tif=TimeInForce.CLS))
    book.on_tick(close_tick(CLOSE, last_quote=q("101.10", "101.14", CLOSE - timedelta(seconds=2))))
    assert book.orders[order.id].filled_avg_price == D("101.10")


def test_a_quote_stamped_at_the_close_does_not_expire_a_cls_order_before_the_close_event() -> None:
    """The evaluator orders quotes before the close event at the same time, and hands that quote
    to the close event as the session's last: the CLS order must still fill on it."""
    book = new_book(policy=NBBO)
    order = submit(book, request(Side.BUY, "10", tif=TimeInForce.CLS))
    last = q("100.30", "100.34", CLOSE)
    book.on_tick(quote_tick(last, in_session=False))
    book.on_tick(close_tick(CLOSE, last_quote=last))
    assert (book.orders[order.id].status, book.orders[order.id].filled_avg_price) == (
        OrderStatus.FILLED,
        D("100.34"),
    )


# --- IOC and FOK against partial availability -------------------------------------------------

SHARE = ExecutionPolicy(fill_model=FillModelName.VOLUME_SHARE, participation_rate=D("0.1"))


def test_ioc_fills_what_is_shown_and_cancels_the_rest() -> None:
    book = new_book(policy=SHARE)
    # 10% of the 500 shown at the ask: 50 of 100. Price: the ask moved by 10 bps × 50/500 = 1 bp,
    # 100.020001, rounded up to the tick.
    order = submit(book, request(Side.BUY, "100", tif=TimeInForce.IOC), quote=q(ask_size="500"))
    assert (order.status, order.filled_qty, order.filled_avg_price, order.reason) == (
        OrderStatus.CANCELED,
        D(50),
        D("100.03"),
        "ioc: unfilled remainder",
    )
    assert events_of(book, order.id) == [OrderUpdate.NEW, OrderUpdate.PARTIAL_FILL, OrderUpdate.CANCELED]
    assert book.state.positions["AAPL"].qty == D(50)
    assert order.reserved == 0
    assert book.state.reservations == {}


def test_ioc_that_cannot_trade_is_canceled_without_a_fill() -> None:
    book = new_book(policy=SHARE)
    order = submit(book, request(Side.BUY, "100", OrderType.LIMIT, limit="99", tif=TimeInForce.IOC))
    assert (order.status, order.filled_qty, book.fills) == (OrderStatus.CANCELED, D(0), [])
    stale = submit(book, request(Side.BUY, "5", tif=TimeInForce.IOC), quote=q(at=T0 - timedelta(minutes=5)))
    assert (stale.status, book.fills) == (OrderStatus.CANCELED, [])
    assert book.state.reservations == {}


def test_fok_fills_everything_or_nothing() -> None:
    book = new_book(policy=SHARE)
    short = submit(book, request(Side.BUY, "100", tif=TimeInForce.FOK), quote=q(ask_size="500"))
    assert (short.status, short.filled_qty, short.reason, book.fills) == (
        OrderStatus.CANCELED,
        D(0),
        "fok: the whole quantity is not available",
        [],
    )
    assert book.state.reservations == {}
    enough = submit(
        book, request(Side.BUY, "100", tif=TimeInForce.FOK, client_order_id="f2"), quote=q(ask_size="1000")
    )
    assert (enough.status, enough.filled_qty, enough.filled_avg_price) == (
        OrderStatus.FILLED,
        D(100),
        D("100.03"),
    )
    assert len(book.fills) == 1


def test_fok_under_alpaca_parity_is_never_partial_and_ioc_may_be() -> None:
    always = ExecutionPolicy(fill_model=FillModelName.ALPACA_PARITY, partial_fill_probability=D(1))
    book = new_book(policy=always)
    fok = submit(book, request(Side.BUY, "10", tif=TimeInForce.FOK))
    assert (fok.status, fok.filled_qty) == (OrderStatus.FILLED, D(10))
    ioc = submit(book, request(Side.BUY, "10", tif=TimeInForce.IOC))
    assert ioc.status is OrderStatus.CANCELED
    assert 0 < ioc.filled_qty < 10


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_ioc_and_fok_are_refused_outside_the_session(tif: TimeInForce) -> None:
    rejection = refused(lambda: submit(new_book(), request(tif=tif), quote=q(at=EVENING), now=EVENING))
    assert rejection.code == "market_closed"


def test_a_sell_ioc_reads_the_bid_size() -> None:
    book = new_book(long_aapl("100"), SHARE)
    order = submit(
        book, request(Side.SELL, "100", tif=TimeInForce.IOC), quote=q(bid_size="300", ask_size="5000")
    )
    assert order.filled_qty == D(30)
    assert_reservations_agree(book)
