"""Fill models: the price a marketable order gets against a quote.

Every model returns a :class:`PricedFill` that records the quote it used (bid, ask, mark) and the
slippage, so any fill can be audited and replayed. Slippage is per unit, in price units, and
signed *against the trader*: ``side.sign × (price − mark)``, positive when the fill is worse than
the mark. The mark is the quote's mid.

Rounding rules (why they differ per model):

* ``mid`` fills at the exact mid and is **not** rounded to the tick. The mid is the documented
  reference price of the seed policy ("simulate fill at latest mark price"); rounding it would
  either favour one side or, on a one-tick spread, silently turn ``mid`` into ``nbbo``. Real
  midpoint-peg executions print at half a tick too (Reg NMS Rule 612 allows sub-penny midpoint
  executions), so a half-tick price such as 100.005 is a legitimate mid fill.
* ``nbbo`` and ``bps_slippage`` model marketable executions that print on the tick grid, so their
  price is rounded to the instrument's tick *against the trader*: a buy is rounded up, a sell
  down (:func:`~propdesk.execution.rounding.price_against_trader`). A buy therefore never pays
  less, and a sell never receives more, than the computed price. Quotes already on the grid are
  unchanged, so ``nbbo`` is exactly "buy at the ask, sell at the bid".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Protocol

from propdesk.execution.partial_fills import VolumeShare
from propdesk.execution.rounding import price_against_trader
from propdesk.model.fills import Fill
from propdesk.model.instruments import Instrument
from propdesk.model.market import Quote
from propdesk.model.numbers import BPS
from propdesk.model.orders import Side
from propdesk.model.policy import ExecutionPolicy, FillModelName


@dataclass(frozen=True, slots=True)
class PricedFill:
    """The outcome of a fill model: the execution price and the quote evidence behind it."""

    model: str
    price: Decimal
    bid: Decimal
    ask: Decimal
    mark: Decimal
    slippage: Decimal


class FillModel(Protocol):
    """Prices an order of ``qty`` (positive) on ``side`` against ``quote``."""

    @property
    def name(self) -> str: ...

    def price(self, side: Side, qty: Decimal, quote: Quote, instrument: Instrument) -> PricedFill: ...


def _priced(model: str, side: Side, price: Decimal, quote: Quote) -> PricedFill:
    mark = quote.mark
    return PricedFill(
        model=model,
        price=price,
        bid=quote.bid,
        ask=quote.ask,
        mark=mark,
        slippage=side.sign * (price - mark),
    )


def _require_qty(qty: Decimal) -> None:
    # A fill model is only ever asked about a real order; a zero or negative size is a caller bug.
    if qty <= 0:
        raise ValueError(f"order qty must be positive, got {qty}")


@dataclass(frozen=True, slots=True)
class MidFillModel:
    """Fill at the quote's mid, unrounded; slippage is always zero (the seed default)."""

    name: ClassVar[str] = FillModelName.MID.value

    def price(self, side: Side, qty: Decimal, quote: Quote, instrument: Instrument) -> PricedFill:
        _require_qty(qty)
        return _priced(self.name, side, quote.mid, quote)


@dataclass(frozen=True, slots=True)
class NbboFillModel:
    """Buy at the ask, sell at the bid: Alpaca's paper-trading semantics (no size cap, no impact)."""

    name: ClassVar[str] = FillModelName.NBBO.value

    def price(self, side: Side, qty: Decimal, quote: Quote, instrument: Instrument) -> PricedFill:
        _require_qty(qty)
        touch = quote.ask if side is Side.BUY else quote.bid
        return _priced(self.name, side, price_against_trader(side, touch, instrument), quote)


