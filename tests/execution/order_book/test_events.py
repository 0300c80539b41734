"""Golden tests for sessions as on Alpaca (pure): an equity order sent while the NYSE is closed is
``accepted``, turns ``new`` when the session opens, trades only on events of that session (never
on an after-hours quote) and a DAY order expires at that session's close (13:00 New York on an
early close). Crypto trades around the clock and takes only gtc and ioc. ``pd-fill-`` and
``pd-reject-`` decide an order's outcome at once, whatever the session.

Session times come from the real calendar (``session_view``), as the order services use it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from propdesk.execution.order_book.book import OrderBook
from propdesk.execution.order_book.requests import StopLoss, TakeProfit, Tick
from propdesk.model.instruments import AssetClass
from propdesk.model.market import Bar
from propdesk.model.orders import OrderClass, OrderStatus, OrderType, OrderUpdate, Side, TimeInForce
from propdesk.model.policy import ExecutionPolicy
from propdesk.services.orders.book_runner import session_view
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


def open_tick(at: datetime, symbol: str = "AAPL") -> Tick:
    return Tick(symbol, at, opens_session=True)


def statuses(book: OrderBook, order_id: str) -> list[tuple[OrderUpdate, OrderStatus, datetime]]:
    return [(u.event, u.order.status, u.at) for u in book.updates if u.order.id == order_id]


# Friday 2026-01-09 17:00 New York (22:00 UTC) → Monday 2026-01-12, open 09:30 (14:30 UTC), close
# 16:00 (21:00 UTC).
FRIDAY_EVENING = utc("2026-01-09T22:00:00")
MONDAY_OPEN = utc("2026-01-12T14:30:00")
MONDAY_CLOSE = utc("2026-01-12T21:00:00")


def test_the_calendar_view_friday_evening() -> None:
    view = session_view(AssetClass.US_EQUITY, FRIDAY_EVENING)
    assert (view.is_open, view.next_open, view.close) == (False, MONDAY_OPEN, MONDAY_CLOSE)


def test_a_day_market_order_sent_friday_evening_waits_and_fills_on_mondays_first_quote() -> None:
    book = new_book(policy=NBBO)
    order = submit(
        book, request(Side.BUY, "10"), quote=q("101.00", "101.10", FRIDAY_EVENING), now=FRIDAY_EVENING
    )
    # Accepted, not filled at Friday's after-hours quote; it lives until Monday's close.
    assert (order.status, order.expires_at, order.filled_qty, book.fills) == (
        OrderStatus.ACCEPTED,
        MONDAY_CLOSE,
        D(0),
        [],
    )
    assert order.reserved > 0
    # After-hours and pre-market quotes (outside the session) do nothing, not even on Monday.
    for moment in ("2026-01-09T23:00:00", "2026-01-10T15:00:00", "2026-01-12T14:29:59"):
        book.on_tick(quote_tick(q("99.00", "99.10", utc(moment)), in_session=False))
    assert book.orders[order.id].status is OrderStatus.ACCEPTED
    # The open: the order goes live, stamped at 09:30, before any quote of the session.
    book.on_tick(open_tick(MONDAY_OPEN))
    live = book.orders[order.id]
    assert (live.status, live.updated_at, book.fills) == (OrderStatus.NEW, MONDAY_OPEN, [])
    # The session's first quote fills it at its ask.
    book.on_tick(quote_tick(q("100.40", "100.44", MONDAY_OPEN + timedelta(seconds=3))))
    done = book.orders[order.id]
    assert (done.status, done.filled_avg_price, done.filled_at) == (
        OrderStatus.FILLED,
        D("100.44"),
        MONDAY_OPEN + timedelta(seconds=3),
    )
    assert statuses(book, order.id) == [
        (OrderUpdate.NEW, OrderStatus.ACCEPTED, FRIDAY_EVENING),
        (OrderUpdate.NEW, OrderStatus.NEW, MONDAY_OPEN),
        (OrderUpdate.FILL, OrderStatus.FILLED, MONDAY_OPEN + timedelta(seconds=3)),
    ]
    assert_reservations_agree(book)


def test_a_day_limit_sent_friday_evening_expires_at_mondays_close() -> None:
    book = new_book(policy=NBBO)
    order = submit(
        book,
        request(Side.BUY, "10", OrderType.LIMIT, limit="95"),
        quote=q("100", "100.10", FRIDAY_EVENING),
        now=FRIDAY_EVENING,
    )
    book.on_tick(open_tick(MONDAY_OPEN))
    book.on_tick(quote_tick(q("99.90", "100.00", MONDAY_OPEN + MINUTE)))
    assert book.orders[order.id].status is OrderStatus.NEW
    book.on_tick(close_tick(MONDAY_CLOSE, last_quote=q("99.90", "100.00", MONDAY_CLOSE - MINUTE)))
    expired = book.orders[order.id]
    assert (expired.status, expired.expired_at, expired.reserved) == (OrderStatus.EXPIRED, MONDAY_CLOSE, D(0))
    assert events_of(book, order.id) == [OrderUpdate.NEW, OrderUpdate.NEW, OrderUpdate.EXPIRED]
    assert book.state.reservations == {}


def test_a_gtc_order_sent_on_a_weekend_goes_live_at_the_open_and_survives_the_close() -> None:
    saturday = utc("2026-01-10T16:00:00")
    book = new_book()
    order = submit(
        book, request(Side.BUY, "10", OrderType.LIMIT, limit="90", tif=TimeInForce.GTC), now=saturday
    )
    assert (order.status, order.expires_at) == (OrderStatus.ACCEPTED, None)
    book.on_tick(open_tick(MONDAY_OPEN))
    book.on_tick(close_tick(MONDAY_CLOSE))
    assert book.orders[order.id].status is OrderStatus.NEW


def test_without_an_open_event_the_sessions_first_bar_starts_the_order_then_fills_it() -> None:
    book = new_book()
    order = submit(book, request(Side.BUY, "10"), quote=q(at=FRIDAY_EVENING), now=FRIDAY_EVENING)
    premarket = Bar("AAPL", "1Min", MONDAY_OPEN - MINUTE, D(98), D(98), D(98), D(98), D(0))
    book.on_tick(Tick("AAPL", MONDAY_OPEN, bar=premarket, in_session=False, starts=premarket.start))
    assert book.orders[order.id].status is OrderStatus.ACCEPTED
    first = Bar("AAPL", "1Min", MONDAY_OPEN, D("100.5"), D(101), D(100), D("100.8"), D(0))
    book.on_tick(Tick("AAPL", MONDAY_OPEN + MINUTE, bar=first, starts=first.start))
    assert statuses(book, order.id) == [
        (OrderUpdate.NEW, OrderStatus.ACCEPTED, FRIDAY_EVENING),
        (OrderUpdate.NEW, OrderStatus.NEW, MONDAY_OPEN),
        (OrderUpdate.FILL, OrderStatus.FILLED, MONDAY_OPEN + MINUTE),
    ]
    assert book.orders[order.id].filled_avg_price == D("100.5")  # the bar's open


def test_an_opg_order_goes_live_at_the_open_and_fills_on_the_first_event() -> None:
    book = new_book(policy=NBBO)
    order = submit(
        book, request(Side.BUY, "10", tif=TimeInForce.OPG), quote=q(at=FRIDAY_EVENING), now=FRIDAY_EVENING
    )
    book.on_tick(open_tick(MONDAY_OPEN))
    assert book.orders[order.id].status is OrderStatus.NEW
    book.on_tick(quote_tick(q("100.20", "100.24", MONDAY_OPEN)))
    assert book.orders[order.id].filled_avg_price == D("100.24")


def test_an_open_event_of_a_session_before_the_order_changes_nothing() -> None:
    book = new_book()
    order = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="90"), now=FRIDAY_EVENING)
    book.on_tick(open_tick(utc("2026-01-09T14:30:00")))  # Friday's open, before the order
    assert book.orders[order.id].status is OrderStatus.ACCEPTED
    assert events_of(book, order.id) == [OrderUpdate.NEW]


# --- an early close: Friday 2026-11-27, the day after Thanksgiving, closes at 13:00 (18:00 UTC) ---

THANKSGIVING = utc("2026-11-26T17:00:00")  # Thursday, a holiday: closed all day
EARLY_OPEN = utc("2026-11-27T14:30:00")
EARLY_CLOSE = utc("2026-11-27T18:00:00")


def test_an_order_sent_on_thanksgiving_lives_until_the_early_close() -> None:
    view = session_view(AssetClass.US_EQUITY, THANKSGIVING)
    assert (view.is_open, view.next_open, view.close) == (False, EARLY_OPEN, EARLY_CLOSE)
    book = new_book(policy=NBBO)
    order = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="95"), now=THANKSGIVING)
    assert (order.status, order.expires_at) == (OrderStatus.ACCEPTED, EARLY_CLOSE)
    book.on_tick(open_tick(EARLY_OPEN))
    book.on_tick(quote_tick(q("99", "99.10", utc("2026-11-27T17:59:59"))))
    assert book.orders[order.id].status is OrderStatus.NEW
    # An event after 13:00 (the normal 16:00 close is too late) finds it expired at 13:00.
    book.on_tick(quote_tick(q("94", "94.10", utc("2026-11-27T18:30:00")), in_session=False))
    expired = book.orders[order.id]
    assert (expired.status, expired.expired_at, book.fills) == (OrderStatus.EXPIRED, EARLY_CLOSE, [])


def test_an_order_sent_after_the_early_close_waits_for_monday() -> None:
    after = utc("2026-11-27T18:30:00")  # 13:30 New York
    view = session_view(AssetClass.US_EQUITY, after)
    assert (view.is_open, view.next_open, view.close) == (
        False,
        utc("2026-11-30T14:30:00"),
        utc("2026-11-30T21:00:00"),
    )
    book = new_book()
    order = submit(book, request(Side.BUY, "10", OrderType.LIMIT, limit="95"), now=after)
    assert (order.status, order.expires_at) == (OrderStatus.ACCEPTED, utc("2026-11-30T21:00:00"))


# --- crypto: around the clock, gtc and ioc only ---------------------------------------------------


def test_crypto_fills_on_a_saturday_night() -> None:
    saturday_night = utc("2026-01-11T03:00:00")
    book = new_book(policy=NBBO)
    order = submit(
        book,
        request(Side.BUY, "0.5", symbol="BTC/USD", tif=TimeInForce.GTC),
        quote=q("60000", "60010", saturday_night, symbol="BTC/USD"),
        now=saturday_night,
    )
    assert (order.status, order.symbol, order.filled_avg_price) == (OrderStatus.FILLED, "BTC/USD", D(60010))
    assert book.state.positions["BTC/USD"].qty == D("0.5")
    ioc = submit(
        book,
        request(Side.SELL, "0.2", symbol="BTC/USD", tif=TimeInForce.IOC, client_order_id="ioc"),
        quote=q("60000", "60010", saturday_night, symbol="BTC/USD"),
        now=saturday_night,
    )
    assert (ioc.status, ioc.filled_avg_price) == (OrderStatus.FILLED, D(60000))


@pytest.mark.parametrize("tif", [TimeInForce.DAY, TimeInForce.FOK, TimeInForce.OPG, TimeInForce.CLS])
def test_crypto_refuses_other_times_in_force_with_alpacas_message(tif: TimeInForce) -> None:
    rejection = refused(
        lambda: submit(
            new_book(),
            request(Side.BUY, "1", symbol="BTC/USD", tif=tif),
            quote=q("60000", "60010", symbol="BTC/USD"),
        )
    )
    assert (rejection.code, rejection.message, rejection.kind) == (
        "invalid_time_in_force",
        "invalid crypto time_in_force",
        "invalid",
    )


# --- deterministic outcomes ------------------------------------------------------------------------


def test_pd_fill_fills_a_limit_at_its_limit_on_a_sunday_ignoring_the_quote() -> None:
    sunday = utc("2026-01-11T18:00:00")
    book = new_book(policy=NBBO)
    order = submit(
        book,
        request(Side.BUY, "10", OrderType.LIMIT, limit="99.50", client_order_id="pd-fill-a"),
        quote=q("98", "98.10", sunday),
        now=sunday,
    )
    assert (order.status, order.filled_qty, order.filled_avg_price, order.filled_at) == (
        OrderStatus.FILLED,
        D(10),
        D("99.50"),
        sunday,
    )
    assert statuses(book, order.id) == [
        (OrderUpdate.NEW, OrderStatus.NEW, sunday),
        (OrderUpdate.FILL, OrderStatus.FILLED, sunday),
    ]
    assert_reservations_agree(book)


@pytest.mark.parametrize(
    ("kind", "prices", "quoted", "expected"),
    [
        (OrderType.MARKET, {}, True, "100.01"),  # the quote's far side, even a stale one
        (OrderType.STOP, {"stop": "105"}, True, "100.01"),
        (OrderType.STOP, {"stop": "105"}, False, "105"),  # no quote: the stop price
        (OrderType.STOP_LIMIT, {"stop": "105", "limit": "106"}, True, "106"),
    ],
)
def test_pd_fill_prices(kind: OrderType, prices: dict[str, str], quoted: bool, expected: str) -> None:
    sunday = utc("2026-01-11T18:00:00")
    book = new_book(policy=NBBO)
    order = submit(
        book,
        request(Side.BUY, "10", kind, client_order_id="pd-fill-p", **prices),  # type: ignore[arg-type]
        quote=q(at=sunday - timedelta(days=2)) if quoted else None,
        now=sunday,
    )
    assert (order.status, order.filled_avg_price) == (OrderStatus.FILLED, D(expected))


def test_pd_fill_of_a_market_order_without_any_price_is_refused() -> None:
    book = new_book(long_aapl("10"))  # a sell that only closes reserves nothing, so no quote is needed
    rejection = refused(
        lambda: submit(book, request(Side.SELL, "10", client_order_id="pd-fill-x"), quote=None)
    )
    assert rejection.code == "price_missing"
    assert "pd-fill-" in rejection.message
    assert book.updates == []
    assert book.fills == []


def test_pd_fill_ioc_is_taken_while_closed_and_a_bracket_entry_fills_and_releases_its_exits() -> None:
    sunday = utc("2026-01-11T18:00:00")
    book = new_book(policy=NBBO)
    ioc = submit(
        book,
        request(
            Side.BUY, "5", OrderType.LIMIT, limit="100", tif=TimeInForce.IOC, client_order_id="pd-fill-ioc"
        ),
        now=sunday,
    )
    assert (ioc.status, ioc.filled_avg_price) == (OrderStatus.FILLED, D(100))
    entry = submit(
        book,
        request(
            Side.BUY,
            "10",
            OrderType.LIMIT,
            limit="100",
            tif=TimeInForce.GTC,
            client_order_id="pd-fill-bracket",
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfit(limit_price=D(110)),
            stop_loss=StopLoss(stop_price=D(90)),
        ),
        now=sunday,
    )
    assert entry.status is OrderStatus.FILLED
    legs = [o for o in book.orders.values() if o.parent_id == entry.id]
    assert sorted((leg.status, leg.qty) for leg in legs) == [(OrderStatus.NEW, D(10))] * 2
    assert book.state.positions["AAPL"].qty == D(15)


def test_pd_reject_rejects_at_once_and_changes_nothing_else() -> None:
    book = new_book()
    before = book.state
    order = submit(
        book,
        request(
            Side.BUY,
            "10",
            OrderType.LIMIT,
            limit="100",
            client_order_id="pd-reject-1",
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfit(limit_price=D(110)),
            stop_loss=StopLoss(stop_price=D(90)),
        ),
    )
    assert (order.status, order.reserved, order.failed_at, order.reason) == (
        OrderStatus.REJECTED,
        D(0),
        order.created_at,
        "rejected on request (client_order_id prefix pd-reject-)",
    )
    assert events_of(book, order.id) == [OrderUpdate.REJECTED]
    legs = [o for o in book.orders.values() if o.parent_id == order.id]
    assert [leg.status for leg in legs] == [OrderStatus.REJECTED] * 2
    # Reserved then released: cash, positions and reservations as before.
    assert (book.state.cash, book.state.positions, book.state.reservations) == (
        before.cash,
        before.positions,
        before.reservations,
    )
    assert book.fills == []


def test_pd_prefixes_still_pass_the_acceptance_checks() -> None:
    book = new_book(policy=ExecutionPolicy(max_order_notional=D(10**9)))
    rejection = refused(
        lambda: submit(
            book, request(Side.BUY, "100000", OrderType.LIMIT, limit="100", client_order_id="pd-fill-big")
        )
    )
    assert rejection.code == "insufficient_buying_power"
    rejection = refused(lambda: submit(book, request(Side.BUY, "-1", client_order_id="pd-reject-bad")))
    assert rejection.code == "invalid_quantity"
    assert book.updates == []
