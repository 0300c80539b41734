"""The resting-order evaluator: feed every market event since the last run to an account's open orders.

For one account, in one transaction under its lock: the quotes and (complete) bars of the symbols
its open orders trade, plus a session-close event per calendar close, all from the last evaluated
time (the account's cursor, or its oldest open order) up to the horizon, merged in time order
(session opens, then quotes, then bars, then closes at equal times; symbols alphabetically).
The book fills, expires and activates orders tick by tick, exactly as it would have had each
event been fed as it arrived, so an evaluator that was down catches up to the same fills. The
cursor records how many events the run processed; above ``orders_catch_up_notice`` the account
is told that fills may have been delayed.

A bar becomes known at its end, so a bar tick is stamped with its end (fills from it carry that
time) but is only seen by orders placed at or before its start. A daily bar is the whole
session: it begins at the session open and is known at the close.

A session-open event is added for the symbols of orders accepted while the market was closed:
they go live (``new``) at the open itself, as on Alpaca, not at the session's first quote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from propdesk.execution.order_book.book import OrderBook
from propdesk.execution.order_book.requests import Tick
from propdesk.execution.spread_orders import evaluate_spreads, spread_symbols
from propdesk.marketdata.calendars import TradingCalendar, calendar_for
from propdesk.marketdata.timeframes import timeframe_duration
from propdesk.model.ids import AccountId
from propdesk.model.market import Bar, Quote
from propdesk.model.orders import Order, OrderClass, OrderStatus
from propdesk.services.accounts.commands import policy_of
from propdesk.services.context import ServiceContext
from propdesk.services.orders.book_runner import AssetResolver, store_book
from propdesk.store.orders import EvaluationCursor
from propdesk.store.uow import UnitOfWork

_RANK = {"open": -1, "quote": 0, "bar": 1, "close": 2}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One account's run: how many market events it processed and how many fills they made."""

    account_id: AccountId
    ticks: int
    fills: int
    evaluated_through: datetime | None
    delayed: bool = False


def _bar_ticks(
    bars: list[Bar], calendar: TradingCalendar | None, duration: timedelta, after: datetime, until: datetime
) -> list[Tick]:
    ticks: list[Tick] = []
    daily = duration >= timedelta(days=1)
    for bar in bars:
        if daily and calendar is not None:
            session = calendar.session(bar.start.astimezone(calendar.zone).date())
            if session is None:
                continue
            begins, known = session.open, session.close
            in_session = True
        else:
            begins, known = bar.start, bar.start + duration
            in_session = calendar is None or calendar.is_open(bar.start)
        if after < known <= until:
            ticks.append(Tick(bar.symbol, known, bar=bar, in_session=in_session, starts=begins))
    return ticks


def _close_ticks(
    symbol: str,
    calendar: TradingCalendar,
    events: list[Tick],
    uow: UnitOfWork,
    after: datetime,
    until: datetime,
) -> list[Tick]:
    ticks: list[Tick] = []
    for session in calendar.sessions(after.date() - timedelta(days=1), until.date() + timedelta(days=1)):
        if not after < session.close <= until:
            continue
        last_quote: Quote | None = None
        last_bar: Bar | None = None
        for tick in events:
            if tick.at <= session.close and tick.begins >= session.open:
                last_quote = tick.quote or last_quote
                last_bar = tick.bar or last_bar
        if last_quote is None and last_bar is None:
            stored = uow.prices.latest_quote(symbol, at_or_before=session.close)
            if stored is not None and stored.time >= session.open:
                last_quote = stored
        ticks.append(
            Tick(
                symbol,
                session.close,
                quote=last_quote if last_bar is None else None,
                bar=last_bar,
                closes_session=True,
            )
        )
    return ticks


def _open_ticks(symbol: str, calendar: TradingCalendar, after: datetime, until: datetime) -> list[Tick]:
    """A session-open event per open in (after, until]: orders accepted while the market was
    closed go live then (Alpaca's ``new``), even before the session's first quote."""
    sessions = calendar.sessions(after.date() - timedelta(days=1), until.date() + timedelta(days=1))
    return [Tick(symbol, s.open, opens_session=True) for s in sessions if after < s.open <= until]


def _kind(tick: Tick) -> str:
    if tick.opens_session:
        return "open"
    if tick.closes_session:
        return "close"
    return "bar" if tick.bar is not None else "quote"


