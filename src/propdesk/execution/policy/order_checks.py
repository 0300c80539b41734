"""The order APIs' checks: the account, the request itself, and the exposure an order would add.

The order book (:mod:`propdesk.execution.order_book.book`) runs them on every new order and
replacement, for ``/v2`` and ``/api/v1`` alike. Each raises
:class:`~propdesk.execution.order_book.errors.OrderRejected` on the first failure (an order API
answers one error), with a :class:`~propdesk.execution.policy.codes.CheckCode` and the kind its
table gives (so one code has one HTTP status at every door); a limit check carries its
:class:`~propdesk.execution.policy.results.CheckResult` (what it measured, the limit).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.execution.order_book.errors import OrderRejected
from propdesk.execution.order_book.requests import OrderRequest, SessionView, trigger_of
from propdesk.execution.policy.codes import ORDER_REFUSAL, CheckCode, CheckValue
from propdesk.execution.policy.results import CheckResult
from propdesk.model.instruments import AssetClass, Equity, Instrument, Option, expired_contract_problem
from propdesk.model.market import Quote
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Direction, Order, OrderClass, OrderType, Side, TimeInForce
from propdesk.model.policy import ExecutionPolicy

CRYPTO_TIME_IN_FORCE = frozenset({TimeInForce.GTC, TimeInForce.IOC})
IMMEDIATE = frozenset({TimeInForce.IOC, TimeInForce.FOK})


def refuse(
    code: CheckCode,
    message: str,
    *,
    value: CheckValue = None,
    limit: CheckValue = None,
    **details: object,
) -> OrderRejected:
    """The refusal for a failed check: its code, the kind the code table gives, and the failed
    :class:`CheckResult` (``value`` measured against ``limit``)."""
    rejected = OrderRejected(code, message, ORDER_REFUSAL[code], **details)
    rejected.check = CheckResult(code, False, value, limit, message)
    return rejected


def check_not_expired(state: AccountState, instrument: Instrument, now: datetime) -> None:
    """An option contract past its expiry (the close of its expiry date) takes no order: not a
    new one, not one closing a position (the expiry job settles that)."""
    if not isinstance(instrument, Option):
        return
    held = state.positions.get(instrument.symbol)
    problem = expired_contract_problem(instrument, now, held.qty if held else None)
    if problem is not None:
        raise refuse(
            CheckCode.CONTRACT_EXPIRED,
            problem,
            symbol=instrument.symbol,
            expired_at=instrument.expires_at.isoformat(),
        )


def check_account(state: AccountState) -> None:
    """Only an active account takes orders."""
    if state.status is not AccountStatus.ACTIVE:
        raise refuse(
            CheckCode.ACCOUNT_NOT_ACTIVE,
            f"account {state.account_id} is {state.status.value}, not active",
        )


def check_request(
    policy: ExecutionPolicy,
    request: OrderRequest,
    instrument: Instrument,
    session: SessionView,
    *,
    forced: bool = False,
) -> None:
    """Refuse what may not be sent; a ``forced`` outcome (pd-fill-/pd-reject-) ignores the session."""
    tif = request.time_in_force
    if instrument.asset_class not in policy.allowed_asset_classes:
        raise refuse(
            CheckCode.ASSET_CLASS_NOT_ALLOWED,
            f"{instrument.asset_class.value} is not allowed for this account",
        )
    if policy.allowed_symbols is not None and instrument.symbol not in policy.allowed_symbols:
        raise refuse(CheckCode.SYMBOL_NOT_ALLOWED, f"{instrument.symbol} is not allowed for this account")
    if (request.qty is None) == (request.notional is None):
        raise refuse(CheckCode.INVALID_QUANTITY, "give exactly one of qty and notional")
    if request.qty is not None and (request.qty <= 0 or not instrument.is_valid_qty(request.qty)):
        raise refuse(
            CheckCode.INVALID_QUANTITY,
            f"qty {request.qty} is not a positive multiple of {instrument.lot_size} for {instrument.symbol}",
        )
    if (
        request.notional is not None
        and (request.notional <= 0 or request.type is not OrderType.MARKET or tif is not TimeInForce.DAY)
        and instrument.asset_class is not AssetClass.CRYPTO
    ):
        raise refuse(
            CheckCode.INVALID_NOTIONAL, "notional orders must be day market orders with a positive amount"
        )
    check_prices(request, instrument)
    if instrument.asset_class is AssetClass.CRYPTO and tif not in CRYPTO_TIME_IN_FORCE:
        # Alpaca's own message (alpaca-py PR#681); the code says what was wrong.
        raise refuse(
            CheckCode.INVALID_TIME_IN_FORCE,
            "invalid crypto time_in_force",
            field="time_in_force",
            allowed="gtc, ioc",
        )
    if tif in (TimeInForce.OPG, TimeInForce.CLS) and (
        instrument.asset_class is not AssetClass.US_EQUITY
        or request.type not in (OrderType.MARKET, OrderType.LIMIT)
    ):
        raise refuse(
            CheckCode.INVALID_TIME_IN_FORCE, f"{tif.value} is for equity market and limit orders only"
        )
    if tif is TimeInForce.OPG and session.is_open and not forced:
        raise refuse(CheckCode.MARKET_OPEN, "opg orders are taken only while the market is closed")
    if tif in IMMEDIATE and not session.is_open and not forced:
        raise refuse(CheckCode.MARKET_CLOSED, f"{tif.value} orders are taken only while the market is open")
    if request.order_class is not OrderClass.SIMPLE and tif not in (TimeInForce.DAY, TimeInForce.GTC):
        raise refuse(CheckCode.INVALID_TIME_IN_FORCE, f"{request.order_class.value} orders take day or gtc")


def check_prices(request: OrderRequest, instrument: Instrument) -> None:
    """Refuse prices and exit legs the order type and the instrument do not allow."""
    kind = request.type
    try:
        trigger_of(request)
    except ValueError as exc:
        raise refuse(CheckCode.INVALID_ORDER_TYPE, str(exc)) from None
    for name, value in (("limit_price", request.limit_price), ("stop_price", request.stop_price)):
        if value is None:
            continue
        if value <= 0 or not instrument.is_valid_price(value):
            raise refuse(
                CheckCode.INVALID_PRICE,
                f"{name} {value} is not a positive multiple of the tick {instrument.tick_for(value)}",
                field=name,
            )
    for name, value in (("trail_price", request.trail_price), ("trail_percent", request.trail_percent)):
        if value is not None and value <= 0:
            raise refuse(CheckCode.INVALID_PRICE, f"{name} must be positive", field=name)
    cls = request.order_class
    if cls in (OrderClass.BRACKET, OrderClass.OTO, OrderClass.OCO):
        if kind not in (OrderType.MARKET, OrderType.LIMIT) and cls is not OrderClass.OCO:
            raise refuse(CheckCode.INVALID_ORDER_TYPE, f"a {cls.value} entry is a market or limit order")
        tp, sl = request.take_profit, request.stop_loss
        if cls in (OrderClass.BRACKET, OrderClass.OCO) and (tp is None or sl is None):
            raise refuse(CheckCode.INVALID_LEGS, f"{cls.value} orders need take_profit and stop_loss")
        if cls is OrderClass.OTO and (tp is None) == (sl is None):
            raise refuse(CheckCode.INVALID_LEGS, "oto orders need exactly one of take_profit and stop_loss")
        if cls is OrderClass.OCO and kind is not OrderType.LIMIT:
            raise refuse(CheckCode.INVALID_ORDER_TYPE, "an oco order is a limit order (its take-profit)")
        for label, value in (
            ("take_profit.limit_price", tp.limit_price if tp else None),
            ("stop_loss.stop_price", sl.stop_price if sl else None),
            ("stop_loss.limit_price", sl.limit_price if sl else None),
        ):
            if value is not None and (value <= 0 or not instrument.is_valid_price(value)):
                raise refuse(CheckCode.INVALID_PRICE, f"{label} {value} is not a valid price", field=label)
        exit_side = request.side if cls is OrderClass.OCO else request.side.opposite
        if tp is not None and sl is not None:
            below = exit_side is Side.SELL
            if (tp.limit_price <= sl.stop_price) if below else (tp.limit_price >= sl.stop_price):
                raise refuse(
                    CheckCode.INVALID_LEGS,
                    "take_profit.limit_price must be on the profit side of stop_loss.stop_price",
                )
    elif request.take_profit is not None or request.stop_loss is not None:
        raise refuse(CheckCode.INVALID_LEGS, "take_profit and stop_loss need a bracket, oto or oco order")


def quantity_of(request: OrderRequest, instrument: Instrument, quote: Quote | None) -> Decimal:
    """The quantity ``request`` asks for: its qty, or the whole lots its notional buys at ``quote``."""
    if request.qty is not None:
        return request.qty
    assert request.notional is not None
    if quote is None:
        raise refuse(CheckCode.PRICE_MISSING, f"no quote for {instrument.symbol} to size a notional order")
    far = quote.ask if request.side is Side.BUY else quote.bid
    qty = instrument.round_qty(request.notional / far) if far > 0 else ZERO
    while qty > 0 and qty * far > request.notional:
        qty -= instrument.lot_size
    if qty <= 0:
        raise refuse(CheckCode.INVALID_NOTIONAL, f"notional {request.notional} buys less than one lot")
    return qty


def check_exposure(
    state: AccountState,
    policy: ExecutionPolicy,
    open_orders: Iterable[Order],
    order: Order,
    instrument: Instrument,
    quote: Quote | None,
    *,
    opening: Decimal,
    allow_new_exposure: bool,
) -> None:
    """Refuse what ``order`` would add beyond the policy; ``opening`` is the part of it that opens or
    adds exposure (reducing risk is never blocked by these limits, only by the open-order count)."""
    if opening > 0 and not allow_new_exposure:
        raise refuse(
            CheckCode.NEW_ORDERS_DISABLED,
            "new exposure is disabled on this server (kill switch); orders that reduce still work",
        )
    if opening > 0:
        if order.side is Side.SELL:
            if Direction.SHORT not in policy.allowed_directions:
                raise refuse(CheckCode.SHORT_SELLING_NOT_ALLOWED, "this account may not open short positions")
            if isinstance(instrument, Equity):
                if not instrument.shortable:
                    raise refuse(CheckCode.NOT_SHORTABLE, f"{instrument.symbol} is not shortable")
                if not instrument.easy_to_borrow and not policy.allow_hard_to_borrow:
                    raise refuse(CheckCode.HARD_TO_BORROW, f"{instrument.symbol} is hard to borrow")
        if order.side is Side.BUY and Direction.LONG not in policy.allowed_directions:
            raise refuse(CheckCode.LONG_NOT_ALLOWED, "this account may not open long positions")
        if order.symbol not in state.positions and len(state.positions) + 1 > policy.max_open_positions:
            raise refuse(
                CheckCode.MAX_OPEN_POSITIONS,
                f"a new position would exceed the limit of {policy.max_open_positions} open positions",
                value=len(state.positions) + 1,
                limit=policy.max_open_positions,
            )
    open_count = len([o for o in open_orders if o.is_open and o.parent_id is None])
    if open_count + 1 > policy.max_open_orders:
        raise refuse(
            CheckCode.MAX_OPEN_ORDERS,
            f"a new order would exceed the limit of {policy.max_open_orders} open orders",
            value=open_count + 1,
            limit=policy.max_open_orders,
        )
    reference = reference_price(order, quote)
    if reference is not None:
        notional = instrument.notional(order.qty, reference)
        if opening > 0 and notional > policy.max_order_notional:
            raise refuse(
                CheckCode.MAX_ORDER_NOTIONAL,
                f"order notional {notional.quantize(Decimal('0.01'))} exceeds {policy.max_order_notional}",
                value=notional,
                limit=policy.max_order_notional,
            )


def reference_price(order: Order, quote: Quote | None) -> Decimal | None:
    """The price an order's notional is measured at: its limit, else the far side of the quote."""
    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return order.limit_price
    if quote is None:
        return order.stop_price
    return quote.ask if order.side is Side.BUY else quote.bid
