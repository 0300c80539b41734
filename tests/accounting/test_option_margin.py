"""Risk-based option margin: golden examples, account figures and a brute-force property."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from propdesk.accounting.kernel import ApplyFill, handle
from propdesk.accounting.option_margin import (
    GroupRequirement,
    has_option_positions,
    option_groups,
    option_requirements,
)
from propdesk.accounting.positions import Position
from propdesk.accounting.state import AccountState
from propdesk.model.ids import AccountId
from propdesk.model.instruments import (
    AssetClass,
    Instrument,
    InstrumentSpec,
    OptionRight,
    crypto_pair,
    equity,
    future,
    option,
    parse_instrument,
)
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Side
from tests.factories import T0, make_fill, started_account

D = Decimal


def occ(right: str, strike: int | str, root: str = "XYZ", expiry: str = "260116") -> str:
    return f"{root}{expiry}{right}{int(D(strike) * 1000):08d}"


def pos(symbol: str, qty: int | str, mark: str) -> Position:
    instrument = parse_instrument(symbol)
    q, m = D(qty), D(mark)
    return Position(instrument.spec, q, q * m * instrument.multiplier, m, T0)


def book(*positions: Position) -> dict[str, Position]:
    return {p.symbol: p for p in positions}


def only(positions: dict[str, Position]) -> GroupRequirement:
    (requirement,) = option_requirements(positions)
    return requirement


# --- golden groups ---------------------------------------------------------------------------------


def test_short_put_needs_cash_for_the_strike_less_the_premium_already_received() -> None:
    # Short 1 XYZ 50P at 2.00: value now −200; worst payoff at S=0 is −50 × 100 = −5000.
    # (50 − 2) × 100 = 4800: 5000 cash-secured, of which the 200 premium is already in cash.
    req = only(book(pos(occ("P", 50), -1, "2")))
    assert (req.underlying, req.value_now, req.min_payoff, req.amount) == ("XYZ", D(-200), D(-5000), D(4800))
    assert not req.unbounded
    assert req.charge == req.stress_amount == D(4800)


def test_bull_call_debit_spread_needs_its_net_debit() -> None:
    # Long 100C at 5, short 110C at 2: value now 500 − 200 = 300; payoff ≥ 0 everywhere.
    req = only(book(pos(occ("C", 100), 1, "5"), pos(occ("C", 110), -1, "2")))
    assert (req.value_now, req.min_payoff, req.slope, req.amount) == (D(300), D(0), D(0), D(300))


def test_bear_call_credit_spread_needs_its_max_loss() -> None:
    # Short 100C at 5, long 110C at 2: credit 300, value now −300; payoff at S ≥ 110 is −1000.
    # Requirement (10 − 3) × 100 = 700.
    req = only(book(pos(occ("C", 100), -1, "5"), pos(occ("C", 110), 1, "2")))
    assert (req.value_now, req.min_payoff, req.amount) == (D(-300), D(-1000), D(700))


def test_iron_condor_needs_wing_width_less_the_credit() -> None:
    # Long 90P at 0.80, short 95P at 1.90, short 105C at 2.10, long 110C at 0.95.
    # Credit c = 1.90 + 2.10 − 0.80 − 0.95 = 2.25; wings 5 wide → (5 − 2.25) × 100 = 275.
    req = only(
        book(
            pos(occ("P", 90), 1, "0.80"),
            pos(occ("P", 95), -1, "1.90"),
            pos(occ("C", 105), -1, "2.10"),
            pos(occ("C", 110), 1, "0.95"),
        )
    )
    assert (req.value_now, req.min_payoff, req.amount) == (D(-225), D(-500), D(275))
    assert req.symbols == frozenset({occ("P", 90), occ("P", 95), occ("C", 105), occ("C", 110)})


def test_naked_short_call_is_unbounded_with_a_finite_positive_stress_figure() -> None:
    # Short 1 XYZ 100C at 3: slope −100 beyond the strike. Stress: the worse of the loss at
    # 2 × 100 = 200 (−300 + 10000 = 9700) and the uncovered strike notional 100 × 100 = 10000.
    req = only(book(pos(occ("C", 100), -1, "3")))
    assert req.unbounded
    assert (req.amount, req.min_payoff, req.slope) == (None, None, D(-100))
    assert req.stress_amount == req.charge == D(10000)


def test_covered_call_is_bounded_and_needs_stock_value_plus_call_value_less_min_payoff() -> None:
    # 100 XYZ at 100 (10000) + short 1 110C at 2 (−200): value now 9800; payoff 100·S − 100·max(S−110,0)
    # has slope 0 above 110 and its minimum 0 at S = 0 → 9800 (the stock is not leveraged in a group).
    positions = book(pos("XYZ", 100, "100"), pos(occ("C", 110), -1, "2"))
    req = only(positions)
    assert (req.value_now, req.min_payoff, req.slope, req.amount) == (D(9800), D(0), D(0), D(9800))
    assert req.symbols == frozenset({"XYZ", occ("C", 110)})


def test_partly_covered_call_is_unbounded() -> None:
    req = only(book(pos("XYZ", 50, "100"), pos(occ("C", 110), -1, "2")))
    assert req.unbounded
    assert req.slope == D(-50)


def test_long_options_need_their_premium() -> None:
    assert only(book(pos(occ("C", 100), 2, "3.50"))).amount == D(700)
    assert only(book(pos(occ("P", 100), 1, "4"))).amount == D(400)


def test_calendar_spread_treats_both_expiries_at_one_price() -> None:
    # Short the near 100C at 2, long the far 100C at 4: at one S the calls cancel, so the
    # requirement is the net debit 200 (the documented same-S approximation).
    near, far = occ("C", 100, expiry="260116"), occ("C", 100, expiry="260220")
    req = only(book(pos(near, -1, "2"), pos(far, 1, "4")))
    assert (req.slope, req.min_payoff, req.amount) == (D(0), D(0), D(200))


def test_groups_are_per_underlying_and_stock_without_options_is_not_grouped() -> None:
    positions = book(
        pos("XYZ", 100, "100"),
        pos(occ("C", 110), -1, "2"),
        pos("AAPL", 10, "200"),
        pos(occ("P", 400, root="SPY"), -1, "5"),
        pos("BTC/USD", "0.5", "60000"),
    )
    groups = option_groups(positions)
    assert [g.underlying for g in groups] == ["SPY", "XYZ"]
    assert grouped(positions) == frozenset({"XYZ", occ("C", 110), occ("P", 400, root="SPY")})
    assert [r.amount for r in option_requirements(positions)] == [D(39500), D(9800)]
    assert has_option_positions(positions.values())
    assert not has_option_positions(book(pos("AAPL", 10, "200")).values())


def test_a_crypto_position_named_like_the_underlying_does_not_join_the_group() -> None:
    # Only a us_equity position whose symbol is the underlying is part of the group.
    positions = book(pos(occ("C", 100, root="BTC"), -1, "1"))
    spec = InstrumentSpec("BTC", AssetClass.CRYPTO)
    positions["BTC"] = Position(spec, D(1), D(100), D(100), T0)
    assert only(positions).unbounded


# --- the account ---------------------------------------------------------------------------------


def account(*fills: tuple[str, Side, str, str]) -> AccountState:
    state = started_account("100000", leverage="5")
    for symbol, side, qty, price in fills:
        fill = make_fill(parse_instrument(symbol), side, qty, price)
        state = handle(state, ApplyFill(at=T0, fill=fill)).state
    return state


def test_account_short_put_ties_up_the_strike_cash() -> None:
    state = account((occ("P", 50), Side.SELL, "1", "2"))
    assert state.cash == D(100200)
    assert state.equity == D(100000)
    assert state.margin_used == D(4800)
    assert state.available_capital == D(95200)
    assert not state.has_unbounded_option_risk


def test_account_options_are_unleveraged_and_other_stock_keeps_gross_over_leverage() -> None:
    state = account(
        ("AAPL", Side.BUY, "100", "100"),  # 10000 / 5 = 2000
        (occ("C", 100), Side.BUY, "1", "5"),
        (occ("C", 110), Side.SELL, "1", "2"),  # debit spread: 300
    )
    assert state.margin_used == D(2300)
    assert state.available_capital == state.equity - D(2300)


def test_account_covered_call_counts_the_stock_in_the_group() -> None:
    stock_only = account(("XYZ", Side.BUY, "100", "100"))
    assert stock_only.margin_used == D(2000)
    covered = account(("XYZ", Side.BUY, "100", "100"), (occ("C", 110), Side.SELL, "1", "2"))
    assert covered.margin_used == D(9800)
    assert not covered.has_unbounded_option_risk


def test_account_naked_short_call_makes_available_capital_negative_until_closed() -> None:
    state = account((occ("C", 100), Side.SELL, "1", "3"))
    assert state.has_unbounded_option_risk
    assert state.equity == D(100000)
    # stress 10000 + the whole equity 100000
    assert state.margin_used == D(110000)
    assert state.available_capital == D(-10000)
    assert state.buying_power == 0
    closed = handle(state, ApplyFill(at=T0, fill=make_fill(option(occ("C", 100)), Side.BUY, "1", "3"))).state
    assert not closed.has_unbounded_option_risk
    assert closed.margin_used == 0
    assert closed.available_capital == D(100000)


def test_account_unbounded_with_negative_equity_is_still_negative_and_finite() -> None:
    state = account((occ("C", 100), Side.SELL, "1", "3"))
    state = replace(state, cash=D(-5000))
    assert state.equity < 0
    assert state.margin_used == D(10000)
    assert state.available_capital == state.equity - D(10000)


# --- properties --------------------------------------------------------------------------------

strikes = st.integers(min_value=1, max_value=60).map(lambda n: D(n * 5) / 2)  # 2.5 .. 150
marks = st.decimals(min_value=D(0), max_value=D(40), places=2)
option_qty = st.integers(min_value=-3, max_value=3).filter(bool)


@st.composite
def option_legs(draw: st.DrawFn) -> list[Position]:
    legs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["C", "P"]),
                strikes,
                st.sampled_from(["260116", "260220"]),
                option_qty,
                marks,
            ),
            min_size=1,
            max_size=4,
            unique_by=lambda t: (t[0], t[1], t[2]),
        )
    )
    return [pos(occ(r, str(k), expiry=e), q, str(m)) for r, k, e, q, m in legs]


@st.composite
def groups(draw: st.DrawFn) -> dict[str, Position]:
    positions = book(*draw(option_legs()))
    stock = draw(st.integers(min_value=0, max_value=300))  # short stock never joins a group
    if stock:
        positions["XYZ"] = pos("XYZ", stock, str(draw(st.decimals(D("0.01"), D(200), places=2))))
    return positions


Terms = list[tuple[Decimal, OptionRight | None, Decimal]]


def terms(positions: dict[str, Position]) -> Terms:
    """(qty × multiplier, right or None for the stock, strike) of each position, parsed once."""
    result: Terms = []
    for p in positions.values():
        if p.symbol == "XYZ":
            result.append((p.qty, None, ZERO))
        else:
            contract = option(p.symbol)
            result.append((p.qty * 100, contract.right, contract.strike))
    return result


def brute_payoff(parts: Terms, price: Decimal) -> Decimal:
    total = ZERO
    for units, right, strike in parts:
        if right is None:
            total += units * price
        elif right is OptionRight.CALL:
            total += units * max(price - strike, ZERO)
        else:
            total += units * max(strike - price, ZERO)
    return total


def brute_min(parts: Terms, top: Decimal) -> Decimal:
    # Every 0.25 up to ``top`` (twice the highest strike; strikes are multiples of 2.5), 0 and the strikes.
    grid = {D(i) / 4 for i in range(int(top * 4) + 1)} | {ZERO, *(k for _, r, k in parts if r is not None)}
    return min(brute_payoff(parts, s) for s in grid)


@settings(max_examples=300, deadline=None)
@given(groups())
def test_requirement_matches_a_brute_force_grid(positions: dict[str, Position]) -> None:
    req = only(positions)
    parts = terms(positions)
    highest = max(k for _, r, k in parts if r is not None)
    top, far = highest * 2, highest * 10 + 1000
    # Unbounded exactly when the payoff keeps falling beyond the highest strike.
    falls = brute_payoff(parts, far) < brute_payoff(parts, top)
    assert req.unbounded == falls
    assert req.stress_amount > 0 or not req.unbounded
    if req.unbounded:
        return
    value_now = sum((p.market_value for p in positions.values()), ZERO)
    assert req.value_now == value_now
    assert req.amount is not None
    assert req.amount >= 0
    lowest = brute_min(parts, top)
    assert req.min_payoff == lowest
    assert req.amount == max(ZERO, value_now - lowest)


@settings(max_examples=200, deadline=None)
@given(groups(), st.sampled_from(["C", "P"]), strikes, st.integers(1, 3), marks)
def test_adding_a_long_option_never_adds_unbounded_risk(
    positions: dict[str, Position], right: str, strike: Decimal, qty: int, mark: Decimal
) -> None:
    symbol = occ(right, str(strike), expiry="260320")
    before = only(positions)
    after = only({**positions, symbol: pos(symbol, qty, str(mark))})
    if not before.unbounded:
        assert not after.unbounded
    assert after.slope >= before.slope
    if before.min_payoff is not None and after.min_payoff is not None:
        assert after.min_payoff >= before.min_payoff


NON_OPTIONS: list[Instrument] = [equity("AAPL"), crypto_pair("BTC/USD"), future("MES"), future("GC")]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(NON_OPTIONS),
            st.decimals(D(-50), D(50), places=3).filter(bool),
            st.decimals(D("0.01"), D(6000), places=2),
        ),
        max_size=4,
        unique_by=lambda t: t[0].symbol,
    ),
    st.sampled_from([D(1), D(2), D(3), D(5)]),
)
def test_accounts_without_options_keep_gross_over_leverage_exactly(
    rows: list[tuple[Instrument, Decimal, Decimal]], leverage: Decimal
) -> None:
    positions = {
        i.symbol: Position(i.spec, qty, qty * mark * i.multiplier, mark, T0) for i, qty, mark in rows
    }
    state = AccountState(account_id=AccountId("a"), leverage=leverage, positions=positions)
    assert state.margin_used == sum((p.exposure for p in positions.values()), ZERO) / leverage
    assert not state.has_unbounded_option_risk


def test_short_stock_keeps_its_own_margin_and_a_protective_put_is_not_unbounded() -> None:
    positions = book(pos("XYZ", -100, "100"), pos(occ("P", "95"), 1, "2"))
    assert grouped(positions) == frozenset({occ("P", "95")})
    requirement = only(positions)
    assert (requirement.unbounded, requirement.amount) == (False, D(200))


def grouped(positions: Mapping[str, Position]) -> frozenset[str]:
    """Symbols margined by an option group (not by gross / leverage)."""
    return frozenset(symbol for group in option_groups(positions) for symbol in group.symbols)
