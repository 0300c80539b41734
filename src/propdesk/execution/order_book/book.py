"""The :class:`OrderBook`: one account's orders and the entry points that change them (submit,
cancel, replace; ``on_tick`` comes from :mod:`.events`). See the package docstring for the rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from propdesk.accounting.kernel import CommandRejected, ReserveForOrder
from propdesk.execution.order_book.buying_power import reservation_for
from propdesk.execution.order_book.errors import OrderRejected
from propdesk.execution.order_book.events import BookEvents
from propdesk.execution.order_book.expiry import lifetime
from propdesk.execution.order_book.forced import FILL_PREFIX, REJECT_PREFIX, forced_outcome, forced_price
from propdesk.execution.order_book.legs import children, exit_legs
from propdesk.execution.order_book.requests import OrderRequest, ReplaceRequest, SessionView, request_of
from propdesk.execution.policy.codes import CheckCode
from propdesk.execution.policy.order_checks import (
    IMMEDIATE,
    check_account,
    check_exposure,
    check_not_expired,
    check_prices,
    check_request,
    quantity_of,
    refuse,
)
from propdesk.model.instruments import Instrument
from propdesk.model.market import Quote
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Order, OrderClass, OrderStatus, OrderUpdate, TimeInForce


class OrderBook(BookEvents):
    """One account's orders inside one locked transaction (see the package docstring)."""

    def submit(
        self,
        request: OrderRequest,
        *,
        quote: Quote | None,
        session: SessionView,
        now: datetime,
    ) -> Order:
        """Accept ``request`` (and its exit legs), reserve for it, and try it against ``quote``."""
        instrument = self.resolve(request.symbol, request.asset_class)
        outcome = forced_outcome(request.client_order_id)
        if outcome is not None and not self.allow_forced_outcomes:
            raise refuse(
                CheckCode.FORCED_OUTCOME_NOT_ALLOWED,
                f"client_order_id prefix {outcome} (deterministic outcome) is not allowed for this account "
                "(accounts under a rule pack, or PROPDESK_FORCED_OUTCOMES=false on this server)",
            )
        check_account(self.state)
        check_not_expired(self.state, instrument, now)
        check_request(self.policy, request, instrument, session, forced=outcome is not None)
        qty = quantity_of(request, instrument, quote)
        entry = self._new_order(request, instrument, qty, session, now)
        if outcome is not None:
            entry = entry.changed(status=OrderStatus.NEW)
        price = forced_price(entry, quote) if outcome == FILL_PREFIX else None
        legs = exit_legs(request, entry, now, self.new_id)
        self._check_exposure(entry, instrument, quote)
        entry = self._reserve(entry, instrument, quote, now)
        if outcome == REJECT_PREFIX:
            return self._reject_now(entry, legs, now)
        self._put(entry, OrderUpdate.NEW)
        for leg in legs:
            self._put(leg)
        if price is not None:
            self._fill_now(entry, instrument, price, quote, now)
        else:
            self._try_now(entry, quote, session, now)
        return self.orders[entry.id]

    def _reject_now(self, entry: Order, legs: list[Order], now: datetime) -> Order:
        """A ``pd-reject-`` order: rejected at once, its exits with it, its reservation released."""
        reason = f"rejected on request (client_order_id prefix {REJECT_PREFIX})"
        self._put(entry)
        for leg in legs:
            self._put(leg)
            self._end(leg, OrderStatus.REJECTED, now, reason)
        return self._end(self.orders[entry.id], OrderStatus.REJECTED, now, reason)

    def _new_order(
        self, request: OrderRequest, instrument: Instrument, qty: Decimal, session: SessionView, now: datetime
    ) -> Order:
        tif = request.time_in_force
        active_from, expires_at = lifetime(tif, session)
        status = OrderStatus.NEW if session.is_open else OrderStatus.ACCEPTED
        return Order(
            id=self.new_id(),
            account_id=self.state.account_id,
            client_order_id=request.client_order_id,
            symbol=instrument.symbol,
            asset_class=instrument.asset_class,
            side=request.side,
            type=request.type,
            time_in_force=tif,
            qty=qty,
            notional=request.notional,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            trail_price=request.trail_price,
            trail_percent=request.trail_percent,
            order_class=request.order_class,
            status=status,
            created_at=now,
            updated_at=now,
            active_from=active_from,
            expires_at=expires_at,
            extended_hours=request.extended_hours,
        )

    def _check_exposure(self, order: Order, instrument: Instrument, quote: Quote | None) -> None:
        check_exposure(
            self.state,
            self.policy,
            self.orders.values(),
            order,
            instrument,
            quote,
            opening=self._opening_qty(order),
            allow_new_exposure=self.allow_new_exposure,
        )

    def _reserve(self, order: Order, instrument: Instrument, quote: Quote | None, now: datetime) -> Order:
        """Reserve buying power for the part of ``order`` that adds exposure."""
        amount = reservation_for(
            self.state, self.policy, order, instrument, quote, now, opening=self._opening_qty(order)
        )
        if amount <= 0:
            return order
        try:
            self._run(ReserveForOrder(at=now, order_id=order.id, amount=amount))
        except CommandRejected as exc:
            raise OrderRejected(exc.code, exc.message, "forbidden") from None
        return order.changed(reserved=amount)

    def _try_now(self, order: Order, quote: Quote | None, session: SessionView, now: datetime) -> None:
        fresh = quote is not None and quote.age(now).total_seconds() <= self.policy.max_quote_age_seconds
        tradable = session.is_open and order.time_in_force not in (TimeInForce.OPG, TimeInForce.CLS)
        if fresh and tradable and quote is not None:
            if order.time_in_force is TimeInForce.FOK and not self._fills_completely(order, quote):
                self._end(order, OrderStatus.CANCELED, now, "fok: the whole quantity is not available")
                return
            self._evaluate_quote(order, quote, now)
        current = self.orders[order.id]
        if current.time_in_force in IMMEDIATE and current.is_open:
            self._end(
                current, OrderStatus.CANCELED, now, f"{current.time_in_force.value}: unfilled remainder"
            )

    # --- cancel and replace -----------------------------------------------------------------------

    def _open_order(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise OrderRejected("order_not_found", f"order {order_id} not found", "not_found")
        if not order.is_open:
            raise OrderRejected(
                "order_not_open",
                f"order {order_id} is {order.status.value} and cannot be changed",
                "conflict",
            )
        return order

    def _whole_order(self, order_id: str, verb: str) -> Order:
        """An open order a client may cancel or replace: not one leg of a multi-leg order, which
        is all or none and is canceled or replaced only through its parent."""
        order = self._open_order(order_id)
        if order.order_class is OrderClass.MLEG and order.parent_id is not None:
            raise OrderRejected(
                "leg_of_multileg",
                f"order {order_id} is a leg of multi-leg order {order.parent_id}, which is all or none: "
                f"{verb} the parent order instead",
                parent_id=order.parent_id,
            )
        return order

    def cancel(self, order_id: str, *, now: datetime, reason: str = "canceled by the client") -> Order:
        """End an open order and what hangs on it (a multi-leg order's legs, held exits); one leg
        of a multi-leg order is refused (``leg_of_multileg``)."""
        order = self._whole_order(order_id, "cancel")
        return self._end(order, OrderStatus.CANCELED, now, reason)

    def replace(
        self,
        order_id: str,
        change: ReplaceRequest,
        *,
        quote: Quote | None,
        session: SessionView,
        now: datetime,
    ) -> Order:
        """A new order that ``replaces`` the old one; the old goes ``replaced``. The new order asks
        for ``qty`` in total minus nothing: what the old one filled stays with the old one.

        The replacement is checked as a new order would be (prices; time in force when it changes;
        for an order that is not an exit leg, the exposure rules and its reservation); a refusal
        leaves the book as it was."""
        old = self._whole_order(order_id, "replace")
        if old.order_class is OrderClass.MLEG:
            raise OrderRejected(
                "invalid_replace", "a multi-leg order is replaced with its legs' quotes (replace_spread)"
            )
        qty = change.qty if change.qty is not None else old.remaining
        if qty <= 0 or not self._instrument(old).is_valid_qty(qty):
            raise OrderRejected("invalid_quantity", f"qty {qty} is not a valid quantity")
        trail = change.trail
        tif = change.time_in_force or old.time_in_force
        active_from, expires_at = (
            (old.active_from, old.expires_at) if tif is old.time_in_force else lifetime(tif, session)
        )
        new = old.changed(
            id=self.new_id(),
            client_order_id=change.client_order_id or self.new_id(),
            qty=qty,
            filled_qty=ZERO,
            filled_value=ZERO,
            reserved=ZERO,
            time_in_force=tif,
            active_from=active_from,
            expires_at=expires_at,
            limit_price=change.limit_price if change.limit_price is not None else old.limit_price,
            stop_price=change.stop_price if change.stop_price is not None else old.stop_price,
            trail_price=trail if trail is not None and old.trail_price is not None else old.trail_price,
            trail_percent=trail if trail is not None and old.trail_percent is not None else old.trail_percent,
            status=OrderStatus.NEW if session.is_open else OrderStatus.ACCEPTED,
            replaces=old.id,
            created_at=now,
            updated_at=now,
            filled_at=None,
            reason=None,
            evaluations=0,
        )
        if old.status is OrderStatus.HELD:
            new = new.changed(status=OrderStatus.HELD)
        instrument = self._instrument(new)
        check_not_expired(self.state, instrument, now)
        request = request_of(new)
        check_prices(request, instrument)
        if tif is not old.time_in_force:
            if old.parent_id is not None:
                raise OrderRejected(
                    "invalid_time_in_force",
                    "an exit leg keeps its entry's time in force",
                    field="time_in_force",
                )
            check_request(self.policy, request, instrument, session)
            if new.order_class is not OrderClass.SIMPLE and tif not in (TimeInForce.DAY, TimeInForce.GTC):
                raise OrderRejected(
                    "invalid_time_in_force", f"{new.order_class.value} orders take day or gtc"
                )
        saved = (self.state, dict(self.orders), dict(self.changed), len(self.events), len(self.updates))
        try:
            self._end(old.changed(replaced_by=new.id), OrderStatus.REPLACED, now, f"replaced by {new.id}")
            for child in children(self.orders, old):
                self._put(child.changed(parent_id=new.id, time_in_force=tif, expires_at=new.expires_at))
            # Exit legs reserve nothing and pass no exposure check, as when they were placed.
            if new.parent_id is None:
                self._check_exposure(new, instrument, quote)
                new = self._reserve(new, instrument, quote, now)
        except OrderRejected:
            self.state, self.orders, self.changed = saved[0], saved[1], saved[2]
            del self.events[saved[3] :]
            del self.updates[saved[4] :]
            raise
        self._put(new, OrderUpdate.NEW)
        if new.status is not OrderStatus.HELD:
            self._try_now(new, quote, session, now)
        return self.orders[new.id]
