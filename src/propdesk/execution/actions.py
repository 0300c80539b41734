"""Turning a proposed action ("open_long AAPL, 10,000 notional") into an order side and quantity.

Rules:

* ``open_long`` buys and ``open_short`` sells. Opening in the direction of an existing position
  adds to it (like ``increase``); opening *against* an existing position is refused
  (``opposite_position``) instead of silently flipping it: close it first.
* ``increase`` trades the position's own side; ``reduce`` and ``close`` the opposite side. All
  three need an open position (``no_position``).
* ``reduce`` takes at most the position's size (``reduce_exceeds_position``), so no order flips a
  position. ``close`` always takes the whole position; a ``qty`` on a close must equal it and a
  ``notional`` is refused, so that a caller who meant a partial close is told to use ``reduce``.
* Every other action gives exactly one of ``qty`` and ``notional`` (``invalid_quantity``). A ``qty``
  must be positive and a whole multiple of the lot size; it is never rounded, since changing what
  the caller asked for is a guess. A ``notional`` (contract value including the multiplier) is
  sized at the execution price and rounded *down* to the lot, so the order never spends more than
  it was given; a notional below one lot is refused.
* ``hold`` and ``cancel`` are not executable actions (``unsupported_action``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from propdesk.accounting.positions import Position
from propdesk.execution.policy.codes import CheckCode, CheckValue
from propdesk.execution.rounding import qty_down_to_lot
from propdesk.model.instruments import Instrument
from propdesk.model.numbers import ZERO
from propdesk.model.orders import ActionKind, Side

POSITION_ACTIONS = frozenset({ActionKind.INCREASE, ActionKind.REDUCE, ActionKind.CLOSE})

# Largest qty or notional accepted: far beyond any real order, and small enough that lot and tick
# arithmetic stays exact within Decimal's default 28 significant digits.
MAX_AMOUNT = Decimal(10) ** 15


@dataclass(frozen=True, slots=True)
class ProposedAction:
    """What a person or an agent proposes; ``side`` is optional and, when given, must agree."""

    kind: ActionKind
    instrument: Instrument
    qty: Decimal | None = None
    notional: Decimal | None = None
    side: Side | None = None

    @property
    def symbol(self) -> str:
        return self.instrument.symbol


@dataclass(frozen=True, slots=True)
class ResolvedOrder:
    """A market order ready to price: ``qty`` is positive, ``side`` says which way."""

    kind: ActionKind
    instrument: Instrument
    side: Side
    qty: Decimal

    @property
    def signed_qty(self) -> Decimal:
        return self.qty * self.side.sign


@dataclass(frozen=True, slots=True)
class Problem:
    """Why an action cannot be resolved, under the code of the gate that reports it."""

    code: CheckCode
    message: str
    value: CheckValue = None
    limit: CheckValue = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """An order when the action resolves cleanly, otherwise every problem found."""

    order: ResolvedOrder | None
    problems: tuple[Problem, ...]


class ActionRejected(ValueError):
    """An action that does not resolve into an order; ``code`` is the first problem's gate code."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems
        self.code = problems[0].code


def resolve_side(kind: ActionKind, position: Position | None) -> Side | None:
    """The order side of ``kind`` given the current position, or None when there is none."""
    if kind is ActionKind.OPEN_LONG:
        return Side.BUY
    if kind is ActionKind.OPEN_SHORT:
        return Side.SELL
    if kind not in POSITION_ACTIONS or position is None:
        return None
    own = Side.BUY if position.qty > 0 else Side.SELL
    return own if kind is ActionKind.INCREASE else own.opposite


def _position_problems(action: ProposedAction, position: Position | None, side: Side | None) -> list[Problem]:
    kind, symbol = action.kind, action.symbol
    problems: list[Problem] = []
    if kind in POSITION_ACTIONS and position is None:
        problems.append(Problem(CheckCode.NO_POSITION, f"no open position in {symbol} to {kind.value}", ZERO))
    if position is not None and (
        (kind is ActionKind.OPEN_LONG and position.qty < 0)
        or (kind is ActionKind.OPEN_SHORT and position.qty > 0)
    ):
        problems.append(
            Problem(
                CheckCode.OPPOSITE_POSITION,
                f"{symbol} position is {position.qty}; close it before {kind.value}",
                position.qty,
                ZERO,
            )
        )
    if action.side is not None and side is not None and action.side is not side:
        problems.append(
            Problem(
                CheckCode.SIDE_MISMATCH,
                f"{kind.value} {symbol} is a {side.value}, not a {action.side.value}",
                action.side.value,
                side.value,
            )
        )
    return problems


