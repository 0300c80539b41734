import random
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propdesk.execution.partial_fills import AlpacaParity, VolumeShare
from propdesk.model.instruments import equity, future
from propdesk.model.orders import Side

AAPL = equity("AAPL")
ES = future("ES")


def test_volume_share_caps_each_evaluation_and_leaves_the_rest_open() -> None:
    model = VolumeShare(participation=Decimal("0.1"))
    assert model.quantity(Decimal(500), Decimal(2000), ES) == Decimal(200)
    assert model.quantity(Decimal(150), Decimal(2000), ES) == Decimal(150)
    assert model.quantity(Decimal(5), Decimal(9), ES) == Decimal(0)  # 0.9 of a contract: nothing yet
    assert model.quantity(Decimal(5), Decimal(0), ES) == Decimal(0)


def test_impact_grows_with_size_and_goes_against_the_trader() -> None:
    model = VolumeShare(impact_bps=Decimal(10))
    small = model.price(Side.BUY, Decimal(10), Decimal(1000), Decimal(1000), AAPL)
    large = model.price(Side.BUY, Decimal(100), Decimal(1000), Decimal(1000), AAPL)
    assert small == Decimal("1000.01")  # 10 bps × 1% = 0.1 bp of 1,000, rounded up to the tick
    assert large == Decimal("1000.10")  # 10 bps × 10% = 1 bp
    assert model.price(Side.SELL, Decimal(1000), Decimal(1000), Decimal(5000), ES) == Decimal("4995")


def test_alpaca_parity_is_seeded_and_partial_about_ten_percent_of_the_time() -> None:
    model = AlpacaParity()
    draws = [model.quantity(Decimal(100), ES, random.Random(seed)) for seed in range(2000)]
    again = [model.quantity(Decimal(100), ES, random.Random(seed)) for seed in range(2000)]
    assert draws == again
    partial = sum(1 for q in draws if q < 100)
    assert 140 <= partial <= 260  # 10% of 2,000 = 200; binomial sd ≈ 13.4
    assert all(Decimal(1) <= q <= Decimal(100) and q == q.to_integral_value() for q in draws)
    fractional = model.quantity(Decimal("0.5"), AAPL, random.Random(3))
    assert Decimal(0) < fractional <= Decimal("0.5")


@given(
    st.integers(1, 10_000),
    st.integers(0, 1_000_000),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1), places=2),
)
def test_never_more_than_remaining_nor_the_participation_share(
    remaining: int, available: int, rate: Decimal
) -> None:
    qty = VolumeShare(participation=rate).quantity(Decimal(remaining), Decimal(available), ES)
    assert 0 <= qty <= remaining
    assert qty <= Decimal(available) * rate


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="participation"):
        VolumeShare(participation=Decimal(0))
