from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propdesk.model.instruments import (
    FUTURE_ROOTS,
    AssetClass,
    ExerciseStyle,
    InvalidSymbolError,
    OptionRight,
    Settlement,
    crypto_pair,
    equity,
    format_occ,
    future,
    option,
    parse_instrument,
)


@pytest.mark.parametrize(
    ("root", "point_value", "tick", "tick_value"),
    [
        ("ES", "50", "0.25", "12.50"),
        ("MES", "5", "0.25", "1.25"),
        ("NQ", "20", "0.25", "5.00"),
        ("MNQ", "2", "0.25", "0.50"),
        ("GC", "100", "0.10", "10.00"),
        ("MGC", "10", "0.10", "1.00"),
        ("CL", "1000", "0.01", "10.00"),
        ("MCL", "100", "0.01", "1.00"),
    ],
)
def test_futures_carry_exchange_specifications(
    root: str, point_value: str, tick: str, tick_value: str
) -> None:
    spec = FUTURE_ROOTS[root]
    assert spec.point_value == Decimal(point_value)
    assert spec.tick_size == Decimal(tick)
    assert spec.tick_value == Decimal(tick_value)
    contract = future(root)
    assert contract.multiplier == Decimal(point_value)
    assert contract.spec.pays_notional is False


def test_micro_futures_point_at_their_mini() -> None:
    assert future("MES").is_micro
    assert FUTURE_ROOTS["MES"].micro_of == "ES"
    assert not future("ES").is_micro


def test_dated_futures_parse_month_and_year() -> None:
    contract = future("MESZ26")
    assert contract.root is not None
    assert contract.root.root == "MES"
    assert contract.contract_month == date(2026, 12, 1)
    assert future("/GCG27").contract_month == date(2027, 2, 1)
    with pytest.raises(InvalidSymbolError):
        future("XXZ26")
    with pytest.raises(InvalidSymbolError):
        future("ESA26")


def test_futures_prices_round_to_the_tick() -> None:
    es = future("ES")
    assert es.round_price(Decimal("5010.3")) == Decimal("5010.25")
    assert es.is_valid_price(Decimal("5010.25"))
    assert not es.is_valid_price(Decimal("5010.3"))
    assert es.notional(Decimal(-2), Decimal(5000)) == Decimal(500_000)


def test_occ_symbols_parse_and_format() -> None:
    contract = option("AAPL240119C00150000")
    assert contract.underlying == "AAPL"
    assert contract.expiry == date(2024, 1, 19)
    assert contract.right is OptionRight.CALL
    assert contract.strike == Decimal(150)
    assert contract.multiplier == Decimal(100)
    assert contract.settlement is Settlement.PHYSICAL
    assert contract.style is ExerciseStyle.AMERICAN
    assert contract.spec.pays_notional is True
    put = option("SPY251219P00412500")
    assert put.right is OptionRight.PUT
    assert put.strike == Decimal("412.5")
    assert format_occ("SPY", date(2025, 12, 19), OptionRight.PUT, Decimal("412.5")) == "SPY251219P00412500"


@pytest.mark.parametrize("root", ["SPX", "XSP", "NDX", "RUT"])
def test_index_options_settle_in_cash_european_style(root: str) -> None:
    contract = option(f"{root}261218C05000000")
    assert contract.settlement is Settlement.CASH
    assert contract.style is ExerciseStyle.EUROPEAN


@pytest.mark.parametrize("bad", ["AAPL240119X00150000", "AAPL241319C00150000", "AAPL240119C0015000", "aapl"])
def test_bad_occ_symbols_are_refused(bad: str) -> None:
    with pytest.raises(InvalidSymbolError):
        option(bad)


@given(
    st.from_regex(r"[A-Z]{1,6}", fullmatch=True),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(list(OptionRight)),
    st.integers(min_value=1, max_value=99_999_999).map(lambda n: Decimal(n) / 1000),
)
def test_occ_format_parse_round_trip(root: str, expiry: date, right: OptionRight, strike: Decimal) -> None:
    symbol = format_occ(root, expiry, right, strike)
    parsed = option(symbol)
    assert (parsed.underlying, parsed.expiry, parsed.right, parsed.strike) == (root, expiry, right, strike)
    assert parsed.symbol == symbol


def test_equities_use_sub_penny_ticks_below_one_dollar() -> None:
    stock = equity("AAPL")
    assert stock.round_price(Decimal("187.234")) == Decimal("187.23")
    assert stock.round_price(Decimal("0.51234")) == Decimal("0.5123")
    assert stock.is_valid_qty(Decimal("0.000000001"))


def test_crypto_pairs_accept_both_alpaca_spellings() -> None:
    assert crypto_pair("BTC/USD").symbol == "BTC/USD"
    assert crypto_pair("BTCUSD").symbol == "BTC/USD"
    assert crypto_pair("ETH/USDC").quote == "USDC"


def test_parse_instrument_by_shape_and_by_class() -> None:
    assert parse_instrument("aapl").asset_class is AssetClass.US_EQUITY
    assert parse_instrument("BTC/USD").asset_class is AssetClass.CRYPTO
    assert parse_instrument("AAPL240119C00150000").asset_class is AssetClass.US_OPTION
    assert parse_instrument("ESZ26").asset_class is AssetClass.FUTURE
    assert parse_instrument("/MES").asset_class is AssetClass.FUTURE
    # A bare root is an equity ticker unless the caller says otherwise (CL is Colgate-Palmolive).
    assert parse_instrument("CL").asset_class is AssetClass.US_EQUITY
    assert parse_instrument("CL", AssetClass.FUTURE).multiplier == Decimal(1000)
