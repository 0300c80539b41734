from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propdesk.execution.reservations import release_for_fill, reservation_amount, reservation_price
from propdesk.model.instruments import equity, future
from propdesk.model.market import Quote
from propdesk.model.orders import OrderType, Side

Q = Quote("AAPL", datetime(2026, 1, 5, 15, tzinfo=UTC), Decimal("99.98"), Decimal("100.02"))


def test_limit_orders_reserve_at_their_limit_and_market_orders_at_the_ask_plus_the_buffer() -> None:
    assert (
        reservation_price(side=Side.BUY, order_type=OrderType.LIMIT, quote=Q, limit_price=Decimal(95)) == 95
    )
    market = reservation_price(side=Side.BUY, order_type=OrderType.MARKET, quote=Q, limit_price=None)
    assert market == Decimal("100.02") * Decimal("1.025")
    short = reservation_price(
        side=Side.SELL, order_type=OrderType.LIMIT, quote=Q, limit_price=Decimal(99), opens_short=True
    )
    assert short == Decimal("100.02") * Decimal("1.03")
    with pytest.raises(ValueError, match="quote"):
        reservation_price(side=Side.BUY, order_type=OrderType.STOP, quote=None, limit_price=None)


def test_amount_is_margin_plus_fee_rounded_up_to_the_cent() -> None:
    assert reservation_amount(
        equity("AAPL"), Decimal(10), Decimal("100.015"), leverage=Decimal(5), fee=Decimal("1")
    ) == Decimal("201.03")
    es = future("ES")
    assert reservation_amount(
        es, Decimal(1), Decimal(5000), leverage=Decimal(10), fee=Decimal("2.5")
    ) == Decimal("25002.50")


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**7), places=2),
    st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=10),
)
def test_partial_fills_release_exactly_the_whole_reservation_by_the_end(
    held: Decimal, fills: list[int]
) -> None:
    open_qty = Decimal(sum(fills))
    remaining = held
    for qty in fills:
        released = release_for_fill(remaining, open_qty, Decimal(qty))
        assert 0 <= released <= remaining
        remaining -= released
        open_qty -= qty
    assert remaining == 0
