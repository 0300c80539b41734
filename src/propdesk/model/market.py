"""Quotes and bars as execution sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from propdesk.model.numbers import ZERO

TWO = Decimal(2)


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book for one symbol at one time; ``mark`` is the mid (bid and ask are both required)."""

    symbol: str
    time: datetime
    bid: Decimal
    ask: Decimal
    last: Decimal | None = None
    bid_size: Decimal = ZERO
    ask_size: Decimal = ZERO

    def __post_init__(self) -> None:
        if self.bid > self.ask:
            raise ValueError(f"{self.symbol}: crossed quote (bid {self.bid} > ask {self.ask})")
        if self.time.tzinfo is None:
            raise ValueError("quote time must be timezone-aware")

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / TWO

    @property
    def mark(self) -> Decimal:
        return self.mid

    @property
    def spread(self) -> Decimal:
        return self.ask - self.bid

    def age(self, now: datetime) -> timedelta:
        return now - self.time


@dataclass(frozen=True, slots=True)
class Bar:
    """An OHLCV bar; ``start`` is the bar's opening time, timezone-aware."""

    symbol: str
    timeframe: str
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = ZERO
    vwap: Decimal | None = None
    trade_count: int | None = None

    def __post_init__(self) -> None:
        if not (self.low <= min(self.open, self.close) and self.high >= max(self.open, self.close)):
            raise ValueError(f"{self.symbol} {self.start}: OHLC out of order")
        if self.start.tzinfo is None:
            raise ValueError("bar start must be timezone-aware")


def quote_from_bar(bar: Bar, half_spread: Decimal, time: datetime | None = None) -> Quote:
    """A quote derived from a bar's close: bid and ask ``half_spread`` either side of the close.

    Bar files carry no quotes; replay uses this documented rule (one tick either side by default).
    ``time`` is when the quote is known, by default the bar's start.
    """
    return Quote(
        symbol=bar.symbol,
        time=bar.start if time is None else time,
        bid=bar.close - half_spread,
        ask=bar.close + half_spread,
        last=bar.close,
    )
