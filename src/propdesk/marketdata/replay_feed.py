"""Replay: stored bars played forward on a replay clock, turned into quotes by one documented rule.

Bar files carry no quotes, so a replay derives them. **The quote-from-bar rule**:

* A bar's close is known at the bar's *end*, so its quote is stamped then: ``start + timeframe``
  for intraday bars; for daily bars the session close of that day on the feed's calendar (NYSE
  by default: 16:00 ET, 13:00 on early closes), or ``start + 1 day`` when the day is not a
  session there (an index that printed on an exchange holiday).
* ``bid = close − tick`` and ``ask = close + tick``, where ``tick`` is the symbol's minimum
  price increment at that price (``$0.01`` for a stock at or above $1, ``$0.0001`` below it, a
  future's contract tick), unless a half spread is given per symbol. ``last = close``; sizes are
  0 (unknown).

So a quote never reveals a price before the bar that made it was complete: replay has no
look-ahead, and a strategy trading on the replayed quotes could have traded on them live.

:class:`ReplayFeed` plays bars in time order. ``play()`` lets the replay clock reach each bar's
end (jumping when the clock is stopped, sleeping ``gap / speed`` real seconds when it runs) and
writes that instant's quotes to the price store with source ``replay``; writing is idempotent,
so a replay re-run over the same range adds nothing. As a :class:`~propdesk.marketdata.sources.QuoteSource`
it answers "latest quotes" at the replay clock's time, for the ingestion job.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine

from propdesk.marketdata.calendars import NYSE, TradingCalendar, get_calendar
from propdesk.marketdata.clock import Clock, ReplayClock, now_of
from propdesk.marketdata.timeframes import normalize_timeframe, timeframe_duration
from propdesk.model.instruments import InvalidSymbolError, parse_instrument
from propdesk.model.market import Bar, Quote, quote_from_bar
from propdesk.model.numbers import CENT
from propdesk.store.prices import PriceRepository
from propdesk.store.uow import UnitOfWork

REPLAY_SOURCE = "replay"
_DAY = timedelta(days=1)


def tick_for(symbol: str, price: Decimal) -> Decimal:
    """The symbol's minimum price increment at ``price`` (a cent if the symbol is not recognised)."""
    try:
        return parse_instrument(symbol).tick_for(price)
    except (InvalidSymbolError, ValueError, KeyError):
        return CENT


def bar_end(bar: Bar, calendar: TradingCalendar | None = None) -> datetime:
    """When ``bar`` is complete: the time its quote is stamped (see the module doc)."""
    step = timeframe_duration(bar.timeframe)
    if step is None:
        raise ValueError(f"{bar.timeframe} bars have no fixed end; replay minutes, hours, days or weeks")
    if step == _DAY and calendar is not None:
        close = calendar.session_close(bar.start.astimezone(calendar.zone).date())
        if close is not None:
            return close
    return bar.start + step


def quote_for_bar(
    bar: Bar, *, calendar: TradingCalendar | None = None, half_spread: Decimal | None = None
) -> Quote:
    """The quote the replay derives from ``bar`` (the quote-from-bar rule)."""
    spread = half_spread if half_spread is not None else tick_for(bar.symbol, bar.close)
    return quote_from_bar(bar, spread, bar_end(bar, calendar))


@dataclass(frozen=True, slots=True)
class ReplayReport:
    steps: int
    quotes: int
    first: datetime | None
    last: datetime | None


