"""When and at what price a resting order fills: against a quote (live) or a bar (replay).

Quotes follow Alpaca's paper rule: an order fills only when it is marketable against the quote,
a buy at the ask and a sell at the bid, so a crossing limit gets the quote, not its limit
(price improvement). Stops trigger on the quote's far side (a buy stop when the ask reaches the
stop, a sell stop when the bid does) and then fill like a market order.

Bars carry no quotes, so replay uses gap rules that never give a price the bar did not trade:

* market: the bar's open;
* buy limit L: the open if the open is at or below L, else L if the low reaches L (sell limit
  mirrored: the open if at or above L, else L if the high reaches it);
* buy stop S: the open if the bar gaps to or through S, else S if the high reaches S (sell stop
  mirrored on the low);
* stop-limit (S, L): triggered as a stop; a bar that triggers it fills at the trigger price (the
  open on a gap, else S) when that price satisfies L, otherwise the order rests as a limit from
  the next bar on;
* trailing stop: the stop trails the best price seen since the order was accepted (highest high
  for a sell, lowest low for a buy) by a price or a percent; each bar is first checked against
  the stop set by earlier bars, then moves the watermark, so a bar never triggers on its own
  extreme.

Nothing here decides quantity (fill models and participation caps do) or time in force (the
order engine expires DAY orders at the session close); this module only answers "does it trade,
and at what price", and for stop-style orders returns the updated trigger state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from propdesk.model.market import Bar, Quote
from propdesk.model.orders import OrderType, Side

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Trigger:
    """An order's price conditions and what it has seen so far (stops and trailing stops)."""

    side: Side
    type: OrderType
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    watermark: Decimal | None = None
    triggered: bool = False

    def __post_init__(self) -> None:
        needs_limit = self.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_limit != (self.limit_price is not None):
            raise ValueError(f"{self.type.value} orders {'need' if needs_limit else 'take no'} limit_price")
        if needs_stop != (self.stop_price is not None):
            raise ValueError(f"{self.type.value} orders {'need' if needs_stop else 'take no'} stop_price")
        if self.type is OrderType.TRAILING_STOP and (self.trail_price is None) == (
            self.trail_percent is None
        ):
            raise ValueError("trailing_stop orders need exactly one of trail_price and trail_percent")

    @property
    def trailing_stop(self) -> Decimal | None:
        """The current stop of a trailing order (None before it has a watermark)."""
        if self.watermark is None:
            return None
        if self.trail_price is not None:
            offset = self.trail_price
        else:
            assert self.trail_percent is not None
            offset = self.watermark * self.trail_percent / HUNDRED
        return self.watermark - offset if self.side is Side.SELL else self.watermark + offset


@dataclass(frozen=True, slots=True)
class Match:
    """A fill price (None when the order does not trade) and the order's trigger state after."""

    price: Decimal | None
    trigger: Trigger


def _limit_ok(side: Side, price: Decimal, limit: Decimal) -> bool:
    return price <= limit if side is Side.BUY else price >= limit


def _stop_hit(side: Side, price: Decimal, stop: Decimal) -> bool:
    return price >= stop if side is Side.BUY else price <= stop


# --- quotes ------------------------------------------------------------------------------------


def match_quote(trigger: Trigger, quote: Quote) -> Match:
    """Fill price against ``quote`` by Alpaca's paper rule: the far side, only when marketable."""
    far = quote.ask if trigger.side is Side.BUY else quote.bid
    kind = trigger.type
    if kind is OrderType.MARKET:
        return Match(far, trigger)
    if kind is OrderType.LIMIT:
        assert trigger.limit_price is not None
        return Match(far if _limit_ok(trigger.side, far, trigger.limit_price) else None, trigger)
    if kind is OrderType.TRAILING_STOP:
        return _trail_quote(trigger, quote, far)
    assert trigger.stop_price is not None
    triggered = trigger.triggered or _stop_hit(trigger.side, far, trigger.stop_price)
    state = replace(trigger, triggered=triggered)
    if not triggered:
        return Match(None, state)
    if kind is OrderType.STOP:
        return Match(far, state)
    assert trigger.limit_price is not None
    return Match(far if _limit_ok(trigger.side, far, trigger.limit_price) else None, state)


def _trail_quote(trigger: Trigger, quote: Quote, far: Decimal) -> Match:
    # The watermark follows the near side (what a seller could get, what a buyer would pay).
    near = quote.bid if trigger.side is Side.SELL else quote.ask
    stop = trigger.trailing_stop
    if stop is not None and _stop_hit(trigger.side, far, stop):
        return Match(far, replace(trigger, triggered=True))
    mark = trigger.watermark
    better = mark is None or (near > mark if trigger.side is Side.SELL else near < mark)
    return Match(None, replace(trigger, watermark=near) if better else trigger)


# --- bars --------------------------------------------------------------------------------------


def match_bar(trigger: Trigger, bar: Bar) -> Match:
    """Fill price within ``bar`` by the gap rules in the module docstring."""
    kind = trigger.type
    side = trigger.side
    if kind is OrderType.MARKET:
        return Match(bar.open, trigger)
    if kind is OrderType.LIMIT:
        assert trigger.limit_price is not None
        return Match(_limit_in_bar(side, trigger.limit_price, bar), trigger)
    if kind is OrderType.TRAILING_STOP:
        return _trail_bar(trigger, bar)
    assert trigger.stop_price is not None
    if trigger.triggered:  # a stop-limit resting as a limit
        assert trigger.limit_price is not None
        return Match(_limit_in_bar(side, trigger.limit_price, bar), trigger)
    at = _stop_in_bar(side, trigger.stop_price, bar)
    if at is None:
        return Match(None, trigger)
    state = replace(trigger, triggered=True)
    if kind is OrderType.STOP:
        return Match(at, state)
    assert trigger.limit_price is not None
    return Match(at if _limit_ok(side, at, trigger.limit_price) else None, state)


def _limit_in_bar(side: Side, limit: Decimal, bar: Bar) -> Decimal | None:
    if _limit_ok(side, bar.open, limit):
        return bar.open
    reached = bar.low <= limit if side is Side.BUY else bar.high >= limit
    return limit if reached else None


def _stop_in_bar(side: Side, stop: Decimal, bar: Bar) -> Decimal | None:
    if _stop_hit(side, bar.open, stop):
        return bar.open
    reached = bar.high >= stop if side is Side.BUY else bar.low <= stop
    return stop if reached else None


def _trail_bar(trigger: Trigger, bar: Bar) -> Match:
    stop = trigger.trailing_stop
    if stop is not None:
        at = _stop_in_bar(trigger.side, stop, bar)
        if at is not None:
            return Match(at, replace(trigger, triggered=True))
    extreme = bar.high if trigger.side is Side.SELL else bar.low
    mark = trigger.watermark
    better = mark is None or (extreme > mark if trigger.side is Side.SELL else extreme < mark)
    return Match(None, replace(trigger, watermark=extreme) if better else trigger)
