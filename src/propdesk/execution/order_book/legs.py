"""Exit legs of bracket, OTO and OCO orders, and how the orders of one family find each other."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from propdesk.execution.order_book.requests import NewId, OrderRequest
from propdesk.model.orders import LegRole, Order, OrderClass, OrderStatus, OrderType


def children(orders: Mapping[str, Order], order: Order) -> list[Order]:
    """The orders hanging on ``order`` (its exit legs), oldest first."""
    return sorted((o for o in orders.values() if o.parent_id == order.id), key=lambda o: (o.created_at, o.id))


def siblings(orders: Mapping[str, Order], order: Order) -> list[Order]:
    """The other exit of an OCO pair (bracket exits, or an OCO order's two legs)."""
    if order.parent_id is None:
        # An OCO order is itself the limit leg: its sibling is its stop leg.
        return children(orders, order) if order.order_class is OrderClass.OCO else []
    parent = orders.get(order.parent_id)
    family = [o for o in orders.values() if o.parent_id == order.parent_id and o.id != order.id]
    if parent is not None and parent.order_class is OrderClass.OCO:
        family.append(parent)
    return family if parent is None or parent.order_class in (OrderClass.BRACKET, OrderClass.OCO) else []


def exit_legs(request: OrderRequest, entry: Order, now: datetime, new_id: NewId) -> list[Order]:
    """The exit legs ``request`` asks for beside ``entry`` (none for a simple order)."""
    cls = request.order_class
    if cls is OrderClass.SIMPLE:
        return []
    legs: list[Order] = []
    waiting = OrderStatus.HELD if cls is not OrderClass.OCO else entry.status
    side = entry.side if cls is OrderClass.OCO else entry.side.opposite
    base = Order(
        id="",
        account_id=entry.account_id,
        client_order_id="",
        symbol=entry.symbol,
        asset_class=entry.asset_class,
        side=side,
        type=OrderType.LIMIT,
        time_in_force=entry.time_in_force,
        qty=entry.qty,
        created_at=now,
        updated_at=now,
        order_class=cls,
        status=waiting,
        expires_at=entry.expires_at,
        parent_id=entry.id,
    )
    tp, sl = request.take_profit, request.stop_loss
    if tp is not None and cls is not OrderClass.OCO:
        leg_id = new_id()
        legs.append(
            base.changed(
                id=leg_id,
                client_order_id=leg_id,
                limit_price=tp.limit_price,
                leg_role=LegRole.TAKE_PROFIT,
            )
        )
    if sl is not None:
        leg_id = new_id()
        legs.append(
            base.changed(
                id=leg_id,
                client_order_id=leg_id,
                type=OrderType.STOP if sl.limit_price is None else OrderType.STOP_LIMIT,
                stop_price=sl.stop_price,
                limit_price=sl.limit_price,
                leg_role=LegRole.STOP_LOSS,
            )
        )
    return legs