class ReplayFeed:
    """Stored bars of ``symbols`` in ``timeframe``, played forward on ``clock`` as quotes.

    Bars are read from the store in pages of ``page`` per symbol, so a long intraday history is
    never loaded at once. ``calendar`` (a name or a calendar; NYSE by default) dates daily bars'
    closes; ``None`` uses ``start + 1 day``. ``half_spread`` overrides the tick per symbol.
    """

    def __init__(
        self,
        engine: Engine,
        clock: ReplayClock,
        symbols: Sequence[str],
        timeframe: str = "1Day",
        *,
        calendar: TradingCalendar | str | None = NYSE,
        half_spread: Mapping[str, Decimal] | None = None,
        page: int = 2_000,
        source: str = REPLAY_SOURCE,
    ) -> None:
        if not symbols:
            raise ValueError("no symbols to replay")
        self._engine = engine
        self.clock = clock
        self.symbols = sorted(set(symbols))
        self.timeframe = normalize_timeframe(timeframe)
        self._calendar = get_calendar(calendar) if isinstance(calendar, str) else calendar
        self._half_spread = dict(half_spread or {})
        self._page = page
        self._source = source
        # The replay starts at the clock's time: the first bar played is the first to end after
        # it. Bars are read from a little before (a bar and two days: a daily bar may end at the
        # next midnight) and those already complete are skipped.
        step = timeframe_duration(self.timeframe) or _DAY
        origin = clock.now() - step - 2 * _DAY
        self._cursor: dict[str, datetime | None] = dict.fromkeys(self.symbols, origin)
        self._exhausted: set[str] = set()
        self._heap: list[tuple[datetime, str, int, Bar]] = []
        self._pending: dict[str, int] = dict.fromkeys(self.symbols, 0)
        self._serial = 0
        self._played_until = clock.now()
        for symbol in self.symbols:
            self._refill(symbol)

    @property
    def name(self) -> str:
        return self._source

    def quote(self, bar: Bar) -> Quote:
        return quote_for_bar(bar, calendar=self._calendar, half_spread=self._half_spread.get(bar.symbol))

    def _refill(self, symbol: str) -> None:
        """Queue the symbol's next page of bars (skipping any already complete)."""
        while symbol not in self._exhausted and self._pending[symbol] == 0:
            with UnitOfWork(self._engine, read_only=True) as uow:
                page = PriceRepository(uow.connection).bars_after(
                    symbol, self.timeframe, self._cursor[symbol], limit=self._page
                )
            if len(page) < self._page:
                self._exhausted.add(symbol)
            if page:
                self._cursor[symbol] = page[-1].start
            for bar in page:
                end = bar_end(bar, self._calendar)
                if end <= self._played_until:
                    continue  # already complete when the replay started
                self._serial += 1
                heapq.heappush(self._heap, (end, symbol, self._serial, bar))
                self._pending[symbol] += 1

    def next_time(self) -> datetime | None:
        """When the next bar completes, or None when every bar has been played."""
        return self._heap[0][0] if self._heap else None

    def _pop_due(self, moment: datetime) -> list[Bar]:
        due: list[Bar] = []
        while self._heap and self._heap[0][0] <= moment:
            _, symbol, _, bar = heapq.heappop(self._heap)
            due.append(bar)
            self._pending[symbol] -= 1
            if self._pending[symbol] == 0:
                self._refill(symbol)
        return due

    def _write(self, quotes: Sequence[Quote]) -> None:
        if quotes:
            with UnitOfWork(self._engine) as uow:
                PriceRepository(uow.connection).write_quotes(quotes, source=self._source)
                uow.commit()

    def catch_up(self) -> list[Quote]:
        """Write the quotes of every bar completed by the clock's current time (the clock stays)."""
        now = self.clock.now()
        quotes = [self.quote(bar) for bar in self._pop_due(now)]
        self._played_until = max(self._played_until, now)
        self._write(quotes)
        return quotes

    def play(
        self,
        *,
        until: datetime | None = None,
        max_steps: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_step: Callable[[datetime, list[Quote]], None] | None = None,
    ) -> ReplayReport:
        """Play bars forward until ``until`` (or the end): at each bar end, move the clock there
        and write the quotes completed then. Returns how many instants and quotes were played."""
        steps = count = 0
        first: datetime | None = None
        last: datetime | None = None
        while max_steps is None or steps < max_steps:
            moment = self.next_time()
            if moment is None or (until is not None and moment > until):
                break
            self.clock.wait_until(moment, sleep)
            quotes = self.catch_up()
            steps += 1
            count += len(quotes)
            first = first or moment
            last = moment
            if on_step is not None:
                on_step(moment, quotes)
        return ReplayReport(steps, count, first, last)

    # --- QuoteSource --------------------------------------------------------------------------------

    def latest_quotes(self, symbols: Sequence[str], *, on_behalf_of: str | None = None) -> dict[str, Quote]:
        """The quote of each symbol's latest bar completed at the clock's time (none if no bar yet)."""
        return latest_bar_quotes(
            self._engine,
            self.clock,
            symbols,
            self.timeframe,
            calendar=self._calendar,
            half_spread=self._half_spread,
        )


def latest_bar_quotes(
    engine: Engine,
    clock: Clock,
    symbols: Sequence[str],
    timeframe: str,
    *,
    calendar: TradingCalendar | None = None,
    half_spread: Mapping[str, Decimal] | None = None,
) -> dict[str, Quote]:
    """Quotes derived from each symbol's newest bar that is complete at the clock's time."""
    now = now_of(clock)
    frame = normalize_timeframe(timeframe)
    spreads = half_spread or {}
    quotes: dict[str, Quote] = {}
    with UnitOfWork(engine, read_only=True) as uow:
        repo = PriceRepository(uow.connection)
        for symbol in sorted(set(symbols)):
            # The newest bar starting by now may still be running; the one before it has ended.
            for bar in repo.bars_before(symbol, frame, now, limit=2):
                if bar_end(bar, calendar) <= now:
                    quotes[symbol] = quote_for_bar(bar, calendar=calendar, half_spread=spreads.get(symbol))
                    break
    return quotes
