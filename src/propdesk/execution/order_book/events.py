"""What a market event does to resting orders: the session opens (accepted orders go ``new``), a
quote or bar may fill them, DAY/OPG/CLS orders expire, and the close fills CLS orders.

(Whether a price reaches an order is :mod:`propdesk.execution.matching`; how much fills and at
what price is :mod:`.fills`.)
"""

from __future__ import annotations

from datetime import datetime

from propdesk.accounting.state import AccountStatus
from propdesk.execution.order_book.expiry import expired_by
from propdesk.execution.order_book.fills import BookFills
from propdesk.execution.order_book.requests import Tick
from propdesk.model.instruments import AssetClass
from propdesk.model.market import Bar
from propdesk.model.orders import Order, OrderClass, OrderStatus, OrderUpdate, TimeInForce

TRADES_AROUND_THE_CLOCK = frozenset({AssetClass.CRYPTO})


class BookEvents(BookFills):
    """The book's reaction to market events, oldest order first."""

    def on_tick(self, tick: Tick) -> None:
        """Evaluate every open order on ``tick.symbol`` against it, oldest first."""
        self._activated_now = set()
        for order in self.open_orders(tick.symbol):
            current = self.orders[order.id]
            if not current.is_open or current.id in self._activated_now:
                continue
            if current.status is OrderStatus.HELD or current.order_class is OrderClass.MLEG:
                continue
            self._on_tick(current, tick)

    def _on_tick(self, order: Order, tick: Tick) -> None:
        at = tick.at
        begins = tick.begins
        if order.created_at > begins:
            return
        if tick.opens_session:
            if order.status is OrderStatus.ACCEPTED and order.asset_class not in TRADES_AROUND_THE_CLOCK:
                self._start(order, at)
            return
        if tick.closes_session:
            self._at_close(order, tick)
            return
        if expired_by(order, begins):
            assert order.expires_at is not None
            self._end(
                order, OrderStatus.EXPIRED, order.expires_at, f"{order.time_in_force.value} order expired"
            )
            return
        if order.asset_class not in TRADES_AROUND_THE_CLOCK and not tick.in_session:
            return
        if order.status is OrderStatus.ACCEPTED and (
            order.active_from is None or begins >= order.active_from
        ):
            # No open event was fed (a replay of bars, a direct caller): the session's first event
            # starts the order, stamped when that event began.
            order = self._start(order, max(begins, order.created_at))
        if self.state.status is not AccountStatus.ACTIVE:
            return  # a paused or locked account's orders wait; they still expire
        tif = order.time_in_force
        if tif is TimeInForce.CLS:
            return
        if tif is TimeInForce.OPG:
            if order.active_from is not None and begins < order.active_from:
                return
            if tick.bar is not None:
                self._evaluate_bar(order, tick.bar, at, opening_only=True)
            elif tick.quote is not None:
                self._evaluate_quote(order, tick.quote, at)
            left = self.orders[order.id]
            if left.is_open:
                self._end(left, OrderStatus.EXPIRED, at, "opg order not filled at the open")
            return
        if tick.bar is not None:
            self._evaluate_bar(order, tick.bar, at)
        elif tick.quote is not None:
            self._evaluate_quote(order, tick.quote, at)

    def _start(self, order: Order, at: datetime) -> Order:
        """An order accepted while the market was closed goes live at the open (Alpaca: ``new``)."""
        return self._put(order.changed(status=OrderStatus.NEW, updated_at=at), OrderUpdate.NEW)

    def _at_close(self, order: Order, tick: Tick) -> None:
        if order.expires_at is None or tick.at < order.expires_at:
            return
        if order.time_in_force is TimeInForce.CLS and self.state.status is AccountStatus.ACTIVE:
            if tick.bar is not None:
                last = tick.bar
                closing = Bar(
                    last.symbol,
                    last.timeframe,
                    last.start,
                    last.close,
                    last.close,
                    last.close,
                    last.close,
                    last.volume,
                )
                self._evaluate_bar(order, closing, tick.at)
            elif tick.quote is not None:
                self._evaluate_quote(order, tick.quote, tick.at)
        current = self.orders[order.id]
        if current.is_open:
            self._end(
                current,
                OrderStatus.EXPIRED,
                current.expires_at or tick.at,
                f"{current.time_in_force.value} order expired",
            )
