"""The price store over SQL: quotes, bars, the market-data access log and the watchlist.

Writes are idempotent: a quote or bar already stored under its key (symbol and time, or symbol,
timeframe and start) is left as it is, so re-running an ingestion or an import adds nothing.

Reads are shaped for execution: :meth:`PriceRepository.latest_quotes` finds the newest quote of
many symbols in one statement that probes the (symbol, time) primary key once per symbol, on
both backends, instead of scanning every stored quote of those symbols:

* PostgreSQL: ``unnest(:symbols)`` joined ``LATERAL`` to ``ORDER BY time DESC LIMIT 1`` (an index
  scan backward that stops at the first row).
* SQLite (no LATERAL): ``json_each(:symbols)`` joined on ``time = (SELECT max(time) … WHERE
  symbol = s)``, which SQLite answers from the index without reading the symbol's other rows.

Either way the symbol list is a single bound parameter, so a thousand symbols need no chunking
and the statement text stays the same (cacheable) whatever their number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, RowMapping

from propdesk.model.market import Bar, Quote
from propdesk.store._sql import insert_on_conflict
from propdesk.store.tables import accounts, bars, market_data_access_log, positions, quotes, watchlist

# Rows per INSERT statement batch; large imports are written in slices of this size.
WRITE_BATCH = 2_000


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


def _quote(row: RowMapping) -> Quote:
    return Quote(
        symbol=row["symbol"],
        time=row["time"],
        bid=row["bid"],
        ask=row["ask"],
        last=row["last"],
        bid_size=row["bid_size"],
        ask_size=row["ask_size"],
    )


class PriceRepository:
    """Quotes and bars over the caller's connection (so reads can share a service's transaction).

    It satisfies :class:`propdesk.marketdata.prices.PriceReader`, so a service that already
    holds a unit of work can hand ``PriceRepository(uow.connection)`` to code expecting a reader.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # --- quotes ----------------------------------------------------------------------------------

    def write_quotes(self, items: Iterable[Quote], *, source: str) -> None:
        """Store quotes from ``source``; a quote already stored for its symbol and time is kept."""
        rows = [_quote_values(q, source) for q in items]
        for start in range(0, len(rows), WRITE_BATCH):
            insert_on_conflict(self._conn, quotes, rows[start : start + WRITE_BATCH], keys=("symbol", "time"))

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
        return None if row is None else _quote(row)

    def latest_quotes(
        self, symbols: Iterable[str], *, at_or_before: datetime | None = None
    ) -> dict[str, Quote]:
        """The newest quote of each of ``symbols`` that has one (not after ``at_or_before``).

        Symbols without a quote are simply absent: the caller decides that a missing price
        refuses the action. One statement, one primary-key probe per symbol (see the module doc).
        """
        wanted = sorted(set(symbols))
        if not wanted:
            return {}
        if self._conn.dialect.name == "postgresql":
            stmt = self._latest_postgres(wanted, at_or_before)
        else:
            stmt = self._latest_sqlite(wanted, at_or_before)
        return {row["symbol"]: _quote(row) for row in self._conn.execute(stmt).mappings()}

    @staticmethod
    def _latest_postgres(symbols: list[str], at_or_before: datetime | None) -> sa.Select[Any]:
        wanted = (
            sa.func.unnest(sa.bindparam("symbols", symbols, type_=postgresql.ARRAY(sa.String())))
            .table_valued("symbol")
            .render_derived(name="wanted")
        )
        newest = sa.select(quotes).where(quotes.c.symbol == wanted.c.symbol)
        if at_or_before is not None:
            newest = newest.where(quotes.c.time <= at_or_before)
        latest = newest.order_by(quotes.c.time.desc()).limit(1).lateral("latest")
        return sa.select(latest).select_from(wanted).join(latest, sa.true())

    @staticmethod
    def _latest_sqlite(symbols: list[str], at_or_before: datetime | None) -> sa.Select[Any]:
        wanted = sa.func.json_each(sa.bindparam("symbols", json.dumps(symbols))).table_valued("value")
        wanted = wanted.alias("wanted")
        inner = quotes.alias("inner_quotes")
        newest_time = sa.select(sa.func.max(inner.c.time)).where(inner.c.symbol == wanted.c.value)
        if at_or_before is not None:
            newest_time = newest_time.where(inner.c.time <= at_or_before)
        return (
            sa.select(quotes)
            .select_from(wanted)
            .join(quotes, quotes.c.symbol == wanted.c.value)
            .where(quotes.c.time == newest_time.scalar_subquery())
        )

    def quote_source(self, symbol: str, time: datetime) -> str | None:
        """Where the quote of ``symbol`` at ``time`` came from (audits of a fill's price)."""
        stmt = sa.select(quotes.c.source).where(quotes.c.symbol == symbol, quotes.c.time == time)
        return self._conn.execute(stmt).scalar_one_or_none()

    def quotes_between(self, symbol: str, after: datetime, until: datetime) -> list[Quote]:
        """Quotes of ``symbol`` with ``after < time <= until``, oldest first (a key range scan)."""
        stmt = (
            sa.select(quotes)
            .where(quotes.c.symbol == symbol, quotes.c.time > after, quotes.c.time <= until)
            .order_by(quotes.c.time)
        )
        return [_quote(row) for row in self._conn.execute(stmt).mappings()]

    def quote_at(self, symbol: str, time: datetime) -> Quote | None:
        """The quote stored for exactly ``symbol`` and ``time``, if any."""
        stmt = sa.select(quotes).where(quotes.c.symbol == symbol, quotes.c.time == time)
        row = self._conn.execute(stmt).mappings().one_or_none()
        return None if row is None else _quote(row)

    def count_quotes(self, symbol: str | None = None) -> int:
        stmt = sa.select(sa.func.count()).select_from(quotes)
        if symbol is not None:
            stmt = stmt.where(quotes.c.symbol == symbol)
        return int(self._conn.execute(stmt).scalar_one())

    # --- bars ------------------------------------------------------------------------------------

    def insert_bars(self, items: Sequence[Bar]) -> None:
        """Store bars; a bar already stored for its symbol, timeframe and start is kept."""
        rows = [_bar_values(b) for b in items]
        for start in range(0, len(rows), WRITE_BATCH):
            insert_on_conflict(
                self._conn, bars, rows[start : start + WRITE_BATCH], keys=("symbol", "timeframe", "start")
            )

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

    def bars_after(
        self, symbol: str, timeframe: str, after: datetime | None, *, limit: int | None = None
    ) -> list[Bar]:
        """Bars of ``symbol`` starting strictly after ``after`` (all if None), oldest first.

        A primary-key range scan; ``limit`` lets a replay page through long histories.
        """
        stmt = sa.select(bars).where(bars.c.symbol == symbol, bars.c.timeframe == timeframe)
        if after is not None:
            stmt = stmt.where(bars.c.start > after)
        stmt = stmt.order_by(bars.c.start)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_bar(row) for row in self._conn.execute(stmt).mappings()]

    def bars_before(
        self, symbol: str, timeframe: str, at_or_before: datetime, *, limit: int = 1
    ) -> list[Bar]:
        """The newest ``limit`` bars of ``symbol`` starting at or before ``at_or_before``, newest first."""
        stmt = (
            sa.select(bars)
            .where(bars.c.symbol == symbol, bars.c.timeframe == timeframe, bars.c.start <= at_or_before)
            .order_by(bars.c.start.desc())
            .limit(limit)
        )
        return [_bar(row) for row in self._conn.execute(stmt).mappings()]

    def last_bars_before(self, symbols: Sequence[str], timeframe: str, before: datetime) -> dict[str, Bar]:
        """Each symbol's newest ``timeframe`` bar starting strictly before ``before``, in one statement."""
        if not symbols:
            return {}
        newest = (
            sa.select(bars.c.symbol, sa.func.max(bars.c.start).label("start"))
            .where(bars.c.symbol.in_(list(symbols)), bars.c.timeframe == timeframe, bars.c.start < before)
            .group_by(bars.c.symbol)
            .subquery()
        )
        stmt = sa.select(bars).join(
            newest,
            sa.and_(
                bars.c.symbol == newest.c.symbol,
                bars.c.start == newest.c.start,
                bars.c.timeframe == timeframe,
            ),
        )
        return {row["symbol"]: _bar(row) for row in self._conn.execute(stmt).mappings()}

    def count_bars(self, symbol: str, timeframe: str) -> int:
        stmt = (
            sa.select(sa.func.count())
            .select_from(bars)
            .where(bars.c.symbol == symbol, bars.c.timeframe == timeframe)
        )
        return int(self._conn.execute(stmt).scalar_one())

    def bar_symbols(self, timeframe: str | None = None) -> list[str]:
        """Symbols with stored bars (in ``timeframe`` if given), sorted."""
        stmt = sa.select(bars.c.symbol).distinct()
        if timeframe is not None:
            stmt = stmt.where(bars.c.timeframe == timeframe)
        return sorted(self._conn.execute(stmt).scalars())

    def priced_symbols(self) -> list[str]:
        """Every symbol with a stored quote or bar, sorted (the asset catalogue's price half).

        A loose index scan (a recursive walk from one symbol to the next larger one over the
        primary key) on both tables: one index probe per distinct symbol, however many quotes
        and bars each holds, where ``SELECT DISTINCT`` would read them all.
        """
        found: set[str] = set()
        for table in (quotes, bars):  # table names are constants, not input
            walk = sa.text(
                f"WITH RECURSIVE walk(symbol) AS ("
                f" SELECT (SELECT min(symbol) FROM {table.name})"
                f" UNION ALL"
                f" SELECT (SELECT min(symbol) FROM {table.name} WHERE symbol > walk.symbol)"
                f" FROM walk WHERE walk.symbol IS NOT NULL"
                f") SELECT symbol FROM walk WHERE symbol IS NOT NULL"
            )
            found.update(self._conn.execute(walk).scalars())
        return sorted(found)


