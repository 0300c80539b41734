"""Deterministic outcomes for testing: ``pd-fill-`` fills at once, ``pd-reject-`` rejects at once."""

from __future__ import annotations

from decimal import Decimal

from propdesk.execution.policy.codes import CheckCode
from propdesk.execution.policy.order_checks import refuse
from propdesk.model.market import Quote
from propdesk.model.orders import Order, OrderType, Side

# client_order_id prefixes that decide an order's outcome at once (see the package docstring).
FILL_PREFIX = "pd-fill-"
REJECT_PREFIX = "pd-reject-"


def forced_outcome(client_order_id: str) -> str | None:
    """``FILL_PREFIX`` or ``REJECT_PREFIX`` when the client order id asks for a deterministic outcome."""
    for prefix in (FILL_PREFIX, REJECT_PREFIX):
        if client_order_id.startswith(prefix):
            return prefix
    return None


def forced_price(order: Order, quote: Quote | None) -> Decimal:
    """The price a ``pd-fill-`` order fills at; refused (nothing stored) if there is none."""
    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.limit_price is not None:
        return order.limit_price
    if quote is not None:
        far = quote.ask if order.side is Side.BUY else quote.bid
        if far > 0:
            return far
    if order.stop_price is not None:
        return order.stop_price
    raise refuse(
        CheckCode.PRICE_MISSING,
        f"{FILL_PREFIX} order: no quote for {order.symbol} and no limit or stop price to fill "
        f"a {order.type.value} order at",
    )
