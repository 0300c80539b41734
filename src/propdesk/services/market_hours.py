"""The market clock and calendar as a trading client sees them (NYSE for equities and options)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from propdesk.marketdata.calendars import Session, nyse

__all__ = ["MarketClock", "market_clock", "nyse", "sessions"]
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Invalid

# How far a calendar request may reach, as Alpaca's (market days 1970–2029 and a bit beyond).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2035, 12, 31)


@dataclass(frozen=True, slots=True)
class MarketClock:
    timestamp: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


def market_clock(ctx: ServiceContext) -> MarketClock:
    now = ctx.clock()
    calendar = nyse()
    return MarketClock(now, calendar.is_open(now), calendar.next_open(now), calendar.next_close(now))


def sessions(start: date, end: date) -> list[Session]:
    """NYSE sessions from ``start`` to ``end`` inclusive (early closes at 13:00 ET included)."""
    if start > end:
        raise Invalid("invalid_request", f"start {start} is after end {end}")
    if start < FIRST_DAY or end > LAST_DAY:
        raise Invalid("invalid_request", f"the calendar covers {FIRST_DAY} to {LAST_DAY}")
    return nyse().sessions(start, end)
