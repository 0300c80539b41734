"""Position math of corporate actions: a split's new quantity, cost, mark and cash in lieu.

A split by ``new_rate / old_rate`` (3-for-2: ``old_rate=2, new_rate=3``; a 1-for-10 reverse split:
``old_rate=10, new_rate=1``) multiplies the quantity by the ratio and divides the mark by it; the
cost basis (the signed ``cost`` of the position) is unchanged, so the average cost is divided by
the ratio. Where only whole shares may be held the fractional remainder is paid out as cash in
lieu at the post-split price: that part of the position is sold, its share of the cost leaves
the basis and the difference is realized, exactly as a fill would do it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from propdesk.accounting.positions import COST_EXP, Position
from propdesk.model.numbers import ZERO


@dataclass(frozen=True, slots=True)
class SplitEffect:
    """What a split does to one position (``qty_after`` zero when only a fraction was held)."""

    qty_after: Decimal
    cost_after: Decimal
    mark_after: Decimal
    lieu_qty: Decimal  # signed, like the position
    lieu_price: Decimal
    cash_delta: Decimal
    realized_pnl: Decimal


def split_ratio(old_rate: Decimal, new_rate: Decimal) -> Decimal:
    """New shares per old share; both rates must be positive."""
    if old_rate <= 0 or new_rate <= 0:
        raise ValueError(f"split rates must be positive, got {old_rate}:{new_rate}")
    return new_rate / old_rate


def split_position(
    position: Position,
    old_rate: Decimal,
    new_rate: Decimal,
    *,
    whole_shares: bool,
    lieu_price: Decimal | None = None,
) -> SplitEffect:
    """``position`` after the split; ``lieu_price`` defaults to the mark divided by the ratio."""
    split_ratio(old_rate, new_rate)
    raw = position.qty * new_rate / old_rate
    mark_after = position.mark * old_rate / new_rate
    price = mark_after if lieu_price is None else lieu_price
    # Whole shares round toward zero, for a short too.
    qty_after = raw.to_integral_value(rounding=ROUND_DOWN) if whole_shares else raw
    lieu_qty = raw - qty_after
    if lieu_qty == 0:
        return SplitEffect(qty_after, position.cost, mark_after, ZERO, price, ZERO, ZERO)
    whole_part_gone = qty_after == 0
    cost_removed = position.cost if whole_part_gone else (position.cost * lieu_qty / raw).quantize(COST_EXP)
    spec = position.instrument
    proceeds = lieu_qty * price * spec.multiplier
    realized = proceeds - cost_removed
    cash = proceeds if spec.pays_notional else realized
    return SplitEffect(qty_after, position.cost - cost_removed, mark_after, lieu_qty, price, cash, realized)


def dividend_amount(position: Position, rate: Decimal) -> Decimal:
    """Cash a position receives (long) or owes (short) for a dividend of ``rate`` per share."""
    return position.qty * rate * position.instrument.multiplier
