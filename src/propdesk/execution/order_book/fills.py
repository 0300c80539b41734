"""Filling an order: the quantity and price a quote or bar gives, and booking the fill through the
account kernel (a fill that would overdraw buying power cancels the order instead)."""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal

from propdesk.accounting.events import Event
from propdesk.accounting.kernel import ApplyFill, Command, ReleaseReservation, handle
from propdesk.execution.fees import fee_model_for
from propdesk.execution.fill_models import fill_model_for
from propdesk.execution.matching import Trigger, match_bar, match_quote
from propdesk.execution.order_book.core import BookCore
from propdesk.execution.order_book.legs import children, siblings
from propdesk.execution.partial_fills import AlpacaParity, VolumeShare
from propdesk.execution.reservations import release_for_fill
from propdesk.model.fills import Fill
from propdesk.model.instruments import Instrument
from propdesk.model.market import Bar, Quote
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Order, OrderStatus, OrderType, OrderUpdate, Side, TimeInForce
from propdesk.model.policy import FillModelName


def trigger_for(order: Order) -> Trigger:
    if order.triggered and order.type in (OrderType.STOP, OrderType.TRAILING_STOP):
        # A stop that has triggered is a market order for what is still open (after a partial
        # fill): it no longer waits for its stop, which a later bar or quote may not reach again.
        return Trigger(side=order.side, type=OrderType.MARKET, watermark=order.watermark, triggered=True)
    return Trigger(
        side=order.side,
        type=order.type,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        trail_price=order.trail_price,
        trail_percent=order.trail_percent,
        watermark=order.watermark,
        triggered=order.triggered,
    )


def adds_exposure(before: Decimal, after: Decimal) -> bool:
    return abs(after) > abs(before) or (before * after < 0)


def seeded(order: Order) -> random.Random:
    """The RNG of one evaluation of ``order``: a replay draws the same numbers."""
    return random.Random(f"{order.id}:{order.evaluations}")


def within_limit(order: Order, price: Decimal) -> Decimal:
    """A limit (or stop-limit) order never fills worse than its limit, whatever a fill model's
    slippage or a volume share's impact says."""
    if order.type not in (OrderType.LIMIT, OrderType.STOP_LIMIT) or order.limit_price is None:
        return price
    return min(price, order.limit_price) if order.side is Side.BUY else max(price, order.limit_price)


