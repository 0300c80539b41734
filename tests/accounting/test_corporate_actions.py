"""Split and dividend position math, by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from propdesk.accounting.corporate_actions import dividend_amount, split_position, split_ratio
from propdesk.accounting.positions import Position
from propdesk.model.instruments import AssetClass, InstrumentSpec
from tests.db import T0

D = Decimal
STOCK = InstrumentSpec("XYZ", AssetClass.US_EQUITY)


def _held(qty: str, cost: str, mark: str) -> Position:
    return Position(STOCK, D(qty), D(cost), D(mark), T0)


def test_a_short_keeps_whole_shares_toward_zero_and_pays_for_the_fraction() -> None:
    # short 101 sold at 60 (cost -6060), marked 66; 3-for-2 -> -151.5: -151 kept, -0.5 bought back at 44
    effect = split_position(_held("-101", "-6060", "66"), D(2), D(3), whole_shares=True)
    assert (effect.qty_after, effect.cost_after, effect.mark_after) == (D(-151), D(-6040), D(44))
    assert (effect.lieu_qty, effect.cash_delta, effect.realized_pnl) == (D("-0.5"), D(-22), D(-2))


def test_a_fractionable_symbol_keeps_the_fraction() -> None:
    effect = split_position(_held("101", "6060", "66"), D(2), D(3), whole_shares=False)
    assert (effect.qty_after, effect.cost_after, effect.cash_delta) == (D("151.5"), D(6060), D(0))


def test_a_reverse_split_of_less_than_one_new_share_closes_the_position() -> None:
    effect = split_position(_held("7", "14", "2.5"), D(10), D(1), whole_shares=True, lieu_price=D(24))
    assert (effect.qty_after, effect.cost_after) == (D(0), D(0))
    assert (effect.lieu_qty, effect.cash_delta, effect.realized_pnl) == (D("0.7"), D("16.8"), D("2.8"))


def test_rates_must_be_positive_and_dividends_follow_the_sign() -> None:
    with pytest.raises(ValueError, match="positive"):
        split_ratio(D(0), D(2))
    assert dividend_amount(_held("100", "1929", "19.29"), D("0.05")) == D("5.00")
    assert dividend_amount(_held("-40", "-771.6", "19.29"), D("0.05")) == D("-2.00")


@settings(max_examples=300, deadline=None)
@given(
    qty=st.integers(min_value=-100_000, max_value=100_000).filter(bool),
    price_cents=st.integers(min_value=1, max_value=1_000_000),
    mark_cents=st.integers(min_value=1, max_value=1_000_000),
    old_rate=st.integers(min_value=1, max_value=20),
    new_rate=st.integers(min_value=1, max_value=20),
    whole=st.booleans(),
)
def test_a_split_conserves_shares_cost_and_value(
    qty: int, price_cents: int, mark_cents: int, old_rate: int, new_rate: int, whole: bool
) -> None:
    """Whatever the book: shares × ratio are kept or paid for, the cost either stays or leaves as
    the cash-in-lieu's basis, and the position's value at the mark plus the cash is unchanged."""
    price, mark = D(price_cents) / 100, D(mark_cents) / 100
    held = Position(STOCK, D(qty), D(qty) * price, mark, T0)
    effect = split_position(held, D(old_rate), D(new_rate), whole_shares=whole)
    assert effect.qty_after + effect.lieu_qty == D(qty) * new_rate / old_rate
    assert abs(effect.lieu_qty) < 1
    assert not whole or effect.qty_after == effect.qty_after.to_integral_value()
    assert (effect.qty_after >= 0) == (qty > 0) or effect.qty_after == 0
    removed = held.cost - effect.cost_after
    assert effect.realized_pnl == effect.cash_delta - removed
    value_before = held.market_value
    value_after = effect.qty_after * effect.mark_after + effect.cash_delta
    assert abs(value_after - value_before) <= D("1e-20") * (1 + abs(value_before))
