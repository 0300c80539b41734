"""Multi-leg option orders (Alpaca ``mleg``) on an :class:`~propdesk.execution.order_book.book.OrderBook`.

All legs fill or none, in one kernel step: each leg at its far side (a buy at the ask, a sell at
the bid), the parent at the net price (positive: a debit paid; negative: a credit received). A
limit is the worst acceptable net. Before anything is booked, the account after all the fills
must have available capital of at least zero under the risk-based option margin (a defined-risk
spread ties up its maximum loss, a short put the cash for its strike) and no option group with
unbounded loss (a short call not covered by a long call or the stock). When a leg cannot fill
— no quote, a stale quote — or the spread cannot be afforded, the parent is refused naming the
leg or the reason, and nothing is stored.

A limit spread that is not marketable yet rests: it reserves what filling it at today's prices
would tie up (its limit can only be better for the trader) and is tried again by the evaluator
with the legs' latest quotes. Its legs are ``held`` by the parent until they fill together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_UP, Decimal

from propdesk.accounting.events import Event
from propdesk.accounting.kernel import (
    ApplyFill,
    Command,
    CommandRejected,
    ReleaseReservation,
    ReserveForOrder,
    handle,
)
from propdesk.accounting.state import AccountState
from propdesk.execution.fees import fee_model_for
from propdesk.execution.multileg import Leg, LegPricing, MultiLegError, PricingCode, price_legs
from propdesk.execution.order_book.book import OrderBook
from propdesk.execution.order_book.errors import OrderRejected
from propdesk.execution.order_book.requests import ReplaceRequest, SessionView
from propdesk.execution.policy.codes import CheckCode
from propdesk.execution.policy.order_checks import check_account, check_not_expired, refuse
from propdesk.model.fills import Fill
from propdesk.model.instruments import AssetClass, InvalidSymbolError, option
from propdesk.model.market import Quote
from propdesk.model.numbers import CENT, ZERO
from propdesk.model.orders import (
    LegRole,
    Order,
    OrderClass,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SpreadRequest:
    client_order_id: str
    legs: tuple[Leg, ...]
    qty: Decimal
    type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY


def _check(book: OrderBook, request: SpreadRequest, session: SessionView) -> None:
    check_account(book.state)
    if AssetClass.US_OPTION not in book.policy.allowed_asset_classes:
        raise refuse(CheckCode.ASSET_CLASS_NOT_ALLOWED, "options are not allowed for this account")
    if request.type not in (OrderType.MARKET, OrderType.LIMIT):
        raise refuse(CheckCode.INVALID_ORDER_TYPE, "a multi-leg order is a market or limit order")
    if (request.type is OrderType.LIMIT) != (request.limit_price is not None):
        raise refuse(
            CheckCode.INVALID_ORDER_TYPE, "a limit multi-leg order needs limit_price; market takes none"
        )
    if request.time_in_force not in (TimeInForce.DAY, TimeInForce.GTC):
        raise refuse(CheckCode.INVALID_TIME_IN_FORCE, "multi-leg orders take day or gtc")
    if not session.is_open:
        raise refuse(
            CheckCode.MARKET_CLOSED, "multi-leg option orders are taken only while the market is open"
        )


def _price(
    book: OrderBook, request: SpreadRequest, quotes: Mapping[str, Quote | None], now: datetime
) -> LegPricing:
    try:
        pricing = price_legs(
            request.legs,
            request.qty,
            quotes,
            now=now,
            max_quote_age_seconds=book.policy.max_quote_age_seconds,
            limit_price=request.limit_price,
        )
    except MultiLegError as exc:
        raise OrderRejected(exc.code.value, str(exc), leg=exc.leg_index) from None
    if pricing.code in (PricingCode.LEG_QUOTE_MISSING, PricingCode.LEG_QUOTE_STALE):
        assert pricing.code is not None
        raise OrderRejected(pricing.code.value, pricing.message, leg=pricing.leg_index, symbol=pricing.symbol)
    return pricing


def _fills(book: OrderBook, legs: list[Order], pricing: LegPricing, at: datetime) -> list[Fill]:
    fills = []
    for order, priced in zip(legs, pricing.legs, strict=True):
        fee = fee_model_for(book.policy, priced.contract).fee(priced.contracts, priced.price, priced.contract)
        fills.append(
            Fill(
                fill_id=book.new_id(),
                order_id=order.id,
                instrument=priced.contract.spec,
                side=priced.side,
                qty=priced.contracts,
                price=priced.price,
                fee=fee,
                time=at,
                bid=priced.quote.bid,
                ask=priced.quote.ask,
                mark=priced.quote.mark,
                slippage=priced.side.sign * (priced.price - priced.quote.mark),
            )
        )
    return fills


def _trial(state: AccountState, commands: list[Command]) -> tuple[AccountState, list[Event]]:
    events: list[Event] = []
    for command in commands:
        decision = handle(state, command)
        state, events = decision.state, events + decision.events
    return state, events


def _afford(before: AccountState, after: AccountState, fills: list[Fill]) -> None:
    if after.has_unbounded_option_risk:
        shorts = [f.symbol for f in fills if f.side is Side.SELL]
        raise OrderRejected(
            "uncovered_short_call",
            f"the spread leaves a short call without a long call or the stock to cover it ({', '.join(shorts)})",
            "forbidden",
        )
    if after.available_capital < 0:
        raise OrderRejected(
            "insufficient_buying_power",
            f"the spread needs {(before.available_capital - after.available_capital).quantize(CENT)} "
            f"of capital; {before.available_capital.quantize(CENT)} is available",
            "forbidden",
        )


def submit_spread(
    book: OrderBook,
    request: SpreadRequest,
    *,
    quotes: Mapping[str, Quote | None],
    session: SessionView,
    now: datetime,
    replaces: str | None = None,
    parent_id: str | None = None,
) -> Order:
    """Accept a multi-leg order and fill it at once if it is marketable (see the module docstring).

    A replacement (:func:`replace_spread`) passes the order it ``replaces`` and its new ``parent_id``."""
    _check(book, request, session)
    for wanted in request.legs:
        try:
            contract = option(wanted.symbol)
        except InvalidSymbolError:
            continue  # pricing names the leg that is not an option
        check_not_expired(book.state, contract, now)
    pricing = _price(book, request, quotes, now)
    net = pricing.net
    assert net is not None
    parent = Order(
        id=parent_id or book.new_id(),
        replaces=replaces,
        account_id=book.state.account_id,
        client_order_id=request.client_order_id,
        symbol="",
        asset_class=AssetClass.US_OPTION,
        side=Side.BUY if net >= 0 else Side.SELL,
        type=request.type,
        time_in_force=request.time_in_force,
        qty=request.qty,
        limit_price=request.limit_price,
        order_class=OrderClass.MLEG,
        created_at=now,
        updated_at=now,
        expires_at=session.close if request.time_in_force is TimeInForce.DAY else None,
    )
    legs = [
        Order(
            id=book.new_id(),
            account_id=parent.account_id,
            client_order_id="",
            symbol=priced.symbol,
            asset_class=AssetClass.US_OPTION,
            side=priced.side,
            type=OrderType.MARKET,
            time_in_force=request.time_in_force,
            qty=priced.contracts,
            order_class=OrderClass.MLEG,
            status=OrderStatus.HELD,
            created_at=now,
            updated_at=now,
            parent_id=parent.id,
            leg_role=LegRole.OPTION_LEG,
            ratio_qty=priced.ratio_qty,
            expires_at=parent.expires_at,
        )
        for priced in pricing.legs
    ]
    legs = [leg.changed(client_order_id=leg.id) for leg in legs]
    if pricing.marketable:
        _book(book, parent, legs, pricing, now)
    else:
        parent = _reserve(book, parent, legs, pricing, now)
        book._put(parent, OrderUpdate.NEW)
        for leg in legs:
            book._put(leg)
    return book.orders[parent.id]


def replace_spread(
    book: OrderBook,
    order_id: str,
    change: ReplaceRequest,
    *,
    quotes: Mapping[str, Quote | None],
    session: SessionView,
    now: datetime,
) -> Order:
    """Replace a resting multi-leg order through its parent, as Alpaca's PATCH does: a new parent
    (``replaces`` = the old id) with new legs carrying the same symbols, sides and ratios, for a
    new ``limit_price``, ``qty`` (the strategy multiplier) or ``time_in_force``. The old parent and
    its legs go ``replaced``. The new order is priced, checked and reserved as a new multi-leg
    order would be (and fills at once if it is marketable); a refusal leaves the book as it was.
    One leg cannot be replaced on its own (``leg_of_multileg``)."""
    old = book._whole_order(order_id, "replace")
    if old.order_class is not OrderClass.MLEG:
        raise OrderRejected("invalid_replace", f"order {order_id} is not a multi-leg order")
    if change.stop_price is not None or change.trail is not None:
        raise OrderRejected(
            "invalid_replace", "a multi-leg order takes a new limit_price, qty or time_in_force only"
        )
    if change.limit_price is not None and old.type is not OrderType.LIMIT:
        raise OrderRejected("invalid_replace", "a market multi-leg order has no limit price to replace")
    old_legs = [o for o in book.orders.values() if o.parent_id == old.id]
    old_legs.sort(key=lambda o: (o.created_at, o.id))
    request = SpreadRequest(
        client_order_id=change.client_order_id or book.new_id(),
        legs=tuple(Leg(o.symbol, o.side, o.ratio_qty or 1) for o in old_legs),
        qty=change.qty if change.qty is not None else old.qty,
        type=old.type,
        limit_price=change.limit_price if change.limit_price is not None else old.limit_price,
        time_in_force=change.time_in_force or old.time_in_force,
    )
    if request.qty <= 0 or request.qty != request.qty.to_integral_value():
        raise OrderRejected(
            "invalid_quantity", f"qty {request.qty} is not a whole number of spreads", field="qty"
        )
    if (
        request.qty == old.qty
        and request.limit_price == old.limit_price
        and request.time_in_force is old.time_in_force
    ):
        raise OrderRejected("invalid_replace", "order parameters are not changed")
    new_id = book.new_id()
    saved = (
        book.state,
        dict(book.orders),
        dict(book.changed),
        len(book.events),
        len(book.updates),
        len(book.fills),
    )
    try:
        # The old order's reservation is released first: the replacement may use that capital.
        book._end(old.changed(replaced_by=new_id), OrderStatus.REPLACED, now, f"replaced by {new_id}")
        new = submit_spread(
            book, request, quotes=quotes, session=session, now=now, replaces=old.id, parent_id=new_id
        )
    except OrderRejected:
        book.state, book.orders, book.changed = saved[0], saved[1], saved[2]
        del book.events[saved[3] :]
        del book.updates[saved[4] :]
        del book.fills[saved[5] :]
        raise
    # A multi-leg order's legs have distinct symbols: each old leg is replaced by the new one on its symbol.
    successors = {o.symbol: o for o in book.orders.values() if o.parent_id == new.id}
    for leg in old_legs:
        successor = successors[leg.symbol]
        book._end(
            leg.changed(replaced_by=successor.id), OrderStatus.REPLACED, now, f"replaced by {successor.id}"
        )
        book._put(book.orders[successor.id].changed(replaces=leg.id))
    return book.orders[new.id]


def _reserve(book: OrderBook, parent: Order, legs: list[Order], pricing: LegPricing, now: datetime) -> Order:
    before = book.state
    fills = _fills(book, legs, pricing, now)
    after, _ = _trial(before, [ApplyFill(at=now, fill=f) for f in fills])
    _afford(before, after, fills)
    amount = (before.available_capital - after.available_capital).quantize(CENT, rounding=ROUND_UP)
    if amount <= 0:
        return parent
    try:
        book._run(ReserveForOrder(at=now, order_id=parent.id, amount=amount))
    except CommandRejected as exc:
        raise OrderRejected(exc.code, exc.message, "forbidden") from None
    return parent.changed(reserved=amount)


def _book(book: OrderBook, parent: Order, legs: list[Order], pricing: LegPricing, at: datetime) -> None:
    """Fill every leg and the parent in one step, or raise :class:`OrderRejected` changing nothing."""
    fills = _fills(book, legs, pricing, at)
    commands: list[Command] = []
    if parent.reserved > 0:
        commands.append(ReleaseReservation(at=at, order_id=parent.id, reason="fill"))
    commands += [ApplyFill(at=at, fill=f) for f in fills]
    released, _ = _trial(book.state, commands[:1] if parent.reserved > 0 else [])
    after, events = _trial(book.state, commands)
    _afford(released, after, fills)
    book.state = after
    book.events.extend(events)
    book.fills.extend(fills)
    assert pricing.net is not None
    done = parent.changed(reserved=ZERO).with_fill(parent.remaining, pricing.net, at)
    book._put(done, OrderUpdate.FILL)
    for leg, fill in zip(legs, fills, strict=True):
        book._put(leg.with_fill(fill.qty, fill.price, at), OrderUpdate.FILL, fill)


def evaluate_spreads(book: OrderBook, quotes: Mapping[str, Quote | None], now: datetime) -> None:
    """Expire or try again every resting multi-leg order with the legs' latest quotes."""
    for parent in [o for o in book.open_orders() if o.order_class is OrderClass.MLEG and o.parent_id is None]:
        if parent.expires_at is not None and now >= parent.expires_at:
            book._end(parent, OrderStatus.EXPIRED, parent.expires_at, "day order expired")
            continue
        legs = [o for o in book.orders.values() if o.parent_id == parent.id]
        spread = [Leg(o.symbol, o.side, o.ratio_qty or 1) for o in legs]
        try:
            pricing = price_legs(
                spread,
                parent.qty,
                quotes,
                now=now,
                max_quote_age_seconds=book.policy.max_quote_age_seconds,
                limit_price=parent.limit_price,
            )
        except MultiLegError:
            continue
        if not pricing.marketable:
            continue
        try:
            _book(book, parent, legs, pricing, now)
        except OrderRejected as exc:
            book._end(parent, OrderStatus.CANCELED, now, exc.message)


def spread_symbols(orders: list[Order]) -> list[str]:
    """The leg symbols of the open multi-leg orders among ``orders`` (whose quotes the evaluator reads)."""
    return sorted({o.symbol for o in orders if o.order_class is OrderClass.MLEG and o.parent_id is not None})