class BookFills(BookCore):
    """The book's fill path: evaluate an order against a quote or a bar and book what fills."""

    def _evaluate_quote(self, order: Order, quote: Quote, at: datetime) -> None:
        match = match_quote(trigger_for(order), quote)
        order = self._after_match(order, match.trigger)
        if match.price is None:
            return
        instrument = self._instrument(order)
        shown = quote.ask_size if order.side is Side.BUY else quote.bid_size
        qty = self._fill_qty(order, instrument, shown)
        if qty <= 0:
            return
        priced = fill_model_for(self.policy).price(order.side, qty, quote, instrument)
        price = priced.price
        price = within_limit(order, price)
        fee = fee_model_for(self.policy, instrument).fee(qty, price, instrument)
        fill = Fill(
            fill_id=self.new_id(),
            order_id=order.id,
            instrument=instrument.spec,
            side=order.side,
            qty=qty,
            price=price,
            fee=fee,
            time=at,
            bid=quote.bid,
            ask=quote.ask,
            mark=quote.mark,
            slippage=order.side.sign * (price - quote.mark),
        )
        self._book_fill(order, fill)

    def _evaluate_bar(self, order: Order, bar: Bar, at: datetime, *, opening_only: bool = False) -> None:
        if opening_only:
            bar = Bar(
                bar.symbol, bar.timeframe, bar.start, bar.open, bar.open, bar.open, bar.open, bar.volume
            )
        match = match_bar(trigger_for(order), bar)
        order = self._after_match(order, match.trigger)
        if match.price is None:
            return
        instrument = self._instrument(order)
        qty = self._fill_qty(order, instrument, bar.volume)
        if qty <= 0:
            return
        price = match.price
        if self.policy.fill_model is FillModelName.VOLUME_SHARE and bar.volume > 0:
            share = VolumeShare(self.policy.participation_rate, self.policy.impact_bps)
            price = share.price(order.side, qty, bar.volume, price, instrument)
            price = within_limit(order, price)
        fee = fee_model_for(self.policy, instrument).fee(qty, price, instrument)
        # A bar has no quote: the evidence is the price the gap rules matched (the mark here).
        fill = Fill(
            fill_id=self.new_id(),
            order_id=order.id,
            instrument=instrument.spec,
            side=order.side,
            qty=qty,
            price=price,
            fee=fee,
            time=at,
            mark=match.price,
            slippage=order.side.sign * (price - match.price),
        )
        self._book_fill(order, fill)

    def _after_match(self, order: Order, trigger: Trigger) -> Order:
        order = order.changed(
            watermark=trigger.watermark, triggered=trigger.triggered, evaluations=order.evaluations + 1
        )
        self.orders[order.id] = order
        self.changed[order.id] = order
        return order

    def _fill_qty(self, order: Order, instrument: Instrument, available: Decimal) -> Decimal:
        remaining = order.remaining
        model = self.policy.fill_model
        if model is FillModelName.VOLUME_SHARE and available > 0:
            return VolumeShare(self.policy.participation_rate, self.policy.impact_bps).quantity(
                remaining, available, instrument
            )
        if model is FillModelName.ALPACA_PARITY and order.time_in_force is not TimeInForce.FOK:
            parity = AlpacaParity(self.policy.partial_fill_probability)
            return parity.quantity(remaining, instrument, seeded(order))
        return remaining

    def _fills_completely(self, order: Order, quote: Quote) -> bool:
        if match_quote(trigger_for(order), quote).price is None:
            return False
        shown = quote.ask_size if order.side is Side.BUY else quote.bid_size
        if self.policy.fill_model is FillModelName.VOLUME_SHARE and shown > 0:
            instrument = self._instrument(order)
            share = VolumeShare(self.policy.participation_rate, self.policy.impact_bps)
            return share.quantity(order.remaining, shown, instrument) == order.remaining
        return True

    def _book_fill(self, order: Order, fill: Fill) -> None:
        """Apply ``fill`` through the kernel unless it would overdraw buying power (then cancel)."""
        before = self.state.positions.get(order.symbol)
        release = release_for_fill(order.reserved, order.remaining, fill.qty) if order.reserved > 0 else ZERO
        commands: list[Command] = []
        if release > 0:
            commands.append(
                ReleaseReservation(at=fill.time, order_id=order.id, reason="fill", amount=release)
            )
        commands.append(ApplyFill(at=fill.time, fill=fill))
        trial = self.state
        events: list[Event] = []
        for command in commands:
            decision = handle(trial, command)
            trial, events = decision.state, events + decision.events
        after = trial.positions.get(order.symbol)
        adds = adds_exposure(before.qty if before else ZERO, after.qty if after else ZERO)
        if adds and trial.available_capital < 0:
            self._end(order, OrderStatus.CANCELED, fill.time, "insufficient buying power at fill time")
            return
        self.state = trial
        self.events.extend(events)
        self.fills.append(fill)
        filled = order.with_fill(fill.qty, fill.price, fill.time).changed(reserved=order.reserved - release)
        event = OrderUpdate.FILL if filled.status is OrderStatus.FILLED else OrderUpdate.PARTIAL_FILL
        self._put(filled, event, fill)
        self._after_fill(filled, fill.time)

    def _after_fill(self, order: Order, at: datetime) -> None:
        if order.status is OrderStatus.FILLED and order.reserved > 0:
            self._put(self._release(order, at, "filled"))
        for sibling in siblings(self.orders, order):
            if not sibling.is_open:
                continue
            left = order.remaining
            if left <= 0:
                self._end(sibling, OrderStatus.CANCELED, at, f"other leg {order.id} filled")
            else:
                self._put(sibling.changed(qty=sibling.filled_qty + left, updated_at=at))
        if order.status is OrderStatus.FILLED and order.parent_id is None:
            for child in children(self.orders, order):
                if child.status is OrderStatus.HELD:
                    self._activate(child, order.filled_qty, at)

    def _fill_now(
        self, order: Order, instrument: Instrument, price: Decimal, quote: Quote | None, now: datetime
    ) -> None:
        """Fill all of ``order`` at ``price`` now, through the same booking as any fill (buying
        power at fill time included)."""
        fee = fee_model_for(self.policy, instrument).fee(order.remaining, price, instrument)
        mark = quote.mark if quote is not None else price
        fill = Fill(
            fill_id=self.new_id(),
            order_id=order.id,
            instrument=instrument.spec,
            side=order.side,
            qty=order.remaining,
            price=price,
            fee=fee,
            time=now,
            bid=None if quote is None else quote.bid,
            ask=None if quote is None else quote.ask,
            mark=mark,
            slippage=order.side.sign * (price - mark),
        )
        self._book_fill(self.orders[order.id], fill)
