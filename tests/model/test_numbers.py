from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propdesk.model.numbers import (
    NotExactError,
    is_multiple_of,
    money,
    qty,
    quantize_to_increment,
    round_money,
    to_decimal,
    truncate_qty,
)


def test_strings_parse_exactly() -> None:
    assert to_decimal("0.1") + to_decimal("0.2") == Decimal("0.3")
    assert money("123456789.123456") == Decimal("123456789.123456")
    assert qty(" 0.000000001 ") == Decimal("1E-9")
    assert to_decimal(7) == Decimal(7)


@pytest.mark.parametrize("bad", [0.1, 1.0, True, "NaN", "inf", "-Infinity", "1,5", "", None, [1]])
def test_inexact_or_garbage_is_refused_with_the_field_name(bad: object) -> None:
    with pytest.raises(NotExactError, match="limit_price"):
        to_decimal(bad, field="limit_price")


def test_quantize_to_non_decimal_increments() -> None:
    assert quantize_to_increment(Decimal("5000.13"), Decimal("0.25")) == Decimal("5000.25")
    assert quantize_to_increment(Decimal("5000.12"), Decimal("0.25")) == Decimal("5000")
    # half-even at the exact midpoint between ticks
    assert quantize_to_increment(Decimal("5000.125"), Decimal("0.25")) == Decimal("5000")
    assert quantize_to_increment(Decimal("5000.375"), Decimal("0.25")) == Decimal("5000.5")
    assert quantize_to_increment(Decimal("21.0074"), Decimal("0.005")) == Decimal("21.005")
    with pytest.raises(ValueError, match="positive"):
        quantize_to_increment(Decimal(1), Decimal(0))


def test_round_money_and_truncate_qty() -> None:
    assert round_money(Decimal("12.345")) == Decimal("12.35")
    assert round_money(Decimal("-12.345")) == Decimal("-12.35")
    assert truncate_qty(Decimal("3.999"), Decimal(1)) == Decimal(3)
    assert truncate_qty(Decimal("0.1234567899"), Decimal("1e-9")) == Decimal("0.123456789")


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("0.25"), Decimal("0.01"), Decimal("0.005"), Decimal(1), Decimal("0.1")]),
)
def test_quantized_values_are_on_the_grid_and_within_half_a_step(value: Decimal, step: Decimal) -> None:
    rounded = quantize_to_increment(value, step)
    assert is_multiple_of(rounded, step)
    assert abs(rounded - value) <= step / 2
