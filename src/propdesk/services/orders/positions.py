"""Positions as a broker reports them, closing them by quantity or percentage, and exercising options.

Reads: a position with what open orders hold of it (``held_for_orders``: the quantity that working
closing orders would take, counting each one-cancels-other pair once and ignoring bracket exits
still held for an unfilled entry) and the price at the end of the previous session (for the
day's change). Closing places a market order on the other side through the order engine.

Exercise of a long option is a pair of fills through the account kernel in one locked
transaction, fee 0: the option leaves the book at price 0 (what was paid for it becomes a
realized loss) and the underlying is bought (call) or sold (put) at the strike, 100 per
contract; a cash-settled index option instead leaves the book at its intrinsic value from the
index's fresh quote. Exercise follows Alpaca's rules: only while the NYSE is open, only what
open orders do not hold, not after expiry, and a European-style contract only on its
expiration day; like an order, it is refused if taking delivery would leave negative buying
power. The fills carry no order id and ``liquidity="exercise"``; they are built by
:func:`settlement_fills`, which the expiry job (:mod:`propdesk.services.daily.expiry`) uses too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from propdesk.accounting.kernel import CommandRejected
from propdesk.accounting.positions import Position
from propdesk.accounting.state import AccountState
from propdesk.execution.order_book.requests import OrderRequest
from propdesk.execution.rounding import qty_down_to_lot
from propdesk.marketdata.calendars import calendar_for
from propdesk.model.ids import AccountId
from propdesk.model.instruments import (
    AssetClass,
    Instrument,
    parse_instrument,
)
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Order, OrderClass, OrderStatus, OrderType, Side, TimeInForce
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Forbidden, Invalid, NotFound, Refused, ServiceError
from propdesk.services.market.assets import AssetInfo, describe, trading_date
from propdesk.services.orders import commands as orders
from propdesk.services.orders.book_runner import Submitted
from propdesk.services.transactions import AccountTx, account_tx, savepoint
from propdesk.store.pages import Page
from propdesk.store.position_history import PositionRecord
from propdesk.store.uow import UnitOfWork

HUNDRED = Decimal(100)
# Percentages are taken to nine decimal places, as Alpaca's ``percentage`` parameter.
PERCENT_EXP = -9


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeldPosition:
    """An open position with what a broker shows beside it."""

    position: Position
    instrument: Instrument
    asset: AssetInfo
    held_for_orders: Decimal
    # When the current trading day began for this instrument (the previous session's close) and
    # the price then; None if no price at or before it is stored.
    day_start: datetime
    lastday_price: Decimal | None

    @property
    def symbol(self) -> str:
        return self.position.symbol

    @property
    def available(self) -> Decimal:
        """Unsigned quantity that no open closing order holds."""
        return max(ZERO, abs(self.position.qty) - self.held_for_orders)

    @property
    def unrealized_plpc(self) -> Decimal | None:
        cost = abs(self.position.cost)
        return self.position.unrealized_pnl / cost if cost else None

    def _intraday_base(self) -> Decimal | None:
        """Value of the position when the day began: its cost if it was opened today."""
        p = self.position
        if p.opened_at > self.day_start:
            return p.cost
        if self.lastday_price is None:
            return None
        return p.qty * self.lastday_price * p.instrument.multiplier

    @property
    def unrealized_intraday_pl(self) -> Decimal | None:
        base = self._intraday_base()
        return None if base is None else self.position.market_value - base

    @property
    def unrealized_intraday_plpc(self) -> Decimal | None:
        base = self._intraday_base()
        if base is None or base == 0:
            return None
        return (self.position.market_value - base) / abs(base)

    @property
    def change_today(self) -> Decimal | None:
        last = self.lastday_price
        return None if not last else (self.position.mark - last) / last


def find_symbol(symbols: Iterable[str], text: str) -> str | None:
    """The held symbol ``text`` names: exact, or a crypto pair with or without its slash
    (``BTCUSD`` is ``BTC/USD``), or an OCC symbol written with spaces."""
    wanted = text.strip().upper().replace(" ", "")
    held = list(symbols)
    if wanted in held:
        return wanted
    flat = wanted.replace("/", "")
    return next((s for s in held if s.replace("/", "") == flat), None)


def held_for_orders(open_orders: Sequence[Order], symbol: str, qty: Decimal) -> Decimal:
    """What working orders on the closing side of a position of ``qty`` would take (unsigned, at
    most the position): the two exits of a bracket or OCO count once (they cancel each other);
    exits held for an entry that has not filled are not counted (they protect shares to come)."""
    closing = Side.SELL if qty > 0 else Side.BUY
    by_group: dict[str, Decimal] = {}
    for order in open_orders:
        if order.symbol != symbol or order.side is not closing or order.status is OrderStatus.HELD:
            continue
        pair = order.order_class in (OrderClass.BRACKET, OrderClass.OCO)
        group = (order.parent_id or order.id) if pair else order.id
        by_group[group] = max(by_group.get(group, ZERO), order.remaining)
    return min(abs(qty), sum(by_group.values(), ZERO))


def day_start(asset_class: AssetClass, now: datetime) -> datetime:
    """When the current trading day began: the previous session's close (crypto: 00:00 UTC).

    The current day is the session in progress; before today's session opens it is today's,
    after a close the session that just ended (until the next one opens).
    """
    calendar = calendar_for(asset_class)
    if calendar is None:
        midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight
    session = calendar.session_at(now)
    if session is not None:
        day = session.day
    else:
        upcoming = calendar.next_session(now)
        today = trading_date(now)
        day = upcoming.day if upcoming.day == today else calendar.previous_session_day(upcoming.day)
    close = calendar.session_close(calendar.previous_session_day(day))
    assert close is not None
    return close


def _lastday_prices(uow: UnitOfWork, starts: Mapping[str, datetime]) -> dict[str, Decimal]:
    """Each symbol's price at its day start: the mid of its last quote by then, else the close of
    its last daily bar that began before it."""
    found: dict[str, Decimal] = {}
    by_start: dict[datetime, list[str]] = {}
    for symbol, start in starts.items():
        by_start.setdefault(start, []).append(symbol)
    for start, symbols in by_start.items():
        for symbol, quote in uow.prices.latest_quotes(symbols, at_or_before=start).items():
            found[symbol] = quote.mid
    missing: dict[datetime, list[str]] = {}
    for symbol, start in starts.items():
        if symbol not in found:
            missing.setdefault(start, []).append(symbol)
    for start, symbols in missing.items():
        for symbol, bar in uow.prices.last_bars_before(symbols, "1Day", start).items():
            found[symbol] = bar.close
    return found


def instrument_of(position: Position) -> Instrument:
    return parse_instrument(position.symbol, position.instrument.asset_class)


def _held_positions(
    uow: UnitOfWork, account_id: AccountId, state: AccountState, now: datetime
) -> list[HeldPosition]:
    if not state.positions:
        return []
    working = uow.orders.open_orders(account_id)
    flags = uow.orders.asset_flags(sorted(state.positions))
    starts = {s: day_start(p.instrument.asset_class, now) for s, p in state.positions.items()}
    lastday = _lastday_prices(uow, starts)
    held = []
    for symbol in sorted(state.positions):
        position = state.positions[symbol]
        instrument = instrument_of(position)
        held.append(
            HeldPosition(
                position=position,
                instrument=instrument,
                asset=describe(instrument, flags.get(symbol)),
                held_for_orders=held_for_orders(working, symbol, position.qty),
                day_start=starts[symbol],
                lastday_price=lastday.get(symbol),
            )
        )
    return held


def open_positions(ctx: ServiceContext, account_id: AccountId) -> list[HeldPosition]:
    """The account's open positions, by symbol."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return _held_positions(uow, account_id, uow.accounts.load_state(account_id), ctx.clock())


