"""Golden cases for resting-order matching against bars (gap rules) and quotes (Alpaca's rule)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propdesk.execution.matching import Trigger, match_bar, match_quote
from propdesk.model.market import Bar, Quote
from propdesk.model.orders import OrderType, Side

T = datetime(2026, 1, 5, 15, tzinfo=UTC)
D = Decimal


def bar(o: str, h: str, low: str, c: str) -> Bar:
    return Bar("X", "1Min", T, D(o), D(h), D(low), D(c))


def quote(bid: str, ask: str) -> Quote:
    return Quote("X", T, D(bid), D(ask))


def limit(side: Side, price: str) -> Trigger:
    return Trigger(side, OrderType.LIMIT, limit_price=D(price))


def stop(side: Side, price: str) -> Trigger:
    return Trigger(side, OrderType.STOP, stop_price=D(price))


@pytest.mark.parametrize(
    ("trigger", "candle", "expected"),
    [
        # buy limit 100: gap down opens below -> the open; touched exactly -> the limit; missed -> none
        (limit(Side.BUY, "100"), bar("98", "99", "97", "98.5"), "98"),
        (limit(Side.BUY, "100"), bar("101", "102", "100", "101.5"), "100"),
        (limit(Side.BUY, "100"), bar("101", "102", "100.01", "101.5"), None),
        # sell limit 100: gap up -> the open; touched -> the limit
        (limit(Side.SELL, "100"), bar("103", "104", "102", "103"), "103"),
        (limit(Side.SELL, "100"), bar("99", "100", "98", "99"), "100"),
        (limit(Side.SELL, "100"), bar("99", "99.99", "98", "99"), None),
        # buy stop 100: jumped through at the open -> the open; reached intra-bar -> the stop
        (stop(Side.BUY, "100"), bar("102", "103", "101", "102"), "102"),
        (stop(Side.BUY, "100"), bar("99", "100.5", "98", "100"), "100"),
        (stop(Side.BUY, "100"), bar("99", "99.99", "98", "99"), None),
        # sell stop 100: gap down through it -> the open (worse than the stop, as in a real gap)
        (stop(Side.SELL, "100"), bar("95", "96", "94", "95"), "95"),
        (stop(Side.SELL, "100"), bar("101", "101", "99", "100"), "100"),
        # market -> the open
        (Trigger(Side.BUY, OrderType.MARKET), bar("50", "51", "49", "50.5"), "50"),
    ],
)
def test_bar_gap_rules(trigger: Trigger, candle: Bar, expected: str | None) -> None:
    assert match_bar(trigger, candle).price == (None if expected is None else D(expected))


def test_stop_limit_fills_at_the_trigger_when_the_limit_allows_else_rests_as_a_limit() -> None:
    order = Trigger(Side.BUY, OrderType.STOP_LIMIT, stop_price=D(100), limit_price=D("100.50"))
    hit = match_bar(order, bar("99", "101", "98", "100"))
    assert hit.price == D(100)
    assert hit.trigger.triggered
    gapped = match_bar(order, bar("102", "103", "101", "102"))  # triggers at 102, above the limit
    assert gapped.price is None
    assert gapped.trigger.triggered
    later = match_bar(gapped.trigger, bar("101", "101", "100.25", "100.5"))
    assert later.price == D("100.50")


def test_trailing_stop_follows_the_high_and_triggers_on_a_later_bar() -> None:
    order = Trigger(Side.SELL, OrderType.TRAILING_STOP, trail_percent=D(5), watermark=D(100))
    assert order.trailing_stop == D(95)
    up = match_bar(order, bar("100", "110", "99", "109"))  # checked against 95 first, then trails to 110
    assert up.price is None
    assert up.trigger.watermark == D(110)
    assert up.trigger.trailing_stop == D("104.5")
    down = match_bar(up.trigger, bar("106", "107", "103", "104"))
    assert down.price == D("104.5")
    by_price = Trigger(Side.BUY, OrderType.TRAILING_STOP, trail_price=D(2), watermark=D(50))
    assert match_bar(by_price, bar("53", "54", "52", "53")).price == D(53)  # gap through 52


def test_quotes_fill_marketable_orders_at_the_far_side_with_price_improvement() -> None:
    assert match_quote(limit(Side.BUY, "101"), quote("99.98", "100.02")).price == D("100.02")
    assert match_quote(limit(Side.BUY, "100"), quote("99.98", "100.02")).price is None
    assert match_quote(limit(Side.SELL, "99.98"), quote("99.98", "100.02")).price == D("99.98")
    # A stop triggers on the far side and then fills like a market order.
    assert match_quote(stop(Side.BUY, "100.02"), quote("99.98", "100.02")).price == D("100.02")
    assert match_quote(stop(Side.SELL, "99.97"), quote("99.98", "100.02")).price is None
    stop_limit = Trigger(Side.SELL, OrderType.STOP_LIMIT, stop_price=D(99), limit_price=D("98.90"))
    triggered = match_quote(stop_limit, quote("98.80", "98.85"))
    assert triggered.price is None
    assert triggered.trigger.triggered
    assert match_quote(triggered.trigger, quote("98.95", "99.00")).price == D("98.95")


def test_trailing_stop_on_quotes_tracks_the_near_side() -> None:
    order = Trigger(Side.SELL, OrderType.TRAILING_STOP, trail_price=D(1))
    first = match_quote(order, quote("100", "100.02"))
    assert first.trigger.watermark == D(100)
    higher = match_quote(first.trigger, quote("102", "102.02"))
    assert higher.trigger.trailing_stop == D(101)
    assert match_quote(higher.trigger, quote("101", "101.02")).price == D(101)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"type": OrderType.LIMIT},
        {"type": OrderType.STOP, "limit_price": D(1), "stop_price": D(1)},
        {"type": OrderType.TRAILING_STOP, "trail_price": D(1), "trail_percent": D(1)},
    ],
)
def test_inconsistent_price_fields_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="orders"):
        Trigger(Side.BUY, **kwargs)  # type: ignore[arg-type]


@st.composite
def bars(draw: st.DrawFn) -> Bar:
    points = sorted(draw(st.lists(st.integers(1, 10_000), min_size=4, max_size=4)))
    low, a, b, high = (D(p) / 100 for p in points)
    o, c = (a, b) if draw(st.booleans()) else (b, a)
    return Bar("X", "1Min", T, o, high, low, c)


@given(
    bars(),
    st.sampled_from([OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT]),
    st.sampled_from(list(Side)),
    st.integers(1, 10_000),
    st.integers(1, 10_000),
)
def test_a_bar_never_fills_outside_its_range_or_worse_than_a_limit(
    candle: Bar, kind: OrderType, side: Side, p1: int, p2: int
) -> None:
    limit_price = D(p1) / 100 if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
    stop_price = D(p2) / 100 if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None
    trigger = Trigger(side, kind, limit_price=limit_price, stop_price=stop_price)
    price = match_bar(trigger, candle).price
    if price is None:
        return
    assert candle.low <= price <= candle.high
    if limit_price is not None:
        assert price <= limit_price if side is Side.BUY else price >= limit_price
