"""Orders: their vocabulary (side, type, time in force, status, class; Alpaca's spelling), shared by
execution, accounting and the APIs, and :class:`Order`, an order as the order engine keeps it.

An order holds what was asked, what has happened and what it still holds. Orders are records
beside the ledger, not ledger events: the money they move (reservations, fills) goes through the
account kernel, and the order carries the bookkeeping Alpaca clients read (status,
``filled_qty``, ``filled_avg_price``, the timestamps) plus the engine's own state (the trailing
watermark, whether a stop has triggered, how many market events it has seen).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from propdesk.model.ids import AccountId
from propdesk.model.instruments import AssetClass
from propdesk.model.numbers import ZERO


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Direction(StrEnum):
    """Which way a position points; a policy can allow one or both."""

    LONG = "long"
    SHORT = "short"


class ActionKind(StrEnum):
    """What an AI decision (or a person) proposes to do with a symbol."""

    OPEN_LONG = "open_long"
    OPEN_SHORT = "open_short"
    INCREASE = "increase"
    REDUCE = "reduce"
    CLOSE = "close"
    HOLD = "hold"
    CANCEL = "cancel"

    @property
    def is_supported(self) -> bool:
        return self not in (ActionKind.HOLD, ActionKind.CANCEL)

    @property
    def adds_exposure(self) -> bool:
        return self in (ActionKind.OPEN_LONG, ActionKind.OPEN_SHORT, ActionKind.INCREASE)


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    OPG = "opg"
    CLS = "cls"


class OrderStatus(StrEnum):
    """Alpaca's order statuses (alpaca-py refuses any other value)."""

    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    DONE_FOR_DAY = "done_for_day"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    STOPPED = "stopped"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    CALCULATED = "calculated"
    HELD = "held"

    @property
    def is_open(self) -> bool:
        return self in _OPEN_STATUSES


_OPEN_STATUSES = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.ACCEPTED,
        OrderStatus.PENDING_NEW,
        OrderStatus.HELD,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
    }
)


class OrderClass(StrEnum):
    """Alpaca's order classes; ``simple`` is sent on the wire as ``""``."""

    SIMPLE = "simple"
    BRACKET = "bracket"
    OCO = "oco"
    OTO = "oto"
    MLEG = "mleg"


class LegRole(StrEnum):
    """What a child order does for its parent."""

    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    OPTION_LEG = "option_leg"


class OrderUpdate(StrEnum):
    """The trade update an order change publishes (Alpaca's ``trade_updates`` event names)."""

    NEW = "new"
    FILL = "fill"
    PARTIAL_FILL = "partial_fill"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """One order. ``qty`` is the total asked; ``reserved`` the buying power it still holds."""

    id: str
    account_id: AccountId
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
