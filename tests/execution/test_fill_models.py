"""Fill models: prices on both sides, tick rounding against the trader, recorded quote evidence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from propdesk.accounting.kernel import ApplyFill, handle
from propdesk.execution.fill_models import (
    BpsSlippageFillModel,
    MidFillModel,
    NbboFillModel,
    PricedFill,
    bps_slippage,
    build_fill,
    fill_model_for,
    mid,
    nbbo,
)
from propdesk.model.instruments import crypto_pair, equity, future
from propdesk.model.market import Bar, quote_from_bar
from propdesk.model.orders import Side
from propdesk.model.policy import ExecutionPolicy, FillModelName
from tests.execution.factories import AAPL, T0, quote, started

D = Decimal
ONE = D(1)


def test_mid_fills_both_sides_at_the_mid_with_zero_slippage() -> None:
    q = quote(bid="99.99", ask="100.01")
    buy = mid().price(Side.BUY, ONE, q, AAPL)
    sell = mid().price(Side.SELL, ONE, q, AAPL)
    assert buy == PricedFill("mid", D("100.00"), D("99.99"), D("100.01"), D("100.00"), D(0))
    assert sell.price == D("100.00")
    assert sell.slippage == 0


def test_mid_of_a_one_tick_spread_is_not_rounded() -> None:
    # The mid is the documented reference price: 100.005 is a legal midpoint execution and rounding
    # it would either favour one side or turn mid into nbbo.
    q = quote(bid="100.00", ask="100.01")
    assert mid().price(Side.BUY, ONE, q, AAPL).price == D("100.005")
    assert mid().price(Side.SELL, ONE, q, AAPL).price == D("100.005")
    assert not AAPL.is_valid_price(D("100.005"))


def test_nbbo_buys_at_the_ask_and_sells_at_the_bid() -> None:
    q = quote(bid="99.99", ask="100.01")
    buy = nbbo().price(Side.BUY, D(10), q, AAPL)
    sell = nbbo().price(Side.SELL, D(10), q, AAPL)
    assert (buy.price, buy.mark, buy.slippage) == (D("100.01"), D("100.00"), D("0.01"))
    assert (sell.price, sell.mark, sell.slippage) == (D("99.99"), D("100.00"), D("0.01"))
    assert (buy.bid, buy.ask, buy.model) == (D("99.99"), D("100.01"), "nbbo")


def test_nbbo_rounds_an_off_tick_quote_against_the_trader() -> None:
    # Replay quotes are built from bar closes one half-spread either side; 0.10 is off the ES 0.25 grid.
    es = future("ESZ26")
    bar = Bar("ESZ26", "1Min", T0, D("5000"), D("5001"), D("4999"), D("5000"))
    q = quote_from_bar(bar, D("0.10"))
    assert nbbo().price(Side.BUY, ONE, q, es).price == D("5000.25")
    assert nbbo().price(Side.SELL, ONE, q, es).price == D("4999.75")


def test_bps_slippage_moves_the_mid_against_the_trader() -> None:
    q = quote(bid="99.99", ask="100.01")
    buy = bps_slippage(D(10)).price(Side.BUY, ONE, q, AAPL)
    sell = bps_slippage(D(10)).price(Side.SELL, ONE, q, AAPL)
    assert (buy.price, buy.slippage) == (D("100.10"), D("0.10"))
    assert (sell.price, sell.slippage) == (D("99.90"), D("0.10"))
    assert buy.model == "bps_slippage"


def test_bps_slippage_rounds_buys_up_and_sells_down_to_the_tick() -> None:
    q = quote(bid="100.00", ask="100.01")  # mid 100.005; ±1 bp = 100.0150005 / 99.9949995
    buy = BpsSlippageFillModel(ONE).price(Side.BUY, ONE, q, AAPL)
    sell = BpsSlippageFillModel(ONE).price(Side.SELL, ONE, q, AAPL)
    assert buy.price == D("100.02")
    assert sell.price == D("99.99")
    assert buy.slippage == D("0.015")
    assert sell.slippage == D("0.015")


def test_rounding_uses_the_sub_dollar_tick_below_one_dollar() -> None:
    penny_stock = equity("SNDL")
    q = quote("SNDL", bid="0.5000", ask="0.5001")  # mid 0.50005; ±1 bp = 0.500100005 / 0.499999995
    assert BpsSlippageFillModel(D(1)).price(Side.BUY, ONE, q, penny_stock).price == D("0.5002")
    assert BpsSlippageFillModel(D(1)).price(Side.SELL, ONE, q, penny_stock).price == D("0.4999")


def test_bps_slippage_is_adverse_for_negative_prices() -> None:
    # Crude oil traded below zero in April 2020; +bps of a negative mid would *help* a buyer.
    cl = future("CLK20")
    q = quote("CLK20", bid="-37.64", ask="-37.60")
    buy = BpsSlippageFillModel(D(100)).price(Side.BUY, ONE, q, cl)
    sell = BpsSlippageFillModel(D(100)).price(Side.SELL, ONE, q, cl)
    assert buy.price > q.mid > sell.price
    assert buy.price == D("-37.24")  # -37.62 + 0.3762 = -37.2438, rounded up
    assert sell.price == D("-38.00")  # -37.62 - 0.3762 = -37.9962, rounded down


def test_prices_keep_the_tick_exponent() -> None:
    q = quote(bid="99.90", ask="100.10")
    assert str(nbbo().price(Side.SELL, ONE, q, AAPL).price) == "99.90"
    assert str(BpsSlippageFillModel(D(0)).price(Side.BUY, ONE, q, AAPL).price) == "100.00"


def test_crypto_quotes_on_a_fine_tick() -> None:
    btc = crypto_pair("BTC/USD")
    q = quote("BTC/USD", bid="42000.00", ask="42001.00")
    assert nbbo().price(Side.BUY, D("0.001"), q, btc).price == D("42001.00")


def test_models_refuse_a_non_positive_qty() -> None:
    with pytest.raises(ValueError, match="positive"):
        mid().price(Side.BUY, D(0), quote(), AAPL)


def test_negative_slippage_bps_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        BpsSlippageFillModel(D(-1))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (FillModelName.MID, MidFillModel()),
        (FillModelName.NBBO, NbboFillModel()),
        (FillModelName.BPS_SLIPPAGE, BpsSlippageFillModel(D(7))),
    ],
)
def test_fill_model_for_follows_the_policy(name: FillModelName, expected: object) -> None:
    policy = ExecutionPolicy(fill_model=name, slippage_bps=D(7))
    assert fill_model_for(policy) == expected


def test_seed_policy_fills_at_mid() -> None:
    assert fill_model_for(ExecutionPolicy()).name == "mid"


def test_build_fill_records_the_quote_evidence_and_the_kernel_accepts_it() -> None:
    priced = nbbo().price(Side.BUY, D(10), quote(), AAPL)
    fill = build_fill("f1", "o1", AAPL, Side.BUY, D(10), priced, D("1.00"), T0)
    assert (fill.price, fill.bid, fill.ask, fill.mark, fill.slippage) == (
        D("100.01"),
        D("99.99"),
        D("100.01"),
        D("100.00"),
        D("0.01"),
    )
    assert fill.instrument == AAPL.spec
    assert (fill.fill_id, fill.order_id, fill.fee, fill.time) == ("f1", "o1", D("1.00"), T0)
    state = handle(started(), ApplyFill(at=T0, fill=fill)).state
    assert state.positions["AAPL"].qty == D(10)
    assert state.cash == D(100_000) - D("1000.10") - D("1.00")
