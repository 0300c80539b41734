"""Trade updates (``order_updates``): the one row shape every door writes, and its reads.

Also the stand-in order of a fill no order placed (a liquidation, a flatten), whose trade update
and activity name the same order id.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from propdesk.model.codec import from_json, to_json
from propdesk.model.fills import Fill, filled_market_order
from propdesk.model.ids import AccountId
from propdesk.model.orders import Order, OrderUpdate, TimeInForce


@dataclass(frozen=True, slots=True)
class UpdateRow:
    """A stored trade update."""

    id: int
    account_id: str
    order_id: str
    event: OrderUpdate
    at: datetime
    fill_id: str | None
    qty: Decimal | None
    price: Decimal | None
    position_qty: Decimal | None
    order: Mapping[str, Any]


# Orders standing for fills of no order (a liquidation, a flatten): ids derived from the fill's id, so
# the trade update and the activity of one such fill name the same order.
# Ids derived from stored rows (activities, the stand-in order of an order-less fill) share it.
DERIVED_ID_NAMESPACE = uuid.UUID("0b7f3c52-6a1e-4f7e-9c1d-616374697669")


def order_id_of_fill(fill_id: str) -> str:
    """The id of the order that stands for a fill placed by no order (stable per fill)."""
    return str(uuid.uuid5(DERIVED_ID_NAMESPACE, f"order-of:{fill_id}"))


def order_of_fill(account_id: str, fill: Fill) -> Order:
    """A filled market order standing for ``fill`` when no order placed it (liquidation, flatten)."""
    order_id = order_id_of_fill(fill.fill_id)
    return filled_market_order(
        order_id=order_id,
        account_id=AccountId(account_id),
        fill=fill,
        time_in_force=TimeInForce.DAY,
        at=fill.time,
    )


def update_row(
    account_id: str,
    event: OrderUpdate,
    order: Order,
    at: datetime,
    fill: Fill | None = None,
    position_qty: Decimal | None = None,
) -> dict[str, Any]:
    """One ``order_updates`` row (the one shape every door writes): ``order`` as it is after the change."""
    return {
        "account_id": account_id,
        "order_id": order.id,
        "event": event.value,
        "at": at,
        "fill_id": None if fill is None else fill.fill_id,
        "qty": None if fill is None else fill.qty,
        "price": None if fill is None else fill.price,
        "position_qty": None if fill is None else position_qty,
        "order": order_json(order),
    }


def order_json(order: Order) -> dict[str, Any]:
    """An order snapshot for a trade update row (decimals as strings)."""
    data: dict[str, Any] = to_json(order)
    data["filled_avg_price"] = None if order.filled_avg_price is None else str(order.filled_avg_price)
    return data


def order_from_json(data: Mapping[str, Any]) -> Order:
    """The order a trade update row stored (the inverse of :func:`order_json`)."""
    order: Order = from_json(Order, dict(data))
    return order
