"""Split and dividend position math, by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

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
