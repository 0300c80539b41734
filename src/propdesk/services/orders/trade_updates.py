"""Trade updates for a listener: the account's ``order_updates`` rows after a cursor, oldest first.

Every order change the engine reports is stored with the order as it was right after the change
(see :func:`propdesk.services.orders.commands.store_book`), in the transaction that made it, so a
listener that reads the rows in id order sees each account's updates exactly once and in the
order they happened (one account's changes are serialized by its lock, so ids and commits agree).
A listener starts at :func:`latest_id` (no history replay) and keeps its own cursor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from propdesk.model.ids import AccountId
from propdesk.model.orders import Order, OrderStatus, OrderUpdate
from propdesk.services.context import ServiceContext
from propdesk.store.order_updates import UpdateRow, order_from_json
from propdesk.store.uow import UnitOfWork

# execution ids of updates that are not fills: stable per stored row.
_EXECUTION_NAMESPACE = uuid.UUID("0f7c2a4e-5d1b-4c8e-9a3f-747261646575")


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    """One update as a stream sends it; ``qty``, ``price`` and ``position_qty`` only on fills."""

    id: int
    event: str
    execution_id: str
    order: Order
    at: datetime
    qty: Decimal | None
    price: Decimal | None
    position_qty: Decimal | None


def event_name(event: OrderUpdate, order: Order) -> str:
    """Alpaca's event name: an order taken while the market is closed is ``accepted``, not ``new``
    (it becomes ``new`` when the session opens)."""
    if event is OrderUpdate.NEW and order.status is OrderStatus.ACCEPTED:
        return "accepted"
    return event.value


def execution_id(row: UpdateRow) -> str:
    """The fill's id when it is a UUID (fills are the executions), else a UUID derived from the row."""
    if row.fill_id is not None:
        try:
            return str(uuid.UUID(row.fill_id))
        except ValueError:
            pass
    return str(uuid.uuid5(_EXECUTION_NAMESPACE, f"{row.account_id}:{row.id}"))


def of_row(row: UpdateRow) -> TradeUpdate:
    order = order_from_json(row.order)
    return TradeUpdate(
        id=row.id,
        event=event_name(row.event, order),
        execution_id=execution_id(row),
        order=order,
        at=row.at,
        qty=row.qty,
        price=row.price,
        position_qty=row.position_qty,
    )


def latest_id(ctx: ServiceContext, account_id: AccountId) -> int:
    """Where a listener that starts now begins: after the account's newest update."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return uow.orders.last_update_id(account_id)


def updates_after(
    ctx: ServiceContext, account_id: AccountId, after_id: int, *, limit: int = 500
) -> list[TradeUpdate]:
    """The account's updates with an id above ``after_id``, oldest first (one indexed query)."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        rows = uow.orders.updates_after(account_id, after_id, limit)
    return [of_row(row) for row in rows]