def get_position(ctx: ServiceContext, account_id: AccountId, text: str) -> HeldPosition:
    """One open position by symbol (404 ``position does not exist`` if the account holds none)."""
    return _one_of(open_positions(ctx, account_id), text)


def _one_of(held: Sequence[HeldPosition], text: str) -> HeldPosition:
    symbol = find_symbol((h.symbol for h in held), text)
    if symbol is None:
        raise NotFound("position_not_found", "position does not exist", {"symbol": text})
    return next(h for h in held if h.symbol == symbol)


# --- closing ---------------------------------------------------------------------------------------


def _insufficient(held: HeldPosition, requested: Decimal) -> Forbidden:
    return Forbidden(
        "insufficient_qty_available",
        f"insufficient qty available for order (requested: {requested}, available: {held.available})",
        {
            "available": held.available,
            "existing_qty": abs(held.position.qty),
            "held_for_orders": held.held_for_orders,
            "symbol": held.symbol,
        },
    )


def closing_qty(held: HeldPosition, *, qty: Decimal | None, percentage: Decimal | None) -> Decimal:
    """How much a close takes: ``qty``, ``percentage`` of the position rounded down to the lot, or
    all of it; never more than open orders leave available."""
    if qty is not None and percentage is not None:
        raise Invalid("invalid_request", "give qty or percentage, not both")
    instrument = held.instrument
    size = abs(held.position.qty)
    if qty is not None:
        if not qty.is_finite() or qty <= 0:
            raise Invalid("invalid_request", "qty must be a positive number")
        if not instrument.is_valid_qty(qty):
            raise Invalid("invalid_request", f"qty must be a multiple of {instrument.lot_size}")
        wanted = qty
    elif percentage is not None:
        if not percentage.is_finite() or not 0 < percentage <= HUNDRED:
            raise Invalid("invalid_request", "percentage must be greater than 0 and at most 100")
        exponent = percentage.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < PERCENT_EXP:
            raise Invalid("invalid_request", "percentage takes at most 9 decimal places")
        wanted = qty_down_to_lot(size * percentage / HUNDRED, instrument)
        if wanted <= 0:
            raise Invalid(
                "invalid_request",
                f"{percentage}% of {size} {held.symbol} is less than one lot ({instrument.lot_size})",
            )
    else:
        wanted = size
    if wanted > held.available:
        raise _insufficient(held, wanted)
    return wanted


