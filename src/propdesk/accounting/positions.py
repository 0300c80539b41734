"""Signed position math with multipliers.

A position keeps its ``cost`` (signed sum of ``qty × price × multiplier`` of the open part)
rather than an average price. Average price is derived, and only the cost removed by a partial
close is ever rounded, so realized + unrealized PnL always equals the cash that actually moved
plus the position's market value: the books balance to the last digit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from propdesk.model.fills import Fill
from propdesk.model.instruments import InstrumentSpec
from propdesk.model.numbers import ZERO

# Precision of the cost share removed by a partial close (the only rounded figure).
COST_EXP = Decimal("1e-12")


@dataclass(frozen=True, slots=True)
class Position:
    """An open position: ``qty`` > 0 is long, < 0 short; never zero (a flat position is removed)."""

    instrument: InstrumentSpec
    qty: Decimal
    cost: Decimal
    mark: Decimal
    opened_at: datetime

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    @property
    def avg_price(self) -> Decimal:
        return self.cost / (self.qty * self.instrument.multiplier)

    @property
    def market_value(self) -> Decimal:
        """Signed value at the mark (negative for shorts)."""
        return self.qty * self.mark * self.instrument.multiplier

    @property
    def unrealized_pnl(self) -> Decimal:
        return self.market_value - self.cost

    @property
    def exposure(self) -> Decimal:
        """Gross notional at the mark."""
        return abs(self.market_value)

    @property
    def equity_contribution(self) -> Decimal:
        """What the position adds to equity on top of cash: its value if paid for, else its PnL."""
        return self.market_value if self.instrument.pays_notional else self.unrealized_pnl


@dataclass(frozen=True, slots=True)
class FillEffect:
    """What one fill does: the position after it, the PnL it realizes and the cash it moves."""

    position: Position | None
    realized_pnl: Decimal
    cash_delta: Decimal
    closed_qty: Decimal


def apply_fill(position: Position | None, fill: Fill) -> FillEffect:
    """Open, increase, reduce, close or flip ``position`` by ``fill``."""
    spec = fill.instrument
    signed = fill.signed_qty
    mark = fill.mark if fill.mark is not None else fill.price
    fill_value = signed * fill.price * spec.multiplier
    realized = ZERO
    closed = ZERO
    if position is None:
        after: Position | None = Position(spec, signed, fill_value, mark, fill.time)
    elif (position.qty > 0) == (signed > 0):
        after = Position(spec, position.qty + signed, position.cost + fill_value, mark, position.opened_at)
    else:
        closed = min(abs(signed), abs(position.qty))
        closing_sign = Decimal(1) if position.qty > 0 else Decimal(-1)
        if closed == abs(position.qty):
            cost_removed = position.cost
        else:
            cost_removed = (position.cost * closed / abs(position.qty)).quantize(COST_EXP)
        realized = closing_sign * closed * fill.price * spec.multiplier - cost_removed
        remaining = position.qty + signed
        if remaining == 0:
            after = None
        elif (remaining > 0) == (position.qty > 0):
            after = Position(spec, remaining, position.cost - cost_removed, mark, position.opened_at)
        else:
            after = Position(spec, remaining, remaining * fill.price * spec.multiplier, mark, fill.time)
    cash_delta = -fill_value - fill.fee if spec.pays_notional else realized - fill.fee
    return FillEffect(after, realized, cash_delta, closed)


@dataclass(frozen=True, slots=True)
class SymbolHistory:
    """The net effect of a sequence of fills on one symbol, from flat."""

    position: Position | None
    realized_pnl: Decimal
    cash: Decimal
    fees: Decimal


def replay_fills(fills: Iterable[Fill]) -> SymbolHistory:
    """Apply ``fills`` (one symbol, in the order they were applied) to a flat position."""
    position: Position | None = None
    realized = cash = fees = ZERO
    for fill in fills:
        effect = apply_fill(position, fill)
        position = effect.position
        realized += effect.realized_pnl
        cash += effect.cash_delta
        fees += fill.fee
    return SymbolHistory(position, realized, cash, fees)
