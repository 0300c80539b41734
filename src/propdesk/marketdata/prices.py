"""The price store's read side: the one interface execution reads prices through.

Execution asks for the latest quote of the symbols it is about to trade or mark, and for bars
after a time (resting orders are evaluated bar by bar). :class:`PriceReader` is that interface;
:class:`StorePriceReader` serves it from the database, :class:`MemoryPriceReader` from memory
(tests, backtests).

A reader returns quotes *with their time* and never judges them: whether a quote is too old is
the caller's policy (``max_quote_age_seconds``), measured on the caller's clock — the wall clock
live, the replay clock in a replay. :func:`fresh_quotes` applies that rule with exactly the
semantics of the ``price_stale`` gate: a quote is stale when ``now − time > max_age``; a quote
exactly ``max_age`` old is still fresh, and one stamped after ``now`` (clock skew) counts as
fresh. A stale quote is dropped, so it counts as missing: the engine never guesses a price.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy.engine import Engine

from propdesk.marketdata.clock import Clock, now_of
from propdesk.model.market import Bar, Quote
from propdesk.store.prices import PriceRepository
from propdesk.store.uow import UnitOfWork


@runtime_checkable
class PriceReader(Protocol):
    """Latest quotes and bars, as execution needs them."""

    def latest_quotes(
        self, symbols: Iterable[str], *, at_or_before: datetime | None = None
    ) -> dict[str, Quote]:
        """The newest quote of each symbol that has one (symbols without one are absent)."""
        ...

    def bars_after(
        self, symbol: str, timeframe: str, after: datetime | None, *, limit: int | None = None
    ) -> list[Bar]:
        """Bars starting strictly after ``after``, oldest first."""
        ...


def is_stale(quote: Quote, *, max_age: timedelta, now: datetime) -> bool:
    """Whether ``quote`` is older than ``max_age`` at ``now`` (the ``price_stale`` gate's rule)."""
    return now - quote.time > max_age


def fresh_quotes(quotes: Mapping[str, Quote], *, max_age: timedelta, now: datetime) -> dict[str, Quote]:
    """Only the quotes no older than ``max_age`` at ``now``; a stale quote counts as missing."""
    return {symbol: q for symbol, q in quotes.items() if not is_stale(q, max_age=max_age, now=now)}


def latest_fresh_quotes(
    reader: PriceReader, symbols: Iterable[str], *, max_age: timedelta, clock: Clock
) -> dict[str, Quote]:
    """The latest quotes that are fresh on ``clock``, not after its ``now`` (no look-ahead in replay)."""
    now = now_of(clock)
    return fresh_quotes(reader.latest_quotes(symbols, at_or_before=now), max_age=max_age, now=now)


class StorePriceReader:
    """A :class:`PriceReader` over the database; each call reads one consistent snapshot.

    Inside a service's own transaction use ``PriceRepository(uow.connection)`` instead, which
    has the same methods.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def latest_quotes(
        self, symbols: Iterable[str], *, at_or_before: datetime | None = None
    ) -> dict[str, Quote]:
        with UnitOfWork(self._engine, read_only=True) as uow:
            return PriceRepository(uow.connection).latest_quotes(symbols, at_or_before=at_or_before)

    def latest_quote(self, symbol: str, *, at_or_before: datetime | None = None) -> Quote | None:
        return self.latest_quotes([symbol], at_or_before=at_or_before).get(symbol)

    def bars_after(
        self, symbol: str, timeframe: str, after: datetime | None, *, limit: int | None = None
    ) -> list[Bar]:
        with UnitOfWork(self._engine, read_only=True) as uow:
            return PriceRepository(uow.connection).bars_after(symbol, timeframe, after, limit=limit)


class MemoryPriceReader:
    """A :class:`PriceReader` over quotes and bars held in memory (tests, backtests)."""

    def __init__(self, quotes: Iterable[Quote] = (), bars: Iterable[Bar] = ()) -> None:
        self._quotes: dict[str, list[Quote]] = {}
        self._bars: dict[tuple[str, str], list[Bar]] = {}
        self.add_quotes(quotes)
        self.add_bars(bars)

    def add_quotes(self, quotes: Iterable[Quote]) -> None:
        for quote in quotes:
            series = self._quotes.setdefault(quote.symbol, [])
            times = [q.time for q in series]
            index = bisect.bisect_left(times, quote.time)
            if index < len(series) and series[index].time == quote.time:
                continue  # like the store: the first quote at a time is kept
            series.insert(index, quote)

    def add_bars(self, bars: Iterable[Bar]) -> None:
        for bar in bars:
            series = self._bars.setdefault((bar.symbol, bar.timeframe), [])
            starts = [b.start for b in series]
            index = bisect.bisect_left(starts, bar.start)
            if index < len(series) and series[index].start == bar.start:
                continue
            series.insert(index, bar)

    def latest_quotes(
        self, symbols: Iterable[str], *, at_or_before: datetime | None = None
    ) -> dict[str, Quote]:
        found: dict[str, Quote] = {}
        for symbol in set(symbols):
            series: Sequence[Quote] = self._quotes.get(symbol, [])
            if at_or_before is not None:
                series = series[: bisect.bisect_right([q.time for q in series], at_or_before)]
            if series:
                found[symbol] = series[-1]
        return found

    def bars_after(
        self, symbol: str, timeframe: str, after: datetime | None, *, limit: int | None = None
    ) -> list[Bar]:
        series = self._bars.get((symbol, timeframe), [])
        start = 0 if after is None else bisect.bisect_right([b.start for b in series], after)
        chosen = series[start:]
        return chosen if limit is None else chosen[:limit]