@dataclass(frozen=True, slots=True)
class AccessLogRow:
    user_id: str
    symbol: str
    data_type: str
    at: datetime
    source: str


class AccessLogRepository:
    """The market-data access log: appended by fetches on behalf of users, purged by retention."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record(self, rows: Sequence[AccessLogRow]) -> None:
        if rows:
            self._conn.execute(
                sa.insert(market_data_access_log),
                [
                    {
                        "user_id": r.user_id,
                        "symbol": r.symbol,
                        "data_type": r.data_type,
                        "at": r.at,
                        "source": r.source,
                    }
                    for r in rows
                ],
            )

    def rows(self, *, user_id: str | None = None) -> list[AccessLogRow]:
        """Rows in the order they were written (optionally one user's)."""
        table = market_data_access_log
        stmt = sa.select(table.c.user_id, table.c.symbol, table.c.data_type, table.c.at, table.c.source)
        if user_id is not None:
            stmt = stmt.where(table.c.user_id == user_id)
        return [AccessLogRow(**row) for row in self._conn.execute(stmt.order_by(table.c.id)).mappings()]

    def purge_before(self, cutoff: datetime) -> int:
        """Delete rows strictly older than ``cutoff``; returns how many went."""
        result = self._conn.execute(
            sa.delete(market_data_access_log).where(market_data_access_log.c.at < cutoff)
        )
        return int(result.rowcount)


class WatchlistRepository:
    """Symbols watched per account, and the set of symbols the ingestion job must keep quoted."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, account_id: str, symbol: str, at: datetime) -> None:
        """Watch ``symbol`` for ``account_id`` (already watched: nothing changes)."""
        row = {"account_id": account_id, "symbol": symbol, "created_at": at}
        insert_on_conflict(self._conn, watchlist, [row], keys=("account_id", "symbol"))

    def remove(self, account_id: str, symbol: str) -> bool:
        stmt = sa.delete(watchlist).where(watchlist.c.account_id == account_id, watchlist.c.symbol == symbol)
        return bool(self._conn.execute(stmt).rowcount)

    def symbols(self, account_id: str) -> list[str]:
        stmt = sa.select(watchlist.c.symbol).where(watchlist.c.account_id == account_id)
        return sorted(self._conn.execute(stmt.order_by(watchlist.c.symbol)).scalars())

    def active_symbols(self, statuses: Sequence[str] = ("active",)) -> list[str]:
        """Symbols held (a position row) or watched by accounts in ``statuses``, sorted and unique."""
        held = (
            sa.select(positions.c.symbol)
            .join(accounts, accounts.c.id == positions.c.account_id)
            .where(accounts.c.status.in_(statuses))
        )
        watched = (
            sa.select(watchlist.c.symbol)
            .join(accounts, accounts.c.id == watchlist.c.account_id)
            .where(accounts.c.status.in_(statuses))
        )
        return sorted(set(self._conn.execute(sa.union(held, watched)).scalars()))


def access_log_rows(
    user_id: str, symbols: Iterable[str], *, data_type: str, at: datetime, source: str
) -> list[AccessLogRow]:
    """One access-log row per symbol delivered to ``user_id`` by one fetch."""
    return [AccessLogRow(user_id, symbol, data_type, at, source) for symbol in sorted(set(symbols))]


def stored_bars_by_start(
    conn: Connection, symbol: str, timeframe: str, first: datetime, last: datetime
) -> Mapping[datetime, Bar]:
    """Stored bars of ``symbol`` with ``first <= start <= last``, keyed by start (for import diffs)."""
    stmt = sa.select(bars).where(
        bars.c.symbol == symbol, bars.c.timeframe == timeframe, bars.c.start >= first, bars.c.start <= last
    )
    return {row["start"]: _bar(row) for row in conn.execute(stmt).mappings()}