def _ticks(
    uow: UnitOfWork, orders: list[Order], after: datetime, until: datetime, timeframe: str
) -> list[Tick]:
    duration = timeframe_duration(timeframe) or timedelta(days=1)
    ticks: list[tuple[datetime, int, str, Tick]] = []
    symbols = sorted({(o.symbol, o.asset_class) for o in orders if o.order_class is not OrderClass.MLEG})
    waiting = {o.symbol for o in orders if o.status is OrderStatus.ACCEPTED}
    for symbol, asset_class in symbols:
        calendar = calendar_for(asset_class)
        events = [
            Tick(symbol, q.time, quote=q, in_session=calendar is None or calendar.is_open(q.time))
            for q in uow.prices.quotes_between(symbol, after, until)
        ]
        bars = uow.prices.bars(symbol, timeframe, start=after - duration, end=until)
        events += _bar_ticks(bars, calendar, duration, after, until)
        closes = [] if calendar is None else _close_ticks(symbol, calendar, events, uow, after, until)
        opens = (
            [] if calendar is None or symbol not in waiting else _open_ticks(symbol, calendar, after, until)
        )
        for tick in opens + events + closes:
            ticks.append((tick.at, _RANK[_kind(tick)], symbol, tick))
    ticks.sort(key=lambda item: item[:3])
    return [item[3] for item in ticks]


def _symbols(orders: list[Order]) -> list[str]:
    return sorted({o.symbol for o in orders if o.order_class is not OrderClass.MLEG})


def _late_quotes(
    orders: list[Order], latest: Mapping[str, Quote], cursor: EvaluationCursor | None, after: datetime
) -> list[Tick]:
    """Quotes stored after a run had already passed their time: live data arrives late (an
    ingestion poll, a quote typed by hand, a slow writer), and the window the cursor moved over
    never saw it. A symbol's latest quote that is older than the window yet newer than the latest
    the previous run saw is fed once, at the start of this run; orders placed after it began
    ignore it as usual."""
    seen = cursor.latest_quotes if cursor is not None else {}
    ticks: list[Tick] = []
    for o in orders:
        quote = latest.get(o.symbol)
        if quote is None or quote.time > after or (o.symbol in seen and quote.time <= seen[o.symbol]):
            continue
        if any(t.symbol == o.symbol for t in ticks) or quote.time <= o.created_at:
            continue
        calendar = calendar_for(o.asset_class)
        in_session = calendar is None or calendar.is_open(quote.time)
        ticks.append(Tick(o.symbol, after, quote=quote, in_session=in_session, starts=quote.time))
    return sorted(ticks, key=lambda t: t.symbol)


def evaluate_account(
    ctx: ServiceContext, account_id: AccountId, *, until: datetime | None = None
) -> Evaluation:
    """Feed the account's open orders every market event up to ``until`` (default: now)."""
    horizon = until or ctx.clock()
    with UnitOfWork(ctx.engine) as uow:
        account = uow.lock_account(account_id)
        loaded = uow.orders.open_orders(account_id)
        cursor = uow.orders.cursor(account_id)
        if not loaded:
            return Evaluation(account_id, 0, 0, cursor.evaluated_through if cursor else None)
        # Quotes up to an order's acceptance were tried at acceptance; events after it are new.
        oldest = min(o.created_at for o in loaded)
        after = oldest if cursor is None else max(cursor.evaluated_through, oldest)
        if after >= horizon:
            return Evaluation(account_id, 0, 0, after)
        ticks = _ticks(uow, loaded, after, horizon, ctx.settings.orders_bar_timeframe)
        latest = uow.prices.latest_quotes(_symbols(loaded), at_or_before=horizon)
        ticks = _late_quotes(loaded, latest, cursor, after) + ticks
        book = OrderBook.of(
            uow.accounts.load_state(account_id),
            policy_of(account),
            loaded,
            resolve=AssetResolver(uow),
            new_id=ctx.ids,
        )
        for tick in ticks:
            book.on_tick(tick)
        legs = spread_symbols(loaded)
        if legs:
            latest = uow.prices.latest_quotes(legs, at_or_before=horizon)
            evaluate_spreads(book, dict(latest), horizon)
        store_book(ctx, uow, account, book, known={o.id for o in loaded})
        total = (cursor.total_ticks if cursor else 0) + len(ticks)
        seen = {symbol: quote.time for symbol, quote in latest.items()}
        uow.orders.save_cursor(EvaluationCursor(account_id, horizon, ctx.clock(), len(ticks), total, seen))
        uow.commit()
    return Evaluation(
        account_id,
        len(ticks),
        len(book.fills),
        horizon,
        delayed=len(ticks) > ctx.settings.orders_catch_up_notice,
    )


@dataclass(frozen=True, slots=True)
class EvaluationSweep:
    accounts: int
    ticks: int
    fills: int
    failed: list[str]
    delayed: list[str]


def accounts_with_open_orders(ctx: ServiceContext) -> list[str]:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return uow.orders.accounts_with_open_orders()


def cursor_of(ctx: ServiceContext, account_id: AccountId) -> EvaluationCursor | None:
    """The evaluator's record for an account: how far it got and how much its last run processed."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        uow.accounts.get(account_id)
        return uow.orders.cursor(account_id)
