"""An order as the order engine keeps it: what was asked, what has happened, what it still holds.

Orders are records beside the ledger, not ledger events: the money they move (reservations,
fills) goes through the account kernel, and the order carries the bookkeeping Alpaca clients
read (status, ``filled_qty``, ``filled_avg_price``, the timestamps) plus the engine's own state
(the trailing watermark, whether a stop has triggered, how many market events it has seen).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from propdesk.model.fills import Fill
from propdesk.model.instruments import AssetClass
from propdesk.model.numbers import ZERO
from propdesk.model.orders import LegRole, OrderClass, OrderStatus, OrderType, Side, TimeInForce


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """One order. ``qty`` is the total asked; ``reserved`` the buying power it still holds."""

    id: str
    account_id: str
    client_order_id: str
    symbol: str
    asset_class: AssetClass
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    qty: Decimal
    created_at: datetime
    updated_at: datetime
    order_class: OrderClass = OrderClass.SIMPLE
    status: OrderStatus = OrderStatus.NEW
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    watermark: Decimal | None = None
    triggered: bool = False
    filled_qty: Decimal = ZERO
    # Σ qty × price of the fills (exact); the average price is derived from it, never rounded.
    filled_value: Decimal = ZERO
    reserved: Decimal = ZERO
    # OPG orders wait for the session open; DAY orders sent outside a session wait for the next.
    active_from: datetime | None = None
    expires_at: datetime | None = None
    parent_id: str | None = None
    leg_role: LegRole | None = None
    ratio_qty: int | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    replaced_at: datetime | None = None
    failed_at: datetime | None = None
    reason: str | None = None
    evaluations: int = 0
    extended_hours: bool = False
    voided_at: datetime | None = None

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def filled_avg_price(self) -> Decimal | None:
        return self.filled_value / self.filled_qty if self.filled_qty else None

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def is_working(self) -> bool:
        """Open and not held back waiting for a parent (a bracket's exits before the entry fills)."""
        return self.status.is_open and self.status is not OrderStatus.HELD

    def with_fill(self, qty: Decimal, price: Decimal, at: datetime) -> Order:
        """The order after a fill of ``qty`` at ``price`` (the average price stays exact)."""
        if not 0 < qty <= self.remaining:
            raise ValueError(f"fill of {qty} exceeds what order {self.id} has open ({self.remaining})")
        filled = self.filled_qty + qty
        done = filled == self.qty
        return replace(
            self,
            filled_qty=filled,
            filled_value=self.filled_value + qty * price,
            status=OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
            filled_at=at if done else self.filled_at,
            updated_at=at,
        )

    def changed(self, **changes: Any) -> Order:
        return replace(self, **changes)


def filled_market_order(
    *,
    order_id: str,
    account_id: str,
    fill: Fill,
    time_in_force: TimeInForce,
    at: datetime,
    notional: Decimal | None = None,
) -> Order:
    """A market order that ``fill`` filled whole at ``at``: the order standing for a fill no order
    of the order engine placed (a decision action, a liquidation, a flatten)."""
    return Order(
        id=order_id,
        account_id=account_id,
        client_order_id=order_id,
        symbol=fill.symbol,
        asset_class=fill.instrument.asset_class,
        side=fill.side,
        type=OrderType.MARKET,
        time_in_force=time_in_force,
        status=OrderStatus.FILLED,
        qty=fill.qty,
        notional=notional,
        filled_qty=fill.qty,
        filled_value=fill.qty * fill.price,
        filled_at=at,
        created_at=at,
        updated_at=at,
    )