def _close_qty(action: ProposedAction, position: Position | None, problems: list[Problem]) -> Decimal | None:
    if action.notional is not None:
        problems.append(
            Problem(
                CheckCode.INVALID_QUANTITY,
                "close takes no notional (it closes the whole position); use reduce for part of it",
                action.notional,
            )
        )
    if position is None:
        return None
    full = abs(position.qty)
    if action.qty is not None and action.qty != full:
        problems.append(
            Problem(
                CheckCode.INVALID_QUANTITY,
                f"close closes the whole position ({full}); use reduce to close {action.qty}",
                action.qty,
                full,
            )
        )
    return full


def _explicit_qty(action: ProposedAction, qty: Decimal, problems: list[Problem]) -> Decimal | None:
    lot = action.instrument.lot_size
    if qty <= 0:
        problems.append(Problem(CheckCode.INVALID_QUANTITY, "qty must be positive", qty, ZERO))
        return None
    if qty > MAX_AMOUNT:
        problems.append(Problem(CheckCode.INVALID_QUANTITY, f"qty {qty} is too large", qty, MAX_AMOUNT))
        return None
    if not action.instrument.is_valid_qty(qty):
        message = f"qty {qty} is not a multiple of the lot size {lot}"
        problems.append(Problem(CheckCode.INVALID_QUANTITY, message, qty, lot))
        return None
    return qty


def _qty_for_notional(
    action: ProposedAction, notional: Decimal, price: Decimal | None, problems: list[Problem]
) -> Decimal | None:
    instrument = action.instrument
    if notional <= 0:
        problems.append(Problem(CheckCode.INVALID_QUANTITY, "notional must be positive", notional, ZERO))
        return None
    if notional > MAX_AMOUNT:
        message = f"notional {notional} is too large"
        problems.append(Problem(CheckCode.INVALID_QUANTITY, message, notional, MAX_AMOUNT))
        return None
    if price is None or price <= 0:
        message = f"no positive price to size {notional} notional of {action.symbol}"
        problems.append(Problem(CheckCode.PRICE_MISSING, message))
        return None
    unit_value = price * instrument.multiplier
    exact = notional / unit_value
    if exact > MAX_AMOUNT:
        message = f"notional {notional} at {price} is more than {MAX_AMOUNT} units"
        problems.append(Problem(CheckCode.INVALID_QUANTITY, message, exact, MAX_AMOUNT))
        return None
    qty = qty_down_to_lot(exact, instrument)
    if qty <= 0:
        one_lot = instrument.lot_size * unit_value
        message = f"notional {notional} is less than one lot of {action.symbol} ({one_lot} at {price})"
        problems.append(Problem(CheckCode.INVALID_QUANTITY, message, notional, one_lot))
        return None
    return qty


def _order_qty(action: ProposedAction, price: Decimal | None, problems: list[Problem]) -> Decimal | None:
    if action.qty is not None and action.notional is None:
        return _explicit_qty(action, action.qty, problems)
    if action.notional is not None and action.qty is None:
        return _qty_for_notional(action, action.notional, price, problems)
    problems.append(Problem(CheckCode.INVALID_QUANTITY, "give exactly one of qty and notional"))
    return None


def resolve_action(
    action: ProposedAction, position: Position | None, price: Decimal | None = None
) -> Resolution:
    """Resolve ``action`` against the current ``position`` (None when flat) and collect every problem.

    ``price`` is the per-unit execution price, needed only to size a ``notional``.
    """
    kind = action.kind
    if not kind.is_supported:
        problem = Problem(
            CheckCode.UNSUPPORTED_ACTION,
            f"{kind.value} is not an executable action",
            kind.value,
            ",".join(k.value for k in ActionKind if k.is_supported),
        )
        return Resolution(None, (problem,))
    side = resolve_side(kind, position)
    problems = _position_problems(action, position, side)
    if kind is ActionKind.CLOSE:
        qty = _close_qty(action, position, problems)
    else:
        qty = _order_qty(action, price, problems)
    if kind is ActionKind.REDUCE and qty is not None and position is not None and qty > abs(position.qty):
        problems.append(
            Problem(
                CheckCode.REDUCE_EXCEEDS_POSITION,
                f"reduce {qty} exceeds the {action.symbol} position of {abs(position.qty)}; use close",
                qty,
                abs(position.qty),
            )
        )
    if problems or side is None or qty is None:
        return Resolution(None, tuple(problems))
    return Resolution(ResolvedOrder(kind, action.instrument, side, qty), ())


def resolve_order(
    action: ProposedAction, position: Position | None, price: Decimal | None = None
) -> ResolvedOrder:
    """Like :func:`resolve_action`, but raises :class:`ActionRejected` unless the action resolves."""
    resolution = resolve_action(action, position, price)
    if resolution.order is None:
        raise ActionRejected(resolution.problems)
    return resolution.order
