"""Multi-leg (mleg) option orders: validation codes and far-side net pricing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

import pytest

from propdesk.execution.multileg import (
    Leg,
    LegPricing,
    MultiLegCode,
    MultiLegError,
    PricingCode,
    is_marketable,
    net_price,
    price_legs,
    validate_legs,
)
from propdesk.model.market import Quote
from propdesk.model.orders import Side
from tests.factories import T0

D = Decimal
NOW = T0 + timedelta(seconds=5)
BUY, SELL = Side.BUY, Side.SELL

C100 = "AAPL250117C00100000"
C110 = "AAPL250117C00110000"
P90 = "XYZ260116P00090000"
P95 = "XYZ260116P00095000"
C105 = "XYZ260116C00105000"
C110X = "XYZ260116C00110000"


def leg(symbol: str, side: Side, ratio: int = 1) -> Leg:
    return Leg(symbol=symbol, side=side, ratio_qty=ratio)


def quote(symbol: str, bid: str, ask: str, age_seconds: int = 0) -> Quote:
    return Quote(symbol=symbol, time=NOW - timedelta(seconds=age_seconds), bid=D(bid), ask=D(ask))


def price(
    legs: list[Leg],
    quotes: Mapping[str, Quote | None],
    *,
    qty: str = "1",
    limit: str | None = None,
    max_age: int = 60,
) -> LegPricing:
    return price_legs(
        legs,
        D(qty),
        quotes,
        now=NOW,
        max_quote_age_seconds=max_age,
        limit_price=None if limit is None else D(limit),
    )


VERTICAL = [leg(C100, BUY), leg(C110, SELL)]
VERTICAL_QUOTES = {C100: quote(C100, "4.90", "5.10"), C110: quote(C110, "1.95", "2.05")}
CONDOR = [leg(P90, BUY), leg(P95, SELL), leg(C105, SELL), leg(C110X, BUY)]
CONDOR_QUOTES = {
    P90: quote(P90, "0.95", "1.05"),
    P95: quote(P95, "1.90", "2.00"),
    C105: quote(C105, "2.10", "2.20"),
    C110X: quote(C110X, "0.90", "1.00"),
}


# --- validation --------------------------------------------------------------------------------


def error(legs: list[Leg], qty: str = "1", limit: str | None = None) -> MultiLegError:
    with pytest.raises(MultiLegError) as caught:
        validate_legs(legs, D(qty), None if limit is None else D(limit))
    return caught.value


def test_a_valid_vertical_returns_its_contracts_in_leg_order() -> None:
    contracts = validate_legs(VERTICAL, D(1), D("3.00"))
    assert [c.symbol for c in contracts] == [C100, C110]
    assert [c.strike for c in contracts] == [D(100), D(110)]
    assert {c.underlying for c in contracts} == {"AAPL"}


@pytest.mark.parametrize("count", [0, 1, 5])
def test_invalid_leg_count(count: int) -> None:
    legs = [leg(f"AAPL250117C00{100 + i:03d}000", BUY) for i in range(count)]
    err = error(legs)
    assert (err.code, err.leg_index) == (MultiLegCode.INVALID_LEG_COUNT, None)
    assert str(count) in err.message


@pytest.mark.parametrize("qty", ["0", "-1", "1.5", "NaN", "Infinity"])
def test_invalid_quantity(qty: str) -> None:
    err = error(VERTICAL, qty=qty)
    assert (err.code, err.leg_index) == (MultiLegCode.INVALID_QUANTITY, None)


def test_whole_quantities_written_with_decimals_are_valid() -> None:
    assert len(validate_legs(VERTICAL, D("2.000"), None)) == 2


def test_invalid_limit_price() -> None:
    err = error(VERTICAL, limit="NaN")
    assert err.code is MultiLegCode.INVALID_LIMIT_PRICE


def test_invalid_leg_symbol_names_the_leg() -> None:
    err = error([leg(C100, BUY), leg("AAPL", SELL)])
    assert (err.code, err.leg_index) == (MultiLegCode.INVALID_LEG_SYMBOL, 1)
    assert err.message.startswith("leg 1:")
    assert "'AAPL'" in err.message


def test_invalid_leg_side_names_the_leg() -> None:
    err = error([leg(C100, BUY), Leg(C110, "short", 1)])  # type: ignore[arg-type]
    assert (err.code, err.leg_index) == (MultiLegCode.INVALID_LEG_SIDE, 1)


@pytest.mark.parametrize("ratio", [0, -1, True])
def test_invalid_ratio_names_the_leg(ratio: int) -> None:
    err = error([leg(C100, BUY), leg(C110, SELL, ratio)])
    assert (err.code, err.leg_index) == (MultiLegCode.INVALID_RATIO, 1)


def test_ratios_must_be_in_simplest_form() -> None:
    err = error([leg(C100, BUY, 2), leg(C110, SELL, 4)])
    assert (err.code, err.leg_index) == (MultiLegCode.INVALID_RATIO, None)
    assert "2:4" in err.message
    # 1:2 (a ratio spread) is fine, and so is 2:3.
    assert len(validate_legs([leg(C100, BUY, 1), leg(C110, SELL, 2)], D(1))) == 2
    assert len(validate_legs([leg(C100, BUY, 2), leg(C110, SELL, 3)], D(1))) == 2


def test_duplicate_leg_is_found_after_normalizing_the_symbol() -> None:
    err = error([leg(C100, BUY), leg(C110, SELL), leg("AAPL  250117C00100000", SELL)])
    assert (err.code, err.leg_index) == (MultiLegCode.DUPLICATE_LEG, 2)
    assert "leg 0" in err.message


def test_mixed_underlyings_names_the_first_leg_that_differs() -> None:
    err = error([leg(C100, BUY), leg(C110, SELL), leg(P90, BUY)])
    assert (err.code, err.leg_index) == (MultiLegCode.MIXED_UNDERLYINGS, 2)


def test_different_expiries_on_one_underlying_are_allowed() -> None:
    calendar = [leg("AAPL250117C00100000", SELL), leg("AAPL250221C00100000", BUY)]
    assert len(validate_legs(calendar, D(1))) == 2


def test_multileg_error_is_a_value_error() -> None:
    assert issubclass(MultiLegError, ValueError)


# --- pricing ---------------------------------------------------------------------------------


def test_net_price_sign_convention() -> None:
    assert net_price(VERTICAL, [D("5.10"), D("1.95")]) == D("3.15")  # debit
    assert net_price([leg(C100, SELL), leg(C110, BUY)], [D("4.90"), D("2.05")]) == D("-2.85")  # credit
    assert net_price([leg(C100, BUY, 1), leg(C110, SELL, 2)], [D(5), D(2)]) == D(1)
    assert is_marketable(D("1.20"), D("1.20"))
    assert not is_marketable(D("1.21"), D("1.20"))
    assert is_marketable(D("-0.85"), D("-0.80"))  # receives 0.85 ≥ 0.80
    assert not is_marketable(D("-0.75"), D("-0.80"))
    assert is_marketable(D(99), None)


def test_debit_vertical_buys_at_the_ask_and_sells_at_the_bid() -> None:
    # Buy 100C at the ask 5.10, sell 110C at the bid 1.95: net debit 3.15 per spread.
    result = price(VERTICAL, VERTICAL_QUOTES, qty="2", limit="3.20")
    assert result.marketable
    assert result.code is None
    assert [(lp.symbol, lp.price, lp.contracts) for lp in result.legs] == [
        (C100, D("5.10"), D(2)),
        (C110, D("1.95"), D(2)),
    ]
    assert result.net == D("3.15")
    assert cash_amount(result) == D(630)  # 2 spreads × 3.15 × 100


def test_credit_vertical_is_a_negative_net() -> None:
    credit = [leg(C100, SELL), leg(C110, BUY)]
    # Sell 100C at the bid 4.90, buy 110C at the ask 2.05: net credit 2.85.
    result = price(credit, VERTICAL_QUOTES, limit="-2.80")
    assert result.marketable
    assert result.net == D("-2.85")
    assert cash_amount(result) == D(-285)


def test_iron_condor_net_credit() -> None:
    # Buy 90P at 1.05, sell 95P at 1.90, sell 105C at 2.10, buy 110C at 1.00:
    # 1.05 − 1.90 − 2.10 + 1.00 = −1.95, a credit of 1.95 per condor.
    result = price(CONDOR, CONDOR_QUOTES, qty="3")
    assert result.marketable
    assert [lp.price for lp in result.legs] == [D("1.05"), D("1.90"), D("2.10"), D("1.00")]
    assert result.net == D("-1.95")
    assert cash_amount(result) == D(-585)
    assert price(CONDOR, CONDOR_QUOTES, limit="-1.90").marketable


def test_limit_not_reached_is_priced_but_not_marketable() -> None:
    # Asking to receive at least 2.00 on a condor whose far-side credit is only 1.95.
    result = price(CONDOR, CONDOR_QUOTES, limit="-2.00")
    assert (result.code, result.marketable, result.priced) == (PricingCode.LIMIT_NOT_REACHED, False, True)
    assert result.net == D("-1.95")
    assert len(result.legs) == 4
    # Paying at most 3.00 for a vertical that costs 3.15.
    debit = price(VERTICAL, VERTICAL_QUOTES, limit="3.00")
    assert debit.code is PricingCode.LIMIT_NOT_REACHED
    assert "3.15" in debit.message


def test_missing_leg_quote_names_the_first_such_leg() -> None:
    quotes: dict[str, Quote | None] = {**CONDOR_QUOTES, P95: None}
    del quotes[C110X]
    result = price(CONDOR, quotes)
    assert (result.code, result.leg_index, result.symbol) == (PricingCode.LEG_QUOTE_MISSING, 1, P95)
    assert (result.priced, result.net, result.legs) == (False, None, ())
    assert result.message.startswith(f"leg 1 ({P95})")


def test_a_quote_for_another_symbol_or_without_a_far_side_is_missing() -> None:
    wrong = price(VERTICAL, {C100: quote(C110, "1", "2"), C110: VERTICAL_QUOTES[C110]})
    assert (wrong.code, wrong.leg_index) == (PricingCode.LEG_QUOTE_MISSING, 0)
    no_bid = price(VERTICAL, {C100: VERTICAL_QUOTES[C100], C110: quote(C110, "0", "0.05")})
    assert (no_bid.code, no_bid.leg_index) == (PricingCode.LEG_QUOTE_MISSING, 1)
    assert "no bid" in no_bid.message


def test_stale_leg_quote_names_the_first_such_leg() -> None:
    quotes = {**CONDOR_QUOTES, C105: quote(C105, "2.10", "2.20", age_seconds=61)}
    result = price(CONDOR, quotes, max_age=60)
    assert (result.code, result.leg_index, result.symbol) == (PricingCode.LEG_QUOTE_STALE, 2, C105)
    assert "61" in result.message
    # Exactly the maximum age is still fresh.
    fresh = {**CONDOR_QUOTES, C105: quote(C105, "2.10", "2.20", age_seconds=60)}
    assert price(CONDOR, fresh, max_age=60).marketable


def test_the_first_bad_leg_wins_whatever_its_problem() -> None:
    quotes = {**CONDOR_QUOTES, P90: quote(P90, "0.95", "1.05", age_seconds=600)}
    del quotes[C105]
    assert price(CONDOR, quotes).code is PricingCode.LEG_QUOTE_STALE


def test_quotes_keyed_by_the_normalized_symbol_are_found() -> None:
    spaced = [leg("AAPL  250117C00100000", BUY), leg(C110, SELL)]
    assert price(spaced, VERTICAL_QUOTES).net == D("3.15")


def test_pricing_an_invalid_order_raises() -> None:
    with pytest.raises(MultiLegError) as caught:
        price([leg(C100, BUY)], VERTICAL_QUOTES)
    assert caught.value.code is MultiLegCode.INVALID_LEG_COUNT


def cash_amount(result: LegPricing) -> Decimal:
    """Cash the whole order moves out of the account (negative: a credit), before fees."""
    return sum((leg.signed_value for leg in result.legs), Decimal(0))