def close_position(
    ctx: ServiceContext,
    account_id: AccountId,
    text: str,
    *,
    qty: Decimal | None = None,
    percentage: Decimal | None = None,
) -> Submitted:
    """Close all or part of a position with a market order on the other side (Alpaca's
    ``DELETE /v2/positions/{symbol}``); returns the order as the engine accepted it."""
    with account_tx(ctx.engine, account_id) as tx:
        return _close_in(ctx, tx, text, qty=qty, percentage=percentage)


def _close_in(
    ctx: ServiceContext,
    tx: AccountTx,
    text: str,
    *,
    qty: Decimal | None = None,
    percentage: Decimal | None = None,
) -> Submitted:
    """Close a position inside the caller's transaction: what is held and what open orders hold of
    it are read under the account's lock, so the close cannot reverse it into a new position."""
    held = _one_of(_held_positions(tx.uow, tx.state.account_id, tx.state, ctx.clock()), text)
    wanted = closing_qty(held, qty=qty, percentage=percentage)
    position = held.position
    crypto = position.instrument.asset_class is AssetClass.CRYPTO
    request = OrderRequest(
        client_order_id=ctx.ids(),
        symbol=position.symbol,
        side=Side.SELL if position.qty > 0 else Side.BUY,
        type=OrderType.MARKET,
        time_in_force=TimeInForce.GTC if crypto else TimeInForce.DAY,
        qty=wanted,
        asset_class=position.instrument.asset_class,
    )
    return orders.submit_order_in(ctx, tx, request)


@dataclass(frozen=True, slots=True)
class Closed:
    """The outcome of closing one position of a close-all: the order, or why it was refused."""

    symbol: str
    submitted: Submitted | None = None
    error: ServiceError | None = None


def close_all(ctx: ServiceContext, account_id: AccountId, *, cancel_orders: bool = False) -> list[Closed]:
    """Close every position, each by its own order (one refusal does not stop the others);
    ``cancel_orders`` cancels every open order first, so that none holds a position's quantity.

    One transaction: each close is a savepoint in it, so a refused close is undone alone."""
    with account_tx(ctx.engine, account_id) as tx:
        if cancel_orders:
            orders.cancel_all_in(ctx, tx)
        results: list[Closed] = []
        for symbol in sorted(tx.state.positions):
            tx.reload()
            try:
                with savepoint(tx.uow):
                    submitted = _close_in(ctx, tx, symbol)
            except ServiceError as exc:
                results.append(Closed(symbol, error=exc))
            except CommandRejected as exc:
                results.append(Closed(symbol, error=Refused(exc.code, exc.message)))
            else:
                results.append(Closed(symbol, submitted=submitted))
    return results


# --- exercise ----------------------------------------------------------------------------------------


def position_history(ctx: ServiceContext, account_id: AccountId, page: Page) -> list[PositionRecord]:
    """The account's closed positions in the order they closed (see :mod:`propdesk.store.position_history`)."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        uow.accounts.get(account_id)
        return uow.position_history.page(account_id, page)
