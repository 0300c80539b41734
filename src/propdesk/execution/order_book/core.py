"""The book's state and bookkeeping: the account, its orders, and what one command collected.

:class:`BookCore` holds what an :class:`~propdesk.execution.order_book.book.OrderBook` works on
and the steps every path shares (run a kernel command, store a changed order, end an order with
what hangs on it). Fills (:mod:`.fills`), market events (:mod:`.events`) and the entry points
(:mod:`.book`) build on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Self

from propdesk.accounting.events import Event
from propdesk.accounting.kernel import Command, ReleaseReservation, handle
from propdesk.accounting.state import AccountState
from propdesk.execution.order_book.buying_power import opening_qty
from propdesk.execution.order_book.legs import children
from propdesk.execution.order_book.requests import NewId, ResolveInstrument, Update
from propdesk.model.fills import Fill
from propdesk.model.instruments import Instrument
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Order, OrderStatus, OrderUpdate
from propdesk.model.policy import ExecutionPolicy


@dataclass
class BookCore:
    """One account's orders inside one locked transaction (see the package docstring)."""

    state: AccountState
    policy: ExecutionPolicy
    resolve: ResolveInstrument
    new_id: NewId
    orders: dict[str, Order] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    changed: dict[str, Order] = field(default_factory=dict)
    # False while the server's kill switch for new exposure is on: exits and reductions still work.
    allow_new_exposure: bool = True
    # False where fills must be real (a prop-firm evaluation): pd-fill-/pd-reject- are refused.
    allow_forced_outcomes: bool = True
    _activated_now: set[str] = field(default_factory=set)

    @classmethod
    def of(
        cls,
        state: AccountState,
        policy: ExecutionPolicy,
        orders: Iterable[Order],
        *,
        resolve: ResolveInstrument,
        new_id: NewId,
    ) -> Self:
        return cls(state, policy, resolve, new_id, {o.id: o for o in orders})

    # --- bookkeeping ---------------------------------------------------------------------------

    def _run(self, command: Command) -> None:
        decision = handle(self.state, command)
        self.state = decision.state
        self.events.extend(decision.events)

    def _put(self, order: Order, event: OrderUpdate | None = None, fill: Fill | None = None) -> Order:
        self.orders[order.id] = order
        self.changed[order.id] = order
        if event is not None:
            self.updates.append(Update(event, order, order.updated_at, fill))
        return order

    def _instrument(self, order: Order) -> Instrument:
        return self.resolve(order.symbol, order.asset_class)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        found = [o for o in self.orders.values() if o.is_open and (symbol is None or o.symbol == symbol)]
        return sorted(found, key=lambda o: (o.created_at, o.id))

    def _release(self, order: Order, at: datetime, reason: str) -> Order:
        if order.reserved > 0:
            self._run(ReleaseReservation(at=at, order_id=order.id, reason=reason))
        return order.changed(reserved=ZERO)

    def _end(self, order: Order, status: OrderStatus, at: datetime, reason: str | None) -> Order:
        """Close ``order`` (canceled, expired, rejected, replaced), releasing what it holds."""
        order = self._release(order, at, status.value)
        stamp = {
            OrderStatus.CANCELED: "canceled_at",
            OrderStatus.EXPIRED: "expired_at",
            OrderStatus.REJECTED: "failed_at",
            OrderStatus.REPLACED: "replaced_at",
        }[status]
        event = {
            OrderStatus.CANCELED: OrderUpdate.CANCELED,
            OrderStatus.EXPIRED: OrderUpdate.EXPIRED,
            OrderStatus.REJECTED: OrderUpdate.REJECTED,
            OrderStatus.REPLACED: OrderUpdate.REPLACED,
        }[status]
        ended = order.changed(status=status, updated_at=at, reason=reason, **{stamp: at})
        self._put(ended, event)
        # Exits held for an entry that ends: they protect what it did fill, or go with it if nothing
        # filled (a replaced entry hands them on to its replacement). Exits whose own time in force
        # is over by then (a DAY entry expiring at the close) expire instead of starting to work.
        if status is not OrderStatus.REPLACED:
            for child in children(self.orders, ended):
                if child.status is not OrderStatus.HELD:
                    continue
                if ended.filled_qty > 0 and child.expires_at is not None and at >= child.expires_at:
                    self._end(child, OrderStatus.EXPIRED, at, f"{child.time_in_force.value} order expired")
                elif ended.filled_qty > 0:
                    self._activate(child, ended.filled_qty, at)
                else:
                    self._end(child, OrderStatus.CANCELED, at, f"parent order {status.value}")
        return ended

    def _opening_qty(self, order: Order) -> Decimal:
        """The part of ``order`` that opens or adds exposure (see :func:`.buying_power.opening_qty`)."""
        return opening_qty(self.state, self.open_orders(order.symbol), order)

    def _activate(self, leg: Order, qty: Decimal, at: datetime) -> None:
        """Release a held exit for ``qty``; it works from the next tick on, not the one that filled
        its entry."""
        active = leg.changed(status=OrderStatus.NEW, qty=qty, updated_at=at, active_from=at)
        self._activated_now.add(active.id)
        self._put(active, OrderUpdate.NEW)
