"""Resolving an action into an order side and quantity."""

from __future__ import annotations

from decimal import Decimal

import pytest

from propdesk.accounting.positions import Position
from propdesk.execution.actions import ActionRejected, ResolvedOrder, resolve_action, resolve_order
from propdesk.execution.policy.codes import CheckCode
from propdesk.model.instruments import future
from propdesk.model.orders import ActionKind, Side
from tests.execution.factories import AAPL, T0, action

D = Decimal
ES = future("ESZ26")


def position(qty: str) -> Position:
    q = D(qty)
    return Position(AAPL.spec, q, q * 100, D(100), T0)


def test_open_long_buys_and_open_short_sells() -> None:
    assert resolve_order(action(ActionKind.OPEN_LONG, qty="10"), None) == ResolvedOrder(
        ActionKind.OPEN_LONG, AAPL, Side.BUY, D(10)
    )
    assert resolve_order(action(ActionKind.OPEN_SHORT, qty="10"), None).side is Side.SELL


@pytest.mark.parametrize(
    ("kind", "held", "side"),
    [
        (ActionKind.INCREASE, "100", Side.BUY),
        (ActionKind.INCREASE, "-100", Side.SELL),
        (ActionKind.REDUCE, "100", Side.SELL),
        (ActionKind.REDUCE, "-100", Side.BUY),
    ],
)
def test_position_actions_take_their_side_from_the_position(kind: ActionKind, held: str, side: Side) -> None:
    assert resolve_order(action(kind, qty="40"), position(held)).side is side


def test_close_takes_the_whole_position_on_the_opposite_side() -> None:
    order = resolve_order(action(ActionKind.CLOSE), position("-37.5"))
    assert (order.side, order.qty, order.signed_qty) == (Side.BUY, D("37.5"), D("37.5"))


def test_close_accepts_a_qty_equal_to_the_position_only() -> None:
    assert resolve_order(action(ActionKind.CLOSE, qty="100"), position("100")).qty == D(100)
    with pytest.raises(ActionRejected) as caught:
        resolve_order(action(ActionKind.CLOSE, qty="40"), position("100"))
    assert caught.value.code is CheckCode.INVALID_QUANTITY
    assert "use reduce" in str(caught.value)


def test_notional_is_sized_at_the_price_and_rounded_down_to_the_lot() -> None:
    order = resolve_order(action(ActionKind.OPEN_LONG, notional="1000"), None, D("3.00"))
    assert order.qty == D("333.333333333")  # 333.3333333333… truncated to nine places


def test_notional_qty_is_plain() -> None:
    order = resolve_order(action(ActionKind.OPEN_LONG, notional="50000"), None, D("100.00"))
    assert str(order.qty) == "500"


def test_futures_notional_counts_the_point_value() -> None:
    # One ES contract at 5000 is worth 250,000: 600,000 buys 2 (2.4 rounded down).
    order = resolve_order(action(ActionKind.OPEN_LONG, ES, notional="600000"), None, D("5000.00"))
    assert order.qty == D(2)


def test_notional_below_one_lot_is_refused() -> None:
    resolution = resolve_action(action(ActionKind.OPEN_LONG, ES, notional="100000"), None, D("5000.00"))
    (problem,) = resolution.problems
    assert (problem.code, problem.value, problem.limit) == (CheckCode.INVALID_QUANTITY, D(100000), D(250000))


def test_notional_needs_a_price() -> None:
    with pytest.raises(ActionRejected) as caught:
        resolve_order(action(ActionKind.OPEN_LONG, notional="1000"), None)
    assert caught.value.code is CheckCode.PRICE_MISSING


@pytest.mark.parametrize(
    ("qty", "notional"),
    [(None, None), ("1", "100"), ("0", None), ("-1", None), (None, "0"), ("1e16", None)],
)
def test_exactly_one_positive_amount(qty: str | None, notional: str | None) -> None:
    with pytest.raises(ActionRejected) as caught:
        resolve_order(action(ActionKind.OPEN_LONG, qty=qty, notional=notional), None, D(100))
    assert caught.value.code is CheckCode.INVALID_QUANTITY


def test_qty_must_be_a_whole_lot_and_is_never_rounded() -> None:
    resolution = resolve_action(action(ActionKind.OPEN_LONG, ES, qty="1.5"), None)
    (problem,) = resolution.problems
    assert (problem.code, problem.value, problem.limit) == (CheckCode.INVALID_QUANTITY, D("1.5"), D(1))


def test_reduce_may_not_exceed_the_position() -> None:
    assert resolve_order(action(ActionKind.REDUCE, qty="100"), position("100")).qty == D(100)
    resolution = resolve_action(action(ActionKind.REDUCE, qty="150"), position("100"))
    (problem,) = resolution.problems
    assert (problem.code, problem.value, problem.limit) == (CheckCode.REDUCE_EXCEEDS_POSITION, D(150), D(100))


@pytest.mark.parametrize("kind", [ActionKind.INCREASE, ActionKind.REDUCE, ActionKind.CLOSE])
def test_position_actions_need_a_position(kind: ActionKind) -> None:
    with pytest.raises(ActionRejected) as caught:
        resolve_order(action(kind, qty="1"), None)
    assert caught.value.code is CheckCode.NO_POSITION


def test_opening_against_a_position_is_refused_not_flipped() -> None:
    resolution = resolve_action(action(ActionKind.OPEN_LONG, qty="10"), position("-100"))
    (problem,) = resolution.problems
    assert (problem.code, problem.value, problem.limit) == (CheckCode.OPPOSITE_POSITION, D(-100), D(0))


def test_opening_with_the_position_adds_to_it() -> None:
    assert resolve_order(action(ActionKind.OPEN_LONG, qty="10"), position("100")).side is Side.BUY


def test_a_given_side_must_agree() -> None:
    resolution = resolve_action(action(ActionKind.REDUCE, qty="10", side=Side.BUY), position("100"))
    (problem,) = resolution.problems
    assert (problem.code, problem.value, problem.limit) == (CheckCode.SIDE_MISMATCH, "buy", "sell")
    assert resolve_order(action(ActionKind.REDUCE, qty="10", side=Side.SELL), position("100")).qty == D(10)


@pytest.mark.parametrize("kind", [ActionKind.HOLD, ActionKind.CANCEL])
def test_hold_and_cancel_do_not_resolve(kind: ActionKind) -> None:
    with pytest.raises(ActionRejected) as caught:
        resolve_order(action(kind), None)
    assert caught.value.code is CheckCode.UNSUPPORTED_ACTION


def test_every_problem_is_collected() -> None:
    resolution = resolve_action(action(ActionKind.REDUCE, qty="0", side=Side.BUY), None)
    assert [p.code for p in resolution.problems] == [CheckCode.NO_POSITION, CheckCode.INVALID_QUANTITY]
