"""Rounding of execution prices and order quantities, always in the house's favour.

A simulated fill must never be better for the trader than the arithmetic that priced it, or a
strategy could harvest rounding: so a buy price is rounded *up* to the next tick and a sell price
*down*, and a quantity sized from a notional is rounded *down* to the lot so that an order never
spends more than the notional it was given.

Results keep the increment's exponent (``100.10`` stays ``100.10``, never ``1.001E+2``) so that
prices print the way a broker would show them.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from propdesk.model.instruments import Instrument
from propdesk.model.numbers import quantize_to_increment
from propdesk.model.orders import Side


def plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent form (``500``, not ``5E+2``)."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def price_against_trader(side: Side, value: Decimal, instrument: Instrument) -> Decimal:
    """``value`` on the instrument's tick grid, rounded so the trader never gains: buys up, sells down.

    The tick is looked up at ``value`` itself, so an equity price just under $1.00 rounds on the
    0.0001 grid and one at or above $1.00 on the penny grid (Reg NMS Rule 612).
    """
    tick = instrument.tick_for(value)
    return quantize_to_increment(value, tick, rounding=ROUND_CEILING if side is Side.BUY else ROUND_FLOOR)


def qty_down_to_lot(value: Decimal, instrument: Instrument) -> Decimal:
    """``value`` truncated towards zero to the instrument's lot size, without trailing zeros."""
    return plain(quantize_to_increment(value, instrument.lot_size, rounding=ROUND_DOWN))
