"""How much of an order fills now: participation caps and Alpaca's random partial fills.

The price models in :mod:`propdesk.execution.fill_models` say at what price; these say how
much, for the order engine's evaluation of a resting or marketable order:

* :class:`VolumeShare` fills at most ``participation`` of what the market shows (a bar's volume
  in replay, the displayed size on the far side of a quote live) per evaluation; the rest stays
  open for the next one. Its price moves against the trader by ``impact_bps`` times the share of
  the available quantity taken, so a larger order pays more (linear impact).
* :class:`AlpacaParity` fills everything except, ``partial_probability`` (10%) of the time, a
  random part of it, drawn from the caller's seeded :class:`random.Random`, as Alpaca's paper
  engine does; the remainder is re-evaluated later.

Quantities are whole lots and never exceed what is still open.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from propdesk.model.instruments import Instrument
from propdesk.model.numbers import BPS, ZERO, quantize_to_increment
from propdesk.model.orders import Side


def _lots_down(value: Decimal, lot: Decimal) -> Decimal:
    return quantize_to_increment(value, lot, rounding=ROUND_DOWN) if value > 0 else ZERO


@dataclass(frozen=True, slots=True)
class VolumeShare:
    participation: Decimal = Decimal("0.1")
    impact_bps: Decimal = Decimal(10)

    def __post_init__(self) -> None:
        if not 0 < self.participation <= 1:
            raise ValueError("participation must be in (0, 1]")
        if self.impact_bps < 0:
            raise ValueError("impact_bps must not be negative")

    def quantity(self, remaining: Decimal, available: Decimal, instrument: Instrument) -> Decimal:
        """What may fill now: at most ``participation`` × ``available``, in whole lots."""
        if remaining <= 0 or available <= 0:
            return ZERO
        return min(remaining, _lots_down(available * self.participation, instrument.lot_size))

    def price(
        self, side: Side, qty: Decimal, available: Decimal, reference: Decimal, instrument: Instrument
    ) -> Decimal:
        """``reference`` moved against the trader by the impact of taking ``qty`` of ``available``."""
        share = qty / available if available > 0 else Decimal(1)
        moved = reference * (1 + side.sign * self.impact_bps * BPS * share)
        rounding = ROUND_CEILING if side is Side.BUY else ROUND_FLOOR
        return quantize_to_increment(moved, instrument.tick_for(moved), rounding=rounding)


@dataclass(frozen=True, slots=True)
class AlpacaParity:
    partial_probability: Decimal = Decimal("0.1")

    def quantity(self, remaining: Decimal, instrument: Instrument, rng: random.Random) -> Decimal:
        """All of ``remaining``, or 10% of the time a random part of it (at least one lot)."""
        lot = instrument.lot_size
        if remaining <= lot or Decimal(str(rng.random())) >= self.partial_probability:
            return remaining
        lots = int(remaining / lot)
        return min(remaining, lot * rng.randint(1, max(1, lots - 1)))
