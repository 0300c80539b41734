"""Ingestion job: keep the latest quote of every symbol that active accounts hold or watch.

One run reads the symbols to quote (positions and watchlists of ``active`` accounts, plus any
``extra_symbols``), asks the source for their latest quotes — outside any transaction, since the
source may be the network — and writes the new ones in one transaction under the source's name.

The job is idempotent: a quote already stored (same symbol and time) is not written again, and
a quote older than the newest stored one of its symbol is skipped (a poll is about the latest
price; history comes from imports and replays). Running it twice at the same time adds nothing.

A poll is a system fetch, not a fetch on behalf of a user, so it writes no access-log rows; a
fetch that serves a user passes ``on_behalf_of`` (see :func:`propdesk.services.market.prices.fetch_quotes`).
A source error (a malformed Alpaca response, say) propagates and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from propdesk.marketdata.clock import Clock, now_of
from propdesk.marketdata.sources import QuoteSource
from propdesk.store.prices import PriceRepository, WatchlistRepository
from propdesk.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class IngestionReport:
    """What one poll did: the symbols asked for, quotes received and written, symbols without a quote."""

    at: datetime
    source: str
    symbols: tuple[str, ...]
    received: int
    written: int
    missing: tuple[str, ...]


def symbols_to_quote(engine: Engine, extra_symbols: Sequence[str] = ()) -> list[str]:
    """Symbols held or watched by active accounts, plus ``extra_symbols``, sorted and unique."""
    with UnitOfWork(engine, read_only=True) as uow:
        held_or_watched = WatchlistRepository(uow.connection).active_symbols()
    return sorted(set(held_or_watched) | {s for s in extra_symbols if s})


def poll_latest_quotes(
    engine: Engine,
    source: QuoteSource,
    clock: Clock,
    *,
    extra_symbols: Sequence[str] = (),
) -> IngestionReport:
    """Fetch the latest quotes of the symbols to quote from ``source`` and store the new ones."""
    symbols = symbols_to_quote(engine, extra_symbols)
    at = now_of(clock)
    if not symbols:
        return IngestionReport(at, source.name, (), 0, 0, ())
    received = source.latest_quotes(symbols)
    wanted = set(symbols)
    quotes = {s: q for s, q in received.items() if s in wanted}
    with UnitOfWork(engine) as uow:
        prices = PriceRepository(uow.connection)
        stored = prices.latest_quotes(quotes)
        new = [q for s, q in sorted(quotes.items()) if s not in stored or q.time > stored[s].time]
        prices.write_quotes(new, source=source.name)
        uow.commit()
    missing = tuple(s for s in symbols if s not in quotes)
    return IngestionReport(at, source.name, tuple(symbols), len(quotes), len(new), missing)
