"""How much buying power an accepted order holds until it fills, is canceled or expires.

The reservation is the margin the order would use at the price it can fill at, plus its fee:

* a limit (or stop-limit) order: at its limit price (it never fills worse);
* a market, stop or trailing-stop order: at the far side of the latest quote plus a buffer,
  ``MARKET_BUFFER`` (2.5%, the low end of the 2.5–4% Alpaca documents for market buys), because
  the price it will fill at is not known yet;
* a sell that opens or adds to a short is valued like Alpaca's opening short sell: at least 3%
  above the current ask.

Margin is notional / leverage, the kernel's margin model, so a reservation and the position it
turns into tie up the same capital. On a partial fill the order releases the filled share of its
reservation (``release_for_fill``), so what is still held always covers what is still open.
"""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

from propdesk.model.instruments import Instrument
from propdesk.model.market import Quote
from propdesk.model.orders import OrderType, Side

MARKET_BUFFER = Decimal("0.025")
SHORT_SALE_BUFFER = Decimal("0.03")
CENT = Decimal("0.01")


def reservation_price(
    *,
    side: Side,
    order_type: OrderType,
    quote: Quote | None,
    limit_price: Decimal | None,
    opens_short: bool = False,
) -> Decimal:
    """The per-unit price an order's reservation is computed at (see the module docstring)."""
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        if limit_price is None:
            raise ValueError(f"{order_type.value} order without a limit price")
        if opens_short and quote is not None:
            return max(limit_price, quote.ask * (1 + SHORT_SALE_BUFFER))
        return limit_price
    if quote is None:
        raise ValueError("a market-style order needs a quote to reserve against")
    if side is Side.BUY:
        return quote.ask * (1 + MARKET_BUFFER)
    return quote.ask * (1 + SHORT_SALE_BUFFER) if opens_short else quote.bid


def reservation_amount(
    instrument: Instrument, qty: Decimal, unit_price: Decimal, *, leverage: Decimal, fee: Decimal
) -> Decimal:
    """Margin plus fee for ``qty`` at ``unit_price``, rounded up to the cent (never under-reserve)."""
    margin = instrument.notional(qty, unit_price) / leverage
    return (margin + fee).quantize(CENT, rounding=ROUND_UP)


def release_for_fill(held: Decimal, open_qty: Decimal, filled_qty: Decimal) -> Decimal:
    """The part of ``held`` a fill of ``filled_qty`` out of ``open_qty`` releases (all of it when the
    order is done), so the rest stays proportional to what is still open."""
    if not 0 < filled_qty <= open_qty:
        raise ValueError(f"fill of {filled_qty} is not within the open {open_qty}")
    if filled_qty == open_qty:
        return held
    return (held * filled_qty / open_qty).quantize(CENT, rounding=ROUND_UP).min(held)
