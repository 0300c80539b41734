"""Quotes and bars: the minimal price store (writes and the reads execution needs).

Writes are idempotent: a quote or bar already stored under its key (symbol and time, or symbol,
timeframe and start) is left as it is, so re-running an ingestion adds nothing. The full price
store (ranges, sources, the data-access log) builds on these tables later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from propdesk.model.market import Bar, Quote
from propdesk.store._sql import insert_on_conflict
from propdesk.store.tables import bars, quotes


def _quote_values(quote: Quote, source: str) -> dict[str, Any]:
    return {
        "symbol": quote.symbol,
        "time": quote.time,
        "bid": quote.bid,
        "ask": quote.ask,
        "last": quote.last,
        "bid_size": quote.bid_size,
        "ask_size": quote.ask_size,
        "source": source,
    }


def _bar_values(bar: Bar) -> dict[str, Any]:
    return {
        "symbol": bar.symbol,
        "timeframe": bar.timeframe,
        "start": bar.start,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
        "vwap": bar.vwap,
        "trade_count": bar.trade_count,
    }


def _bar(row: RowMapping) -> Bar:
    return Bar(
        symbol=row["symbol"],
        timeframe=row["timeframe"],
        start=row["start"],
        open=row["open"],
        high=row["high"],
        low=row["low"],
        close=row["close"],
        volume=row["volume"],
        vwap=row["vwap"],
        trade_count=row["trade_count"],
    )


class PriceRepository:
    """Latest quotes and bars over the caller's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def write_quotes(self, items: Iterable[Quote], *, source: str) -> None:
        """Store quotes from ``source``; a quote already stored for its symbol and time is kept."""
        rows = [_quote_values(q, source) for q in items]
        insert_on_conflict(self._conn, quotes, rows, keys=("symbol", "time"))

    def write_quote(self, quote: Quote, *, source: str) -> None:
        self.write_quotes([quote], source=source)

    def latest_quote(self, symbol: str, *, at_or_before: datetime | None = None) -> Quote | None:
        """The newest quote of ``symbol`` (optionally not after ``at_or_before``), or None.

        Served by the (symbol, time) primary key, scanned backwards.
        """
        stmt = sa.select(quotes).where(quotes.c.symbol == symbol)
        if at_or_before is not None:
            stmt = stmt.where(quotes.c.time <= at_or_before)
        row = self._conn.execute(stmt.order_by(quotes.c.time.desc()).limit(1)).mappings().one_or_none()
        if row is None:
            return None
        return Quote(
            symbol=row["symbol"],
            time=row["time"],
            bid=row["bid"],
            ask=row["ask"],
            last=row["last"],
            bid_size=row["bid_size"],
            ask_size=row["ask_size"],
        )

    def quote_source(self, symbol: str, time: datetime) -> str | None:
        """Where the quote of ``symbol`` at ``time`` came from (audits of a fill's price)."""
        stmt = sa.select(quotes.c.source).where(quotes.c.symbol == symbol, quotes.c.time == time)
        return self._conn.execute(stmt).scalar_one_or_none()

    def insert_bars(self, items: Sequence[Bar]) -> None:
        """Store bars; a bar already stored for its symbol, timeframe and start is kept."""
        rows = [_bar_values(b) for b in items]
        insert_on_conflict(self._conn, bars, rows, keys=("symbol", "timeframe", "start"))

    def bars(
        self, symbol: str, timeframe: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> list[Bar]:
        """Bars of ``symbol`` in ``timeframe`` with ``start <= bar.start < end``, oldest first."""
        stmt = sa.select(bars).where(bars.c.symbol == symbol, bars.c.timeframe == timeframe)
        if start is not None:
            stmt = stmt.where(bars.c.start >= start)
        if end is not None:
            stmt = stmt.where(bars.c.start < end)
        return [_bar(row) for row in self._conn.execute(stmt.order_by(bars.c.start)).mappings()]
