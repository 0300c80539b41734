"""A seeded synthetic quote feed for symbols without data: a random walk on the tick grid.

Each symbol walks on its own grid of instants ``origin + k × interval``; at every step its
price moves by a whole number of ticks drawn uniformly from ``−max_step_ticks ..
+max_step_ticks`` by a NumPy ``Generator`` seeded with ``(seed, crc32(symbol))``. Prices are
``Decimal`` multiples of the tick (no float is ever involved: the generator draws integers), are
kept at least ``floor_ticks`` ticks above zero by reflection, and quotes are ``bid = price − tick``,
``ask = price + tick`` (the same one-tick rule as replayed bars), ``last = price``.

The quote of a symbol at time ``T`` depends only on the seed, the symbol, the origin and ``T``:
not on which other symbols are asked for, nor on how often the feed is polled (the generator
draws one 64-bit integer per step, so ten steps drawn at once equal five and five). A test or a
demo that polls it reproduces exactly.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from propdesk.marketdata.clock import Clock, now_of
from propdesk.marketdata.replay_feed import tick_for
from propdesk.model.market import Quote

SYNTHETIC_SOURCE = "synthetic"
_CHUNK = 1_000_000


@dataclass
class _Walk:
    generator: np.random.Generator
    tick: Decimal
    ticks: int  # price in ticks
    step: int  # grid index of ``ticks``


class SyntheticFeed:
    """A reproducible random-walk :class:`~propdesk.marketdata.sources.QuoteSource`."""

    def __init__(
        self,
        clock: Clock,
        *,
        seed: int,
        start_prices: Mapping[str, Decimal] | None = None,
        default_price: Decimal = Decimal(100),
        interval: timedelta = timedelta(seconds=1),
        max_step_ticks: int = 3,
        floor_ticks: int = 2,
        size: Decimal = Decimal(100),
        origin: datetime | None = None,
        source: str = SYNTHETIC_SOURCE,
    ) -> None:
        if interval <= timedelta(0):
            raise ValueError("interval must be positive")
        if max_step_ticks < 0 or floor_ticks < 1:
            raise ValueError("max_step_ticks must be ≥ 0 and floor_ticks ≥ 1")
        self._clock = clock
        self._seed = seed
        self._start_prices = dict(start_prices or {})
        self._default_price = default_price
        self._interval = interval
        self._max_step = max_step_ticks
        self._floor = floor_ticks
        self._size = size
        self._origin = origin if origin is not None else now_of(clock)
        self._source = source
        self._walks: dict[str, _Walk] = {}

    @property
    def name(self) -> str:
        return self._source

    def _walk(self, symbol: str) -> _Walk:
        walk = self._walks.get(symbol)
        if walk is None:
            price = self._start_prices.get(symbol, self._default_price)
            tick = tick_for(symbol, price)
            generator = np.random.default_rng([self._seed, zlib.crc32(symbol.encode())])
            ticks = max(int((price / tick).to_integral_value()), self._floor)
            walk = self._walks[symbol] = _Walk(generator, tick, ticks, 0)
        return walk

    def _advance(self, walk: _Walk, to_step: int) -> None:
        while walk.step < to_step:
            n = min(to_step - walk.step, _CHUNK)
            moves = walk.generator.integers(
                -self._max_step, self._max_step, size=n, endpoint=True, dtype=np.int64
            )
            ticks = walk.ticks
            for move in moves.tolist():
                ticks += int(move)
                if ticks < self._floor:
                    ticks = 2 * self._floor - ticks  # reflect off the floor
            walk.ticks = ticks
            walk.step += n

    def quote_at(self, symbol: str, moment: datetime) -> Quote:
        """The synthetic quote of ``symbol`` at the last grid instant not after ``moment``."""
        walk = self._walk(symbol)
        steps = max(0, (moment - self._origin) // self._interval)
        self._advance(walk, steps)  # never walks back: an earlier moment gets the current price
        price = walk.tick * walk.ticks
        stamp = self._origin + walk.step * self._interval
        return Quote(symbol, stamp, price - walk.tick, price + walk.tick, price, self._size, self._size)

    def latest_quotes(self, symbols: Sequence[str], *, on_behalf_of: str | None = None) -> dict[str, Quote]:
        now = now_of(self._clock)
        return {symbol: self.quote_at(symbol, now) for symbol in sorted(set(symbols))}
