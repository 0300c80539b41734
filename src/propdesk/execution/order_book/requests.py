"""What a client asks of the book (new orders, replacements) and what the market feeds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from propdesk.execution.matching import Trigger
from propdesk.model.fills import Fill
from propdesk.model.instruments import AssetClass, Instrument
from propdesk.model.market import Bar, Quote
from propdesk.model.orders import Order, OrderClass, OrderType, OrderUpdate, Side, TimeInForce

ResolveInstrument = Callable[[str, AssetClass | None], Instrument]
NewId = Callable[[], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class TakeProfit:
    limit_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class StopLoss:
    stop_price: Decimal
    limit_price: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """A new order as a client asks for it (Alpaca's fields)."""

    client_order_id: str
    symbol: str
    side: Side
    type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    qty: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    order_class: OrderClass = OrderClass.SIMPLE
    take_profit: TakeProfit | None = None
    stop_loss: StopLoss | None = None
    asset_class: AssetClass | None = None
    extended_hours: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceRequest:
    """Alpaca's PATCH fields; None keeps the old value."""

    qty: Decimal | None = None
    time_in_force: TimeInForce | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail: Decimal | None = None
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class SessionView:
    """What the instrument's calendar says at a moment; ``None`` times mean it trades around the clock.

    ``close`` is the close a DAY order placed now lives until (the current session's, else the
    next one's); ``next_open`` the first open strictly after now.
    """

    is_open: bool
    close: datetime | None = None
    next_open: datetime | None = None

    @classmethod
    def always_open(cls) -> SessionView:
        return cls(True)


@dataclass(frozen=True, slots=True)
class Tick:
    """One market event for one symbol, fed to resting orders in time order.

    A quote or a bar, or a session close (``closes_session``) that carries the session's last
    quote or bar, for CLS orders and DAY expiry. ``in_session`` says whether the event happened
    while the symbol's market was open (orders on session-bound instruments ignore other ticks).
    """

    symbol: str
    at: datetime
    quote: Quote | None = None
    bar: Bar | None = None
    closes_session: bool = False
    # The session opens: orders accepted while the market was closed start to work (``new``).
    opens_session: bool = False
    in_session: bool = True
    # When the event began: a bar's start (a daily bar's session open); ``at`` is when it became
    # known (a bar's end). Orders only see events that began after they were placed.
    starts: datetime | None = None

    @property
    def begins(self) -> datetime:
        return self.starts or self.at


@dataclass(frozen=True, slots=True)
class Update:
    """A trade update to publish (Alpaca ``trade_updates``): the order after the change."""

    event: OrderUpdate
    order: Order
    at: datetime
    fill: Fill | None = None


def trigger_of(request: OrderRequest) -> Trigger:
    """The matching trigger ``request`` describes (raises ValueError for an impossible one)."""
    return Trigger(
        side=request.side,
        type=request.type,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        trail_price=request.trail_price,
        trail_percent=request.trail_percent,
    )


def request_of(order: Order) -> OrderRequest:
    """``order`` as the request that would place it again (what a replacement is checked as)."""
    return OrderRequest(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        time_in_force=order.time_in_force,
        qty=order.qty,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        trail_price=order.trail_price,
        trail_percent=order.trail_percent,
        asset_class=order.asset_class,
    )