@dataclass(frozen=True, slots=True)
class BpsSlippageFillModel:
    """Mid moved ``bps`` basis points of the mid against the trader, then rounded to the tick.

    The offset is taken on ``|mid|`` so that it is adverse even for a negative price (calendar
    spreads, crude oil in April 2020).
    """

    bps: Decimal
    name: ClassVar[str] = FillModelName.BPS_SLIPPAGE.value

    def __post_init__(self) -> None:
        if self.bps < 0:
            raise ValueError(f"slippage bps must not be negative, got {self.bps}")

    def price(self, side: Side, qty: Decimal, quote: Quote, instrument: Instrument) -> PricedFill:
        _require_qty(qty)
        mid = quote.mid
        raw = mid + side.sign * abs(mid) * self.bps * BPS
        return _priced(self.name, side, price_against_trader(side, raw, instrument), quote)


@dataclass(frozen=True, slots=True)
class NbboParityFillModel:
    """``alpaca_parity`` prices like ``nbbo`` (the far side); its random partials are quantity, not
    price, and are drawn by the order engine (:class:`~propdesk.execution.partial_fills.AlpacaParity`)."""

    name: ClassVar[str] = FillModelName.ALPACA_PARITY.value

    def price(self, side: Side, qty: Decimal, quote: Quote, instrument: Instrument) -> PricedFill:
        _require_qty(qty)
        touch = quote.ask if side is Side.BUY else quote.bid
        return _priced(self.name, side, price_against_trader(side, touch, instrument), quote)


@dataclass(frozen=True, slots=True)
class VolumeShareFillModel:
    """The far side moved against the trader by the impact of taking ``qty`` of the displayed size
    (:class:`~propdesk.execution.partial_fills.VolumeShare`); an unknown (zero) size counts as
    taking all of it, the largest impact."""

    share: VolumeShare
    name: ClassVar[str] = FillModelName.VOLUME_SHARE.value

    def price(self, side: Side, qty: Decimal, quote: Quote, instrument: Instrument) -> PricedFill:
        _require_qty(qty)
        touch = quote.ask if side is Side.BUY else quote.bid
        shown = quote.ask_size if side is Side.BUY else quote.bid_size
        available = shown if shown > 0 else qty
        moved = self.share.price(side, qty, max(available, qty), touch, instrument)
        return _priced(self.name, side, moved, quote)


def mid() -> MidFillModel:
    return MidFillModel()


def nbbo() -> NbboFillModel:
    return NbboFillModel()


def bps_slippage(bps: Decimal) -> BpsSlippageFillModel:
    return BpsSlippageFillModel(bps)


def fill_model_for(policy: ExecutionPolicy) -> FillModel:
    """The fill model an account's policy names (``slippage_bps`` only matters for ``bps_slippage``)."""
    if policy.fill_model is FillModelName.MID:
        return MidFillModel()
    if policy.fill_model is FillModelName.NBBO:
        return NbboFillModel()
    if policy.fill_model is FillModelName.ALPACA_PARITY:
        return NbboParityFillModel()
    if policy.fill_model is FillModelName.VOLUME_SHARE:
        return VolumeShareFillModel(VolumeShare(policy.participation_rate, policy.impact_bps))
    return BpsSlippageFillModel(policy.slippage_bps)


def build_fill(
    fill_id: str,
    order_id: str | None,
    instrument: Instrument,
    side: Side,
    qty: Decimal,
    priced: PricedFill,
    fee: Decimal,
    time: datetime,
) -> Fill:
    """The ledger :class:`Fill` for an execution, carrying the quote evidence of ``priced``."""
    return Fill(
        fill_id=fill_id,
        order_id=order_id,
        instrument=instrument.spec,
        side=side,
        qty=qty,
        price=priced.price,
        fee=fee,
        time=time,
        bid=priced.bid,
        ask=priced.ask,
        mark=priced.mark,
        slippage=priced.slippage,
    )


__all__ = [
    "BpsSlippageFillModel",
    "FillModel",
    "MidFillModel",
    "NbboFillModel",
    "PricedFill",
    "bps_slippage",
    "build_fill",
    "fill_model_for",
    "mid",
    "nbbo",
]
