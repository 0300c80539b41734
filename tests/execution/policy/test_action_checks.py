"""One test per safety gate under the seed policy (100k, 5x, 50k notional, 5 positions, 10 orders,
10 bps, mid fills), each showing the failing code with its measured value and limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from propdesk.accounting.kernel import MarkToPrices, handle
from propdesk.accounting.state import AccountStatus
from propdesk.execution.policy.action_checks import evaluate_checks
from propdesk.execution.policy.codes import ACTION_CHECKS, CheckCode
from propdesk.execution.policy.results import failed_checks
from propdesk.model.instruments import AssetClass, equity, future, option
from propdesk.model.orders import ActionKind, Direction, Side
from propdesk.model.policy import preset
from tests.execution.factories import (
    AAPL,
    NOW,
    SEED,
    T0,
    action,
    check,
    failed_codes,
    filled,
    gate,
    quote,
    reserved,
    started,
    with_status,
)

D = Decimal
XYZ = equity("XYZ")
EXPOSURE_GATES = [
    CheckCode.DIRECTION_NOT_ALLOWED,
    CheckCode.MAX_ORDER_NOTIONAL,
    CheckCode.MAX_ORDER_LEVERAGE,
    CheckCode.MAX_AGGREGATE_LEVERAGE,
    CheckCode.MAX_POSITION_TO_EQUITY,
    CheckCode.INSUFFICIENT_BUYING_POWER,
    CheckCode.MAX_OPEN_POSITIONS,
    CheckCode.MAX_OPEN_ORDERS,
]


def test_a_plain_order_passes_every_gate_and_carries_the_priced_order() -> None:
    report = check(action(ActionKind.OPEN_LONG, notional="50000"))
    assert report.passed
    assert [r.code for r in report.results] == list(ACTION_CHECKS)
    assert all(r.applicable for r in report.results)
    assert report.order is not None
    assert report.fill is not None
    assert (report.order.side, report.order.qty) == (Side.BUY, D(500))
    assert (report.fill.price, report.fee) == (D("100.00"), D("50.00"))


# --- one test per gate ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [ActionKind.HOLD, ActionKind.CANCEL])
def test_unsupported_action(kind: ActionKind) -> None:
    report = check(action(kind))
    assert failed_codes(report) == [CheckCode.UNSUPPORTED_ACTION]
    result = gate(report, CheckCode.UNSUPPORTED_ACTION)
    assert (result.value, result.limit) == (kind.value, "open_long,open_short,increase,reduce,close")
    assert not gate(report, CheckCode.PRICE_MISSING).applicable


def test_account_inactive() -> None:
    paused = with_status(started(), AccountStatus.PAUSED)
    report = check(action(ActionKind.OPEN_LONG, notional="1000"), paused)
    assert failed_codes(report) == [CheckCode.ACCOUNT_INACTIVE]
    result = gate(report, CheckCode.ACCOUNT_INACTIVE)
    assert (result.value, result.limit) == ("paused", "active")


def test_asset_not_allowed_by_class() -> None:
    # The seed policy allows every asset class; an equities-and-crypto policy refuses futures.
    policy = preset("audition", allowed_asset_classes=frozenset({AssetClass.US_EQUITY, AssetClass.CRYPTO}))
    es = future("ESZ26")
    report = check(
        action(ActionKind.OPEN_LONG, es, qty="1"), policy=policy, quote_=quote("ESZ26", "5000", "5000.25")
    )
    result = gate(report, CheckCode.ASSET_NOT_ALLOWED)
    assert not result.passed
    assert (result.value, result.limit) == ("future", "crypto,us_equity")


def test_asset_not_allowed_by_symbol() -> None:
    policy = preset("audition", allowed_symbols=frozenset({"MSFT", "SPY"}))
    report = check(action(ActionKind.OPEN_LONG, notional="1000"), policy=policy)
    assert failed_codes(report) == [CheckCode.ASSET_NOT_ALLOWED]
    result = gate(report, CheckCode.ASSET_NOT_ALLOWED)
    assert (result.value, result.limit) == ("AAPL", "MSFT,SPY")


@pytest.mark.parametrize("kind", [ActionKind.INCREASE, ActionKind.REDUCE, ActionKind.CLOSE])
def test_no_position(kind: ActionKind) -> None:
    report = check(action(kind, qty="10" if kind is not ActionKind.CLOSE else None))
    assert failed_codes(report) == [CheckCode.NO_POSITION]
    result = gate(report, CheckCode.NO_POSITION)
    assert (result.value, result.limit) == (D(0), None)


def test_opposite_position() -> None:
    short = filled(started(), AAPL, Side.SELL, "100", "100")
    report = check(action(ActionKind.OPEN_LONG, notional="1000"), short)
    assert failed_codes(report) == [CheckCode.OPPOSITE_POSITION]
    result = gate(report, CheckCode.OPPOSITE_POSITION)
    assert (result.value, result.limit) == (D(-100), D(0))


def test_side_mismatch() -> None:
    report = check(action(ActionKind.OPEN_LONG, notional="1000", side=Side.SELL))
    assert failed_codes(report) == [CheckCode.SIDE_MISMATCH]
    result = gate(report, CheckCode.SIDE_MISMATCH)
    assert (result.value, result.limit) == ("sell", "buy")


def test_invalid_quantity() -> None:
    report = check(action(ActionKind.OPEN_LONG, qty="-5"))
    assert failed_codes(report) == [CheckCode.INVALID_QUANTITY]
    result = gate(report, CheckCode.INVALID_QUANTITY)
    assert (result.value, result.limit) == (D(-5), D(0))


def test_invalid_quantity_when_the_notional_buys_less_than_one_contract() -> None:
    es = future("ESZ26")
    report = check(
        action(ActionKind.OPEN_LONG, es, notional="100000"), quote_=quote("ESZ26", "4999.75", "5000.25")
    )
    result = gate(report, CheckCode.INVALID_QUANTITY)
    assert not result.passed
    assert (result.value, result.limit) == (D(100000), D(250000))


def test_reduce_exceeds_position() -> None:
    long = filled(started(), AAPL, Side.BUY, "100", "100")
    report = check(action(ActionKind.REDUCE, qty="150"), long)
    assert failed_codes(report) == [CheckCode.REDUCE_EXCEEDS_POSITION]
    result = gate(report, CheckCode.REDUCE_EXCEEDS_POSITION)
    assert (result.value, result.limit) == (D(150), D(100))


def test_price_missing() -> None:
    report = check(action(ActionKind.OPEN_LONG, notional="1000"), use_quote=False)
    assert failed_codes(report) == [CheckCode.PRICE_MISSING]
    assert gate(report, CheckCode.PRICE_MISSING).message == "no quote for AAPL"
    # Nothing can be measured without a price; those gates say so instead of passing silently.
    notional = gate(report, CheckCode.MAX_ORDER_NOTIONAL)
    assert not notional.applicable
    assert notional.value is None


def test_price_missing_for_a_quote_of_another_symbol() -> None:
    report = check(action(ActionKind.OPEN_LONG, notional="1000"), quote_=quote("MSFT"))
    assert failed_codes(report) == [CheckCode.PRICE_MISSING]


def test_price_stale() -> None:
    report = check(action(ActionKind.OPEN_LONG, notional="1000"), now=T0 + timedelta(seconds=61))
    assert failed_codes(report) == [CheckCode.PRICE_STALE]
    result = gate(report, CheckCode.PRICE_STALE)
    assert (result.value, result.limit) == (D(61), 60)


def test_a_quote_exactly_max_age_old_is_fresh() -> None:
    report = check(action(ActionKind.OPEN_LONG, notional="1000"), now=T0 + timedelta(seconds=60))
    assert report.passed


def test_price_age_keeps_microseconds_exactly() -> None:
    report = check(
        action(ActionKind.OPEN_LONG, notional="1000"), now=T0 + timedelta(seconds=60, microseconds=1)
    )
    result = gate(report, CheckCode.PRICE_STALE)
    assert (result.passed, result.value) == (False, D("60.000001"))


def test_direction_not_allowed_for_a_hard_to_borrow_stock() -> None:
    # The seed policy allows shorts, but not of a stock that cannot be borrowed.
    gme = equity("GME", shortable=False)
    report = check(action(ActionKind.OPEN_SHORT, gme, notional="1000"), quote_=quote("GME", "20.00", "20.02"))
    assert failed_codes(report) == [CheckCode.DIRECTION_NOT_ALLOWED]
    result = gate(report, CheckCode.DIRECTION_NOT_ALLOWED)
    assert (result.value, result.limit) == ("short", "long")


def test_direction_not_allowed_blocks_increasing_a_short_under_a_long_only_policy() -> None:
    long_only = preset("audition", allowed_directions=frozenset({Direction.LONG}))
    short = filled(started(), AAPL, Side.SELL, "100", "100")
    increase = check(action(ActionKind.INCREASE, qty="10"), short, policy=long_only)
    assert failed_codes(increase) == [CheckCode.DIRECTION_NOT_ALLOWED]
    result = gate(increase, CheckCode.DIRECTION_NOT_ALLOWED)
    assert (result.value, result.limit) == ("short", "long")
    # …while covering the short is still allowed.
    assert check(action(ActionKind.CLOSE), short, policy=long_only).passed
    assert failed_codes(check(action(ActionKind.OPEN_SHORT, qty="1"), policy=long_only)) == [
        CheckCode.DIRECTION_NOT_ALLOWED
    ]


def test_max_order_notional() -> None:
    report = check(action(ActionKind.OPEN_LONG, notional="60000"))
    assert failed_codes(report) == [CheckCode.MAX_ORDER_NOTIONAL]
    result = gate(report, CheckCode.MAX_ORDER_NOTIONAL)
    assert (result.value, result.limit) == (D(60000), D(50000))
    assert result.message == "order notional 60000 > limit 50000"


def test_max_order_notional_counts_the_contract_multiplier() -> None:
    # Two options at 3.00 are 600 of premium, not 6.
    call = "AAPL240119C00150000"
    report = check(action(ActionKind.OPEN_LONG, option(call), qty="2"), quote_=quote(call, "2.99", "3.01"))
    assert gate(report, CheckCode.MAX_ORDER_NOTIONAL).value == D(600)


def test_max_order_leverage() -> None:
    small = started(cash=D(9000))
    report = check(action(ActionKind.OPEN_LONG, notional="49000"), small)
    result = gate(report, CheckCode.MAX_ORDER_LEVERAGE)
    assert not result.passed
    assert (result.value, result.limit) == (D(49000) / D(9000), D(5))


def test_max_aggregate_leverage() -> None:
    # 460,000 of XYZ already on a 100,000 account (e.g. replayed fills); 50,000 more makes 5.1x.
    loaded = filled(started(), XYZ, Side.BUY, "4600", "100")
    report = check(action(ActionKind.OPEN_LONG, notional="50000"), loaded)
    result = gate(report, CheckCode.MAX_AGGREGATE_LEVERAGE)
    assert not result.passed
    assert (result.value, result.limit) == (D("5.1"), D(5))
    assert gate(report, CheckCode.MAX_ORDER_LEVERAGE).passed


def test_max_position_to_equity() -> None:
    # 60,000 of AAPL held; 45,000 more makes the position 105,000 on 100,000 of equity.
    holding = filled(started(), AAPL, Side.BUY, "600", "100")
    report = check(action(ActionKind.INCREASE, notional="45000"), holding)
    assert failed_codes(report) == [CheckCode.MAX_POSITION_TO_EQUITY]
    result = gate(report, CheckCode.MAX_POSITION_TO_EQUITY)
    assert (result.value, result.limit) == (D("1.05"), D(1))


def test_insufficient_buying_power() -> None:
    # 240,000 of XYZ ties up 48,000 of margin at 5x and open orders reserve 45,000: 7,000 is free.
    # 40,000 more needs 8,000 of margin plus a 40.00 fee.
    state = reserved(filled(started(), XYZ, Side.BUY, "2400", "100"), "o1", "45000")
    report = check(action(ActionKind.OPEN_LONG, notional="40000"), state)
    assert failed_codes(report) == [CheckCode.INSUFFICIENT_BUYING_POWER]
    result = gate(report, CheckCode.INSUFFICIENT_BUYING_POWER)
    assert (result.value, result.limit) == (D("8040"), D("7000"))


def test_max_open_positions() -> None:
    state = started()
    for symbol in ("A", "B", "C", "D", "E"):
        state = filled(state, equity(symbol), Side.BUY, "10", "100")
    report = check(action(ActionKind.OPEN_LONG, notional="1000"), state)
    assert failed_codes(report) == [CheckCode.MAX_OPEN_POSITIONS]
    result = gate(report, CheckCode.MAX_OPEN_POSITIONS)
    assert (result.value, result.limit) == (6, 5)
    # Adding to one of the five opens nothing new.
    assert check(action(ActionKind.OPEN_LONG, equity("A"), notional="1000"), state, quote_=quote("A")).passed


def test_max_open_orders() -> None:
    report = check(action(ActionKind.OPEN_LONG, notional="1000"), open_orders=10)
    assert failed_codes(report) == [CheckCode.MAX_OPEN_ORDERS]
    result = gate(report, CheckCode.MAX_OPEN_ORDERS)
    assert (result.value, result.limit) == (11, 10)
    assert check(action(ActionKind.OPEN_LONG, notional="1000"), open_orders=9).passed


# --- semantics -----------------------------------------------------------------------------------


def test_every_failing_gate_is_reported_together() -> None:
    paused = with_status(started(), AccountStatus.PAUSED)
    report = check(action(ActionKind.OPEN_LONG, notional="600000"), paused, open_orders=10)
    assert failed_codes(report) == [
        CheckCode.ACCOUNT_INACTIVE,
        CheckCode.MAX_ORDER_NOTIONAL,
        CheckCode.MAX_ORDER_LEVERAGE,
        CheckCode.MAX_AGGREGATE_LEVERAGE,
        CheckCode.MAX_POSITION_TO_EQUITY,
        CheckCode.INSUFFICIENT_BUYING_POWER,
        CheckCode.MAX_OPEN_ORDERS,
    ]
    values = {r.code: (r.value, r.limit) for r in report.failures}
    assert values[CheckCode.MAX_ORDER_NOTIONAL] == (D(600000), D(50000))
    assert values[CheckCode.MAX_ORDER_LEVERAGE] == (D(6), D(5))
    assert values[CheckCode.INSUFFICIENT_BUYING_POWER] == (D(120600), D(100000))
    assert (report.order, report.fill, report.fee) == (None, None, None)


def test_price_and_shape_failures_are_reported_together() -> None:
    report = check(action(ActionKind.REDUCE, qty="0", side=Side.BUY), use_quote=False)
    assert failed_codes(report) == [
        CheckCode.NO_POSITION,
        CheckCode.INVALID_QUANTITY,
        CheckCode.PRICE_MISSING,
    ]


@pytest.mark.parametrize("kind", [ActionKind.REDUCE, ActionKind.CLOSE])
def test_reducing_risk_is_never_blocked_by_limits(kind: ActionKind) -> None:
    # 640,000 of exposure on 100,000 (no capital left), at the position limit, 50 orders open.
    state = filled(started(), AAPL, Side.BUY, "6000", "100")
    for symbol in ("A", "B", "C", "D"):
        state = filled(state, equity(symbol), Side.BUY, "10", "100")
    report = check(action(kind, qty="6000" if kind is ActionKind.CLOSE else "100"), state, open_orders=50)
    assert report.passed
    for code in EXPOSURE_GATES:
        assert not gate(report, code).applicable


@pytest.mark.parametrize("kind", [ActionKind.REDUCE, ActionKind.CLOSE])
def test_reducing_still_needs_an_active_account_and_a_price(kind: ActionKind) -> None:
    long = filled(started(), AAPL, Side.BUY, "100", "100")
    locked = with_status(long, AccountStatus.LOCKED)
    qty = "10" if kind is ActionKind.REDUCE else None
    assert failed_codes(check(action(kind, qty=qty), locked)) == [CheckCode.ACCOUNT_INACTIVE]
    assert failed_codes(check(action(kind, qty=qty), long, use_quote=False)) == [CheckCode.PRICE_MISSING]


def test_gates_measure_at_the_fill_models_price() -> None:
    # Under nbbo a buy is priced at the ask: 400 × 125.01 = 50,004 > 50,000.
    nbbo_policy = preset("audition", fill_model="nbbo")
    q = quote(bid="124.99", ask="125.01")
    report = check(action(ActionKind.OPEN_LONG, qty="400"), policy=nbbo_policy, quote_=q)
    assert gate(report, CheckCode.MAX_ORDER_NOTIONAL).value == D("50004")
    # A notional is sized at that same price, so asking for the limit never breaches it.
    sized = check(action(ActionKind.OPEN_LONG, notional="50000"), policy=nbbo_policy, quote_=q)
    assert sized.passed
    assert sized.order is not None
    assert sized.order.qty == D("399.968002559")


def test_non_positive_equity_fails_ratio_gates_without_a_value() -> None:
    # A long bought with all the cash, then marked to zero by the kernel.
    bust = filled(started(cash=D(1000)), XYZ, Side.BUY, "10", "100")
    bust = handle(bust, MarkToPrices(at=T0, prices={"XYZ": D(0)})).state
    report = check(action(ActionKind.OPEN_LONG, notional="100"), bust)
    result = gate(report, CheckCode.MAX_ORDER_LEVERAGE)
    assert (result.passed, result.value, result.limit) == (False, None, D(5))
    assert "not positive" in result.message


def test_evaluate_gates_and_failed_gates() -> None:
    results = evaluate_checks(
        action(ActionKind.OPEN_LONG, notional="60000"),
        state=started(),
        policy=SEED,
        quote=quote(),
        now=NOW,
        open_orders=0,
    )
    assert [r.code for r in results] == list(ACTION_CHECKS)
    assert [r.code for r in failed_checks(results)] == [CheckCode.MAX_ORDER_NOTIONAL]


def test_gate_codes_are_stable_strings() -> None:
    assert [code.value for code in ACTION_CHECKS] == [
        "unsupported_action",
        "account_inactive",
        "asset_not_allowed",
        "contract_expired",
        "no_position",
        "opposite_position",
        "side_mismatch",
        "invalid_quantity",
        "reduce_exceeds_position",
        "price_missing",
        "price_stale",
        "direction_not_allowed",
        "max_order_notional",
        "max_order_leverage",
        "max_aggregate_leverage",
        "max_position_to_equity",
        "insufficient_buying_power",
        "max_open_positions",
        "max_open_orders",
    ]


def test_contract_expired() -> None:
    """Issue 14 (hole 9): an option past the close of its expiry date takes no order."""
    expired = "AAPL240119C00150000"
    after_close = datetime(2024, 1, 19, 21, 0, tzinfo=UTC)  # 16:00 in New York
    report = check(
        action(ActionKind.OPEN_LONG, option(expired), qty="1"),
        quote_=quote(expired, "2.99", "3.01", at=after_close),
        now=after_close,
    )
    assert CheckCode.CONTRACT_EXPIRED in failed_codes(report)
    result = gate(report, CheckCode.CONTRACT_EXPIRED)
    assert "expired at 2024-01-19 16:00 New York time" in result.message
    before_close = after_close - timedelta(seconds=1)
    fine = check(
        action(ActionKind.OPEN_LONG, option(expired), qty="1"),
        quote_=quote(expired, "2.99", "3.01", at=before_close),
        now=before_close,
    )
    assert gate(fine, CheckCode.CONTRACT_EXPIRED).passed
    assert gate(check(action(ActionKind.OPEN_LONG, notional="100")), CheckCode.CONTRACT_EXPIRED).passed
