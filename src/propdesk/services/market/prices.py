"""Market-data use cases: manual prices, bar-file imports, watchlists and fetches for users.

Each function is one transaction. Manual prices are an operator action: they are written with
source ``manual`` and leave an ``admin_audit_log`` row (actor, reason, the symbol's previous
latest quote as ``before``, the new quote as ``after``) in the same transaction, with no
account (a price is market-wide). The admin HTTP route and ``propdesk data quote`` both call
:func:`write_manual_quote`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from propdesk.marketdata.clock import Clock, now_of
from propdesk.marketdata.files import BarFormat, Progress, read_bars
from propdesk.marketdata.sources import QuoteSource
from propdesk.model.ids import AccountId
from propdesk.model.market import Bar, Quote
from propdesk.store.prices import PriceRepository, WatchlistRepository, stored_bars_by_start
from propdesk.store.tables import admin_audit_log
from propdesk.store.uow import UnitOfWork

MANUAL_SOURCE = "manual"
MANUAL_QUOTE_ACTION = "market_data.manual_quote"
MANUAL_BARS_ACTION = "market_data.manual_bars"
_TINY = timedelta(microseconds=1)


class QuoteConflict(ValueError):
    """A different quote is already stored for that symbol and time; stored prices are not rewritten."""


def quote_json(quote: Quote, source: str | None = None) -> dict[str, Any]:
    """A quote as JSON for audit rows: decimals as strings, time ISO 8601 UTC."""
    data: dict[str, Any] = {
        "symbol": quote.symbol,
        "time": quote.time.isoformat(),
        "bid": str(quote.bid),
        "ask": str(quote.ask),
        "last": None if quote.last is None else str(quote.last),
        "bid_size": str(quote.bid_size),
        "ask_size": str(quote.ask_size),
    }
    if source is not None:
        data["source"] = source
    return data


def _audit(
    conn: Connection, *, actor: str, action: str, reason: str, before: Any, after: Any, at: datetime
) -> None:
    conn.execute(
        sa.insert(admin_audit_log).values(
            account_id=None, actor=actor, action=action, reason=reason, before=before, after=after, at=at
        )
    )


@dataclass(frozen=True, slots=True)
class ManualQuoteResult:
    quote: Quote
    written: bool  # False: the identical quote was already stored (a retry), nothing changed


def write_manual_quote(
    engine: Engine, quote: Quote, *, actor: str, reason: str, clock: Clock
) -> ManualQuoteResult:
    """Store an operator's quote and audit it; retrying the same quote changes nothing.

    A *different* quote already stored at the same symbol and time raises
    :class:`QuoteConflict` and stores nothing: prices that fills may have used are never
    rewritten; write a newer quote instead.
    """
    if not actor.strip() or not reason.strip():
        raise ValueError("a manual quote needs an actor and a reason")
    with UnitOfWork(engine) as uow:
        prices = PriceRepository(uow.connection)
        existing = prices.quote_at(quote.symbol, quote.time)
        if existing is not None:
            if existing == quote:
                return ManualQuoteResult(existing, written=False)
            raise QuoteConflict(
                f"{quote.symbol} already has a different quote at {quote.time.isoformat()} "
                f"(bid {existing.bid}, ask {existing.ask}); write a newer one instead"
            )
        previous = prices.latest_quote(quote.symbol)
        prices.write_quote(quote, source=MANUAL_SOURCE)
        if prices.quote_at(quote.symbol, quote.time) != quote:  # a concurrent writer got there first
            raise QuoteConflict(f"{quote.symbol} at {quote.time.isoformat()} was written concurrently")
        _audit(
            uow.connection,
            actor=actor,
            action=MANUAL_QUOTE_ACTION,
            reason=reason,
            before=None if previous is None else quote_json(previous),
            after=quote_json(quote, MANUAL_SOURCE),
            at=now_of(clock),
        )
        uow.commit()
    return ManualQuoteResult(quote, written=True)


def write_manual_bars(engine: Engine, bars: Sequence[Bar], *, actor: str, reason: str, clock: Clock) -> int:
    """Store an operator's bars (existing bars are kept) and audit them; returns how many were new."""
    if not actor.strip() or not reason.strip():
        raise ValueError("manual bars need an actor and a reason")
    if not bars:
        return 0
    with UnitOfWork(engine) as uow:
        prices = PriceRepository(uow.connection)
        new = [b for b in bars if not prices.bars(b.symbol, b.timeframe, start=b.start, end=b.start + _TINY)]
        prices.insert_bars(new)
        if new:
            after = {
                "bars": [
                    {
                        "symbol": b.symbol,
                        "timeframe": b.timeframe,
                        "start": b.start.isoformat(),
                        "close": str(b.close),
                    }
                    for b in new
                ]
            }
            _audit(
                uow.connection,
                actor=actor,
                action=MANUAL_BARS_ACTION,
                reason=reason,
                before=None,
                after=after,
                at=now_of(clock),
            )
        uow.commit()
    return len(new)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did. ``conflicting`` rows had a stored bar with other values: the stored one is kept."""

    path: Path
    symbol: str
    format: str
    timeframe: str
    zone: str
    rows: int
    inserted: int
    unchanged: int
    conflicting: int
    first: datetime | None
    last: datetime | None


def import_bar_file(
    engine: Engine,
    path: Path,
    symbol: str,
    *,
    format: BarFormat | str | None = None,
    zone: str | ZoneInfo | None = None,
    timeframe: str | None = None,
    read_progress: Progress | None = None,
    write_progress: Progress | None = None,
) -> ImportReport:
    """Import every bar of ``path`` as ``symbol`` in one transaction, or nothing.

    The whole file is read and checked first (:class:`~propdesk.marketdata.files.BarFileError`
    names every bad line, and nothing is written). Bars already stored under the same key are
    kept, so importing a file twice changes nothing; those whose stored values differ are
    counted as ``conflicting``.
    """
    bar_file = read_bars(path, symbol, format=format, zone=zone, timeframe=timeframe, progress=read_progress)
    bars = bar_file.bars
    first = bars[0].start if bars else None
    last = bars[-1].start if bars else None
    inserted = unchanged = conflicting = 0
    with UnitOfWork(engine) as uow:
        if first is not None and last is not None:
            stored = stored_bars_by_start(uow.connection, symbol, bar_file.timeframe, first, last)
            new: list[Bar] = []
            for bar in bars:
                existing = stored.get(bar.start)
                if existing is None:
                    new.append(bar)
                elif existing == bar:
                    unchanged += 1
                else:
                    conflicting += 1
            prices = PriceRepository(uow.connection)
            step = 5_000
            for index in range(0, len(new), step):
                prices.insert_bars(new[index : index + step])
                if write_progress is not None:
                    write_progress(min(index + step, len(new)), len(new))
            inserted = len(new)
        uow.commit()
    return ImportReport(
        path,
        symbol,
        bar_file.format.value,
        bar_file.timeframe,
        bar_file.zone,
        len(bars),
        inserted,
        unchanged,
        conflicting,
        first,
        last,
    )


def watch(engine: Engine, account_id: AccountId, symbol: str, *, clock: Clock) -> None:
    """Keep ``symbol`` quoted for ``account_id`` (the ingestion job polls watched symbols)."""
    with UnitOfWork(engine) as uow:
        uow.accounts.get(account_id)  # raises for an unknown account
        WatchlistRepository(uow.connection).add(account_id, symbol, now_of(clock))
        uow.commit()


def unwatch(engine: Engine, account_id: AccountId, symbol: str) -> bool:
    """Stop watching; returns whether the symbol was watched."""
    with UnitOfWork(engine) as uow:
        removed = WatchlistRepository(uow.connection).remove(account_id, symbol)
        uow.commit()
    return removed


def fetch_quotes(
    engine: Engine, source: QuoteSource, symbols: Sequence[str], *, user: str | None, store: bool = True
) -> dict[str, Quote]:
    """Fetch the latest quotes of ``symbols`` (on behalf of ``user``: the source logs the access)
    and, with ``store``, write them to the price store. A source error stores nothing."""
    quotes = source.latest_quotes(symbols, on_behalf_of=user)
    if store and quotes:
        with UnitOfWork(engine) as uow:
            PriceRepository(uow.connection).write_quotes(quotes.values(), source=source.name)
            uow.commit()
    return quotes
