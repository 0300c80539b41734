"""What an accepted order reserves of the account's buying power (exits that only reduce reserve
nothing). The unit prices and amounts come from :mod:`propdesk.execution.reservations`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from propdesk.accounting.state import AccountState
from propdesk.execution.fees import fee_model_for
from propdesk.execution.policy.codes import CheckCode
from propdesk.execution.policy.order_checks import refuse
from propdesk.execution.reservations import reservation_amount, reservation_price
from propdesk.model.instruments import AssetClass, Instrument
from propdesk.model.market import Quote
from propdesk.model.numbers import ONE, ZERO
from propdesk.model.orders import Order, OrderType, Side
from propdesk.model.policy import ExecutionPolicy


def opening_qty(state: AccountState, open_orders: Iterable[Order], order: Order) -> Decimal:
    """The part of ``order`` that opens or adds exposure, given the position and the other open
    orders (``open_orders``, on the same symbol) already working to close it on the same side."""
    position = state.positions.get(order.symbol)
    held = position.qty if position is not None else ZERO
    closable = -held if order.side is Side.BUY else held
    if closable <= 0:
        return order.remaining
    taken = sum(
        (
            o.remaining
            for o in open_orders
            if o.id != order.id and o.side is order.side and o.parent_id is None and o.reserved == 0
        ),
        ZERO,
    )
    return max(ZERO, order.remaining - max(ZERO, closable - taken))


def reservation_for(
    state: AccountState,
    policy: ExecutionPolicy,
    order: Order,
    instrument: Instrument,
    quote: Quote | None,
    now: datetime,
    *,
    opening: Decimal,
) -> Decimal:
    """What ``order`` must reserve for its ``opening`` quantity (zero when it opens nothing)."""
    if opening <= 0:
        return ZERO
    if quote is None and order.type not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        if order.type is OrderType.STOP and order.stop_price is not None:
            quote = Quote(order.symbol, now, order.stop_price, order.stop_price)
        else:
            raise refuse(
                CheckCode.PRICE_MISSING,
                f"no quote for {order.symbol}: a {order.type.value} order cannot be priced",
            )
    unit = reservation_price(
        side=order.side,
        order_type=order.type,
        quote=quote,
        limit_price=order.limit_price,
        opens_short=order.side is Side.SELL,
    )
    leverage = state.leverage if instrument.asset_class is not AssetClass.US_OPTION else ONE
    fee = fee_model_for(policy, instrument).fee(opening, unit, instrument)
    return reservation_amount(instrument, opening, unit, leverage=leverage, fee=fee)


def open_reserved(orders: Sequence[Order]) -> Mapping[str, Decimal]:
    """What each open order holds: the reservations the kernel must agree with."""
    return {o.id: o.reserved for o in orders if o.is_open and o.reserved > 0}
