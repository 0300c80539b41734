"""The paper broker: one account's orders, from acceptance through fills to their end. Pure.

An :class:`OrderBook` is the working set of one command on one account: the account state loaded
under its lock and the account's open orders. Its methods (``submit``, ``cancel``, ``replace``,
``on_tick``) change the orders and run every money movement through the account kernel, so the
caller only has to store what the book collected (``events``, ``fills``, ``changed`` orders and the
trade ``updates``) in the same transaction.

The rules, where Alpaca's paper engine is the reference:

* **Acceptance.** An order that adds exposure reserves buying power (``reservations``); exits that
  only reduce a position reserve nothing. The account must be active, the asset class and symbol
  allowed, opening a short allowed by the policy and by the asset (shortable, easy to borrow unless
  the policy allows hard-to-borrow), the open-order count within the policy.
* **Sessions.** Equities, options and futures trade only inside their calendar's session; crypto
  around the clock (crypto takes ``gtc`` and ``ioc`` only). An order sent outside the session is
  ``accepted`` and waits for the open; IOC and FOK are refused outside the session. At the open
  (a session-open tick, or else the first in-session tick) an accepted order becomes ``new``
  (a ``new`` update) and is evaluated from the first event of the session on, never against a
  quote from outside it.
* **Deterministic outcomes** (for testing trade updates outside market hours, as Alpaca users ask
  in alpacahq/Alpaca-API#173): a ``client_order_id`` starting ``pd-fill-`` fills the whole order
  at once whatever the session (a limit or stop-limit at its limit price; a market, stop or
  trailing stop at the latest quote's far side, else at its stop price); ``pd-reject-`` rejects
  it at once. Both pass every acceptance check first and go through the normal reservation,
  fill and update paths. A book that must see real fills only (``allow_forced_outcomes``
  False: a prop-firm evaluation) refuses them.
* **Immediate execution.** At acceptance an order is tried against the latest quote if it is fresh
  (``max_quote_age_seconds``) and the session is open. IOC fills what it can and cancels the rest;
  FOK fills everything at once or nothing (canceled).
* **Resting orders** are evaluated on each :class:`Tick` in time order (:mod:`.matching` says
  whether and at what price); how much fills per tick is the policy's fill model
  (``volume_share`` caps it at a participation of the bar volume or displayed size,
  ``alpaca_parity`` makes 10% of fills partial with a RNG seeded by the order id and its
  evaluation count, so a replay draws the same numbers). A fill never exceeds what is open; a
  stop or trailing stop that has triggered fills what is left like a market order.
* **Time in force.** DAY orders expire at the session close (early closes included, from the
  calendar); GTC persist; OPG orders fill on the first tick at or after the open or expire; CLS
  orders fill at the last price of the session on the close tick or expire.
* **Buying power.** A fill releases its share of the reservation (``release_for_fill``); a fill that
  adds exposure and would leave available capital below zero, or an option position with unbounded
  risk, is not made: the order is canceled with the reason.
* **Classes.** Bracket: an entry plus a take-profit limit and a stop-loss, the exits ``held`` until
  the entry has filled completely (an entry that ends part-filled releases them for what it filled,
  unless their own DAY has ended too; one that ends unfilled cancels them). OTO: an entry plus one
  exit. OCO: two exits, a limit (the order itself) and a stop (its leg); a fill of either shrinks
  the other to what is still open (so together they never close more than asked) and cancels it
  when nothing is left.
* **Replace** makes a new order (``replaces`` / ``replaced_by``) checked as a new one would be: its
  prices, its time in force when that changes (and its expiry with it), and, unless it is an exit
  leg, the exposure rules and a fresh reservation. A refused replace leaves the book unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from propdesk.accounting.events import Event
from propdesk.accounting.kernel import (
    ApplyFill,
    Command,
    CommandRejected,
    ReleaseReservation,
    ReserveForOrder,
    handle,
)
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.execution.fees import fee_model_for
from propdesk.execution.fill_models import fill_model_for
from propdesk.execution.matching import Trigger, match_bar, match_quote
from propdesk.execution.partial_fills import AlpacaParity, VolumeShare
from propdesk.execution.reservations import release_for_fill, reservation_amount, reservation_price
from propdesk.model.fills import Fill
from propdesk.model.instruments import AssetClass, Equity, Instrument, Option, expired_contract_problem
from propdesk.model.market import Bar, Quote
from propdesk.model.numbers import ONE, ZERO
from propdesk.model.orders import (
    Direction,
    LegRole,
    Order,
    OrderClass,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
)
from propdesk.model.policy import ExecutionPolicy, FillModelName

ResolveInstrument = Callable[[str, AssetClass | None], Instrument]
NewId = Callable[[], str]


class OrderRejected(Exception):
    """An order (or a cancel or replace) that may not happen; nothing changed.

    ``code`` is stable; ``kind`` says how an API should answer: ``invalid`` (422: the request is
    wrong), ``forbidden`` (403: the account may not, e.g. buying power), ``not_found`` (404),
    ``conflict`` (422 on Alpaca's surface: e.g. the order is no longer open).
    """

    def __init__(self, code: str, message: str, kind: str = "invalid", **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind = kind
        self.details = details


# --- requests ----------------------------------------------------------------------------------


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


# --- the book ------------------------------------------------------------------------------------


def _trigger(order: Order) -> Trigger:
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


def _adds_exposure(before: Decimal, after: Decimal) -> bool:
    return abs(after) > abs(before) or (before * after < 0)


TRADES_AROUND_THE_CLOCK = frozenset({AssetClass.CRYPTO})
# client_order_id prefixes that decide an order's outcome at once (see the module docstring).
FILL_PREFIX = "pd-fill-"
REJECT_PREFIX = "pd-reject-"
CRYPTO_TIME_IN_FORCE = frozenset({TimeInForce.GTC, TimeInForce.IOC})
IMMEDIATE = frozenset({TimeInForce.IOC, TimeInForce.FOK})


@dataclass
class OrderBook:
    """One account's orders inside one locked transaction (see the module docstring)."""

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
    ) -> OrderBook:
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
            for child in self._children(ended):
                if child.status is not OrderStatus.HELD:
                    continue
                if ended.filled_qty > 0 and child.expires_at is not None and at >= child.expires_at:
                    self._end(child, OrderStatus.EXPIRED, at, f"{child.time_in_force.value} order expired")
                elif ended.filled_qty > 0:
                    self._activate(child, ended.filled_qty, at)
                else:
                    self._end(child, OrderStatus.CANCELED, at, f"parent order {status.value}")
        return ended

    def _children(self, order: Order) -> list[Order]:
        return sorted(
            (o for o in self.orders.values() if o.parent_id == order.id), key=lambda o: (o.created_at, o.id)
        )

    def _siblings(self, order: Order) -> list[Order]:
        """The other exit of an OCO pair (bracket exits, or an OCO order's two legs)."""
        if order.parent_id is None:
            # An OCO order is itself the limit leg: its sibling is its stop leg.
            return self._children(order) if order.order_class is OrderClass.OCO else []
        parent = self.orders.get(order.parent_id)
        family = [o for o in self.orders.values() if o.parent_id == order.parent_id and o.id != order.id]
        if parent is not None and parent.order_class is OrderClass.OCO:
            family.append(parent)
        return family if parent is None or parent.order_class in (OrderClass.BRACKET, OrderClass.OCO) else []

    # --- acceptance ------------------------------------------------------------------------------

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
            raise OrderRejected(
                "forced_outcome_not_allowed",
                f"client_order_id prefix {outcome} (deterministic outcome) is not allowed for this account "
                "(accounts under a rule pack, or PROPDESK_FORCED_OUTCOMES=false on this server)",
                "forbidden",
            )
        self._check_account()
        self._check_not_expired(instrument, now)
        self._check_request(request, instrument, session, forced=outcome is not None)
        qty = self._quantity_of(request, instrument, quote)
        entry = self._new_order(request, instrument, qty, session, now)
        if outcome is not None:
            entry = entry.changed(status=OrderStatus.NEW)
        price = self._forced_price(entry, quote) if outcome == FILL_PREFIX else None
        legs = self._exit_legs(request, entry, instrument, now)
        self._check_exposure(entry, instrument, quote, extra_orders=1 + len(legs))
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

    # --- deterministic outcomes (pd-fill- / pd-reject-) -------------------------------------------

    def _forced_price(self, order: Order, quote: Quote | None) -> Decimal:
        """The price a ``pd-fill-`` order fills at; refused (nothing stored) if there is none."""
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.limit_price is not None:
            return order.limit_price
        if quote is not None:
            far = quote.ask if order.side is Side.BUY else quote.bid
            if far > 0:
                return far
        if order.stop_price is not None:
            return order.stop_price
        raise OrderRejected(
            "price_missing",
            f"{FILL_PREFIX} order: no quote for {order.symbol} and no limit or stop price to fill "
            f"a {order.type.value} order at",
        )

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

    def _reject_now(self, entry: Order, legs: list[Order], now: datetime) -> Order:
        """A ``pd-reject-`` order: rejected at once, its exits with it, its reservation released."""
        reason = f"rejected on request (client_order_id prefix {REJECT_PREFIX})"
        self._put(entry)
        for leg in legs:
            self._put(leg)
            self._end(leg, OrderStatus.REJECTED, now, reason)
        return self._end(self.orders[entry.id], OrderStatus.REJECTED, now, reason)

    def _check_not_expired(self, instrument: Instrument, now: datetime) -> None:
        """An option contract past its expiry (the close of its expiry date) takes no order: not a
        new one, not one closing a position (the expiry job settles that)."""
        if not isinstance(instrument, Option):
            return
        held = self.state.positions.get(instrument.symbol)
        problem = expired_contract_problem(instrument, now, held.qty if held else None)
        if problem is not None:
            raise OrderRejected(
                "contract_expired",
                problem,
                symbol=instrument.symbol,
                expired_at=instrument.expires_at.isoformat(),
            )

    def _check_account(self) -> None:
        if self.state.status is not AccountStatus.ACTIVE:
            raise OrderRejected(
                "account_not_active",
                f"account {self.state.account_id} is {self.state.status.value}, not active",
                "forbidden",
            )

    def _check_request(
        self, request: OrderRequest, instrument: Instrument, session: SessionView, *, forced: bool = False
    ) -> None:
        """Refuse what may not be sent; a ``forced`` outcome (pd-fill-/pd-reject-) ignores the session."""
        policy = self.policy
        tif = request.time_in_force
        if instrument.asset_class not in policy.allowed_asset_classes:
            raise OrderRejected(
                "asset_class_not_allowed", f"{instrument.asset_class.value} is not allowed for this account"
            )
        if policy.allowed_symbols is not None and instrument.symbol not in policy.allowed_symbols:
            raise OrderRejected("symbol_not_allowed", f"{instrument.symbol} is not allowed for this account")
        if (request.qty is None) == (request.notional is None):
            raise OrderRejected("invalid_quantity", "give exactly one of qty and notional")
        if request.qty is not None and (request.qty <= 0 or not instrument.is_valid_qty(request.qty)):
            raise OrderRejected(
                "invalid_quantity",
                f"qty {request.qty} is not a positive multiple of {instrument.lot_size} for {instrument.symbol}",
            )
        if (
            request.notional is not None
            and (request.notional <= 0 or request.type is not OrderType.MARKET or tif is not TimeInForce.DAY)
            and instrument.asset_class is not AssetClass.CRYPTO
        ):
            raise OrderRejected(
                "invalid_notional", "notional orders must be day market orders with a positive amount"
            )
        self._check_prices(request, instrument)
        if instrument.asset_class is AssetClass.CRYPTO and tif not in CRYPTO_TIME_IN_FORCE:
            # Alpaca's own message (alpaca-py PR#681); the code says what was wrong.
            raise OrderRejected(
                "invalid_time_in_force",
                "invalid crypto time_in_force",
                field="time_in_force",
                allowed="gtc, ioc",
            )
        if tif in (TimeInForce.OPG, TimeInForce.CLS) and (
            instrument.asset_class is not AssetClass.US_EQUITY
            or request.type not in (OrderType.MARKET, OrderType.LIMIT)
        ):
            raise OrderRejected(
                "invalid_time_in_force", f"{tif.value} is for equity market and limit orders only"
            )
        if tif is TimeInForce.OPG and session.is_open and not forced:
            raise OrderRejected("market_open", "opg orders are taken only while the market is closed")
        if tif in IMMEDIATE and not session.is_open and not forced:
            raise OrderRejected(
                "market_closed", f"{tif.value} orders are taken only while the market is open"
            )
        if request.order_class is not OrderClass.SIMPLE and tif not in (TimeInForce.DAY, TimeInForce.GTC):
            raise OrderRejected(
                "invalid_time_in_force", f"{request.order_class.value} orders take day or gtc"
            )

    def _check_prices(self, request: OrderRequest, instrument: Instrument) -> None:
        kind = request.type
        try:
            _trigger_of(request)
        except ValueError as exc:
            raise OrderRejected("invalid_order_type", str(exc)) from None
        for name, value in (("limit_price", request.limit_price), ("stop_price", request.stop_price)):
            if value is None:
                continue
            if value <= 0 or not instrument.is_valid_price(value):
                raise OrderRejected(
                    "invalid_price",
                    f"{name} {value} is not a positive multiple of the tick {instrument.tick_for(value)}",
                    field=name,
                )
        for name, value in (("trail_price", request.trail_price), ("trail_percent", request.trail_percent)):
            if value is not None and value <= 0:
                raise OrderRejected("invalid_price", f"{name} must be positive", field=name)
        cls = request.order_class
        if cls in (OrderClass.BRACKET, OrderClass.OTO, OrderClass.OCO):
            if kind not in (OrderType.MARKET, OrderType.LIMIT) and cls is not OrderClass.OCO:
                raise OrderRejected("invalid_order_type", f"a {cls.value} entry is a market or limit order")
            tp, sl = request.take_profit, request.stop_loss
            if cls in (OrderClass.BRACKET, OrderClass.OCO) and (tp is None or sl is None):
                raise OrderRejected("invalid_legs", f"{cls.value} orders need take_profit and stop_loss")
            if cls is OrderClass.OTO and (tp is None) == (sl is None):
                raise OrderRejected(
                    "invalid_legs", "oto orders need exactly one of take_profit and stop_loss"
                )
            if cls is OrderClass.OCO and kind is not OrderType.LIMIT:
                raise OrderRejected("invalid_order_type", "an oco order is a limit order (its take-profit)")
            for label, value in (
                ("take_profit.limit_price", tp.limit_price if tp else None),
                ("stop_loss.stop_price", sl.stop_price if sl else None),
                ("stop_loss.limit_price", sl.limit_price if sl else None),
            ):
                if value is not None and (value <= 0 or not instrument.is_valid_price(value)):
                    raise OrderRejected("invalid_price", f"{label} {value} is not a valid price", field=label)
            exit_side = request.side if cls is OrderClass.OCO else request.side.opposite
            if tp is not None and sl is not None:
                below = exit_side is Side.SELL
                if (tp.limit_price <= sl.stop_price) if below else (tp.limit_price >= sl.stop_price):
                    raise OrderRejected(
                        "invalid_legs",
                        "take_profit.limit_price must be on the profit side of stop_loss.stop_price",
                    )
        elif request.take_profit is not None or request.stop_loss is not None:
            raise OrderRejected("invalid_legs", "take_profit and stop_loss need a bracket, oto or oco order")

    def _quantity_of(self, request: OrderRequest, instrument: Instrument, quote: Quote | None) -> Decimal:
        if request.qty is not None:
            return request.qty
        assert request.notional is not None
        if quote is None:
            raise OrderRejected("price_missing", f"no quote for {instrument.symbol} to size a notional order")
        far = quote.ask if request.side is Side.BUY else quote.bid
        qty = instrument.round_qty(request.notional / far) if far > 0 else ZERO
        while qty > 0 and qty * far > request.notional:
            qty -= instrument.lot_size
        if qty <= 0:
            raise OrderRejected("invalid_notional", f"notional {request.notional} buys less than one lot")
        return qty

    def _new_order(
        self, request: OrderRequest, instrument: Instrument, qty: Decimal, session: SessionView, now: datetime
    ) -> Order:
        tif = request.time_in_force
        active_from, expires_at = _lifetime(tif, session)
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

    def _exit_legs(
        self, request: OrderRequest, entry: Order, instrument: Instrument, now: datetime
    ) -> list[Order]:
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
            leg_id = self.new_id()
            legs.append(
                base.changed(
                    id=leg_id,
                    client_order_id=leg_id,
                    limit_price=tp.limit_price,
                    leg_role=LegRole.TAKE_PROFIT,
                )
            )
        if sl is not None:
            leg_id = self.new_id()
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

    def _opening_qty(self, order: Order) -> Decimal:
        """The part of ``order`` that opens or adds exposure, given the position and the other open
        orders already working to close it on the same side."""
        position = self.state.positions.get(order.symbol)
        held = position.qty if position is not None else ZERO
        closable = -held if order.side is Side.BUY else held
        if closable <= 0:
            return order.remaining
        taken = sum(
            (
                o.remaining
                for o in self.open_orders(order.symbol)
                if o.id != order.id and o.side is order.side and o.parent_id is None and o.reserved == 0
            ),
            ZERO,
        )
        return max(ZERO, order.remaining - max(ZERO, closable - taken))

    def _check_exposure(
        self, order: Order, instrument: Instrument, quote: Quote | None, *, extra_orders: int
    ) -> None:
        policy = self.policy
        opening = self._opening_qty(order)
        if opening > 0 and not self.allow_new_exposure:
            raise OrderRejected(
                "new_orders_disabled",
                "new exposure is disabled on this server (kill switch); orders that reduce still work",
                "forbidden",
            )
        if opening > 0:
            if order.side is Side.SELL:
                if Direction.SHORT not in policy.allowed_directions:
                    raise OrderRejected(
                        "short_selling_not_allowed", "this account may not open short positions", "forbidden"
                    )
                if isinstance(instrument, Equity):
                    if not instrument.shortable:
                        raise OrderRejected(
                            "not_shortable", f"{instrument.symbol} is not shortable", "forbidden"
                        )
                    if not instrument.easy_to_borrow and not policy.allow_hard_to_borrow:
                        raise OrderRejected(
                            "hard_to_borrow", f"{instrument.symbol} is hard to borrow", "forbidden"
                        )
            if order.side is Side.BUY and Direction.LONG not in policy.allowed_directions:
                raise OrderRejected(
                    "long_not_allowed", "this account may not open long positions", "forbidden"
                )
            if (
                order.symbol not in self.state.positions
                and len(self.state.positions) + 1 > policy.max_open_positions
            ):
                raise OrderRejected(
                    "max_open_positions",
                    f"a new position would exceed the limit of {policy.max_open_positions} open positions",
                    "forbidden",
                )
        open_count = len([o for o in self.orders.values() if o.is_open and o.parent_id is None])
        if open_count + 1 > policy.max_open_orders:
            raise OrderRejected(
                "max_open_orders",
                f"a new order would exceed the limit of {policy.max_open_orders} open orders",
                "forbidden",
            )
        reference = self._reference_price(order, quote)
        if reference is not None:
            notional = instrument.notional(order.qty, reference)
            if opening > 0 and notional > policy.max_order_notional:
                raise OrderRejected(
                    "max_order_notional",
                    f"order notional {notional.quantize(Decimal('0.01'))} exceeds {policy.max_order_notional}",
                    "forbidden",
                )

    def _reference_price(self, order: Order, quote: Quote | None) -> Decimal | None:
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            return order.limit_price
        if quote is None:
            return order.stop_price
        return quote.ask if order.side is Side.BUY else quote.bid

    def _reserve(self, order: Order, instrument: Instrument, quote: Quote | None, now: datetime) -> Order:
        opening = self._opening_qty(order)
        if opening <= 0:
            return order
        if quote is None and order.type not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            if order.type is OrderType.STOP and order.stop_price is not None:
                quote = Quote(order.symbol, now, order.stop_price, order.stop_price)
            else:
                raise OrderRejected(
                    "price_missing",
                    f"no quote for {order.symbol}: a {order.type.value} order cannot be priced",
                )
        unit = reservation_price(
            side=order.side,
            order_type=order.type,
            quote=quote,
            limit_price=order.limit_price,
            opens_short=order.side is Side.SELL,
        )
        leverage = self.state.leverage if instrument.asset_class is not AssetClass.US_OPTION else ONE
        fee = fee_model_for(self.policy, instrument).fee(opening, unit, instrument)
        amount = reservation_amount(instrument, opening, unit, leverage=leverage, fee=fee)
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
            (old.active_from, old.expires_at) if tif is old.time_in_force else _lifetime(tif, session)
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
        self._check_not_expired(instrument, now)
        request = _request_of(new)
        self._check_prices(request, instrument)
        if tif is not old.time_in_force:
            if old.parent_id is not None:
                raise OrderRejected(
                    "invalid_time_in_force",
                    "an exit leg keeps its entry's time in force",
                    field="time_in_force",
                )
            self._check_request(request, instrument, session)
            if new.order_class is not OrderClass.SIMPLE and tif not in (TimeInForce.DAY, TimeInForce.GTC):
                raise OrderRejected(
                    "invalid_time_in_force", f"{new.order_class.value} orders take day or gtc"
                )
        saved = (self.state, dict(self.orders), dict(self.changed), len(self.events), len(self.updates))
        try:
            self._end(old.changed(replaced_by=new.id), OrderStatus.REPLACED, now, f"replaced by {new.id}")
            for child in self._children(old):
                self._put(child.changed(parent_id=new.id, time_in_force=tif, expires_at=new.expires_at))
            # Exit legs reserve nothing and pass no exposure check, as when they were placed.
            if new.parent_id is None:
                self._check_exposure(new, instrument, quote, extra_orders=1)
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

    # --- evaluation --------------------------------------------------------------------------------

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
        # A CLS order waits for the close event itself, which may come after other events stamped
        # at the close (it trades against the session's last price); any later event expires it.
        if (
            order.expires_at is not None
            and order.time_in_force is not TimeInForce.OPG
            and (
                begins > order.expires_at
                or (begins == order.expires_at and order.time_in_force is not TimeInForce.CLS)
            )
        ):
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

    def _seeded(self, order: Order) -> random.Random:
        return random.Random(f"{order.id}:{order.evaluations}")

    def _evaluate_quote(self, order: Order, quote: Quote, at: datetime) -> None:
        match = match_quote(_trigger(order), quote)
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
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.limit_price is not None:
            # A limit never fills worse than its limit, whatever the model's slippage says.
            price = min(price, order.limit_price) if order.side is Side.BUY else max(price, order.limit_price)
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
        match = match_bar(_trigger(order), bar)
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
            if order.limit_price is not None and order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
                price = (
                    min(price, order.limit_price) if order.side is Side.BUY else max(price, order.limit_price)
                )
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
            return parity.quantity(remaining, instrument, self._seeded(order))
        return remaining

    def _fills_completely(self, order: Order, quote: Quote) -> bool:
        if match_quote(_trigger(order), quote).price is None:
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
        adds = _adds_exposure(before.qty if before else ZERO, after.qty if after else ZERO)
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
        for sibling in self._siblings(order):
            if not sibling.is_open:
                continue
            left = order.remaining
            if left <= 0:
                self._end(sibling, OrderStatus.CANCELED, at, f"other leg {order.id} filled")
            else:
                self._put(sibling.changed(qty=sibling.filled_qty + left, updated_at=at))
        if order.status is OrderStatus.FILLED and order.parent_id is None:
            for child in self._children(order):
                if child.status is OrderStatus.HELD:
                    self._activate(child, order.filled_qty, at)

    def _activate(self, leg: Order, qty: Decimal, at: datetime) -> None:
        """Release a held exit for ``qty``; it works from the next tick on, not the one that filled
        its entry."""
        active = leg.changed(status=OrderStatus.NEW, qty=qty, updated_at=at, active_from=at)
        self._activated_now.add(active.id)
        self._put(active, OrderUpdate.NEW)


def forced_outcome(client_order_id: str) -> str | None:
    """``FILL_PREFIX`` or ``REJECT_PREFIX`` when the client order id asks for a deterministic outcome."""
    for prefix in (FILL_PREFIX, REJECT_PREFIX):
        if client_order_id.startswith(prefix):
            return prefix
    return None


def _lifetime(tif: TimeInForce, session: SessionView) -> tuple[datetime | None, datetime | None]:
    """When an order with ``tif`` placed now starts to work (OPG: the open) and when it expires."""
    if tif is TimeInForce.OPG:
        return session.next_open, session.next_open
    if tif in (TimeInForce.DAY, TimeInForce.CLS):
        return None, session.close
    return None, None


def _trigger_of(request: OrderRequest) -> Trigger:
    return Trigger(
        side=request.side,
        type=request.type,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        trail_price=request.trail_price,
        trail_percent=request.trail_percent,
    )


def _request_of(order: Order) -> OrderRequest:
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


def open_reserved(orders: Sequence[Order]) -> Mapping[str, Decimal]:
    """What each open order holds: the reservations the kernel must agree with."""
    return {o.id: o.reserved for o in orders if o.is_open and o.reserved > 0}
