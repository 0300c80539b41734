"""The market clock and calendar as a trading client sees them (NYSE for equities and options).

The calendar answers Alpaca's ``GET /v2/calendar``: every NYSE session with its regular hours
(13:00 closes on early-close days), the extended session around it and the day its trades settle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from propdesk.marketdata.calendars import Session, get_calendar, nyse
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Invalid

__all__ = [
    "CalendarDay",
    "DateType",
    "MarketClock",
    "calendar",
    "market_clock",
    "nyse",
    "settlement_date",
]

# How far a calendar request may reach, as Alpaca's (market days 1970–2029 and a bit beyond).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2035, 12, 31)

# US equities settle T+1 for trades from 2024-05-28 on (SEC rule 15c6-1 as amended), T+2 before;
# Alpaca's calendar applies T+2 to every earlier date, and so does this one.
T_PLUS_ONE_FROM = date(2024, 5, 28)
# Settlement needs the banks as well as the exchange: DTC does not settle on Federal Reserve
# holidays the NYSE trades through (Columbus Day, Veterans Day). SIFMA's US calendar has those.
_BANK_CALENDAR = "SIFMAUS"

# Alpaca's extended session: 04:00 to 20:00 New York time, ending 4 hours after an early close.
EXTENDED_OPEN = time(4, 0)
EXTENDED_AFTER_CLOSE = timedelta(hours=4)


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


class DateType(StrEnum):
    """What ``start`` and ``end`` of a calendar request select: trade dates or settlement dates."""

    TRADING = "TRADING"
    SETTLEMENT = "SETTLEMENT"


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One NYSE session; every time is aware and in New York time."""

    day: date
    open: datetime
    close: datetime
    session_open: datetime
    session_close: datetime
    settlement_date: date
    early_close: bool


def settlement_date(day: date) -> date:
    """The day a trade made on ``day`` settles: T+1 (T+2 before 2024-05-28) settlement days later,
    a settlement day being an NYSE session on which the banks are open too."""
    later = [d for d in _settlement_days(day, day + _SETTLEMENT_REACH) if d > day]
    return later[_cycle(day) - 1]


# Two settlement days always fall within three weeks of any date.
_SETTLEMENT_REACH = timedelta(days=21)


def _cycle(day: date) -> int:
    return 1 if day >= T_PLUS_ONE_FROM else 2


def _settlement_days(first: date, last: date) -> list[date]:
    """Settlement days from ``first`` to ``last`` inclusive, in order."""
    bank_days = {s.day for s in get_calendar(_BANK_CALENDAR).sessions(first, last)}
    return [s.day for s in nyse().sessions(first, last) if s.day in bank_days]


def _calendar_day(session: Session, settles: date) -> CalendarDay:
    zone = nyse().zone
    open_, close = session.open.astimezone(zone), session.close.astimezone(zone)
    extended_open = datetime.combine(session.day, EXTENDED_OPEN, tzinfo=zone)
    extended_close = (session.close + EXTENDED_AFTER_CLOSE).astimezone(zone)
    return CalendarDay(session.day, open_, close, extended_open, extended_close, settles, session.early_close)


def calendar(
    start: date | None,
    end: date | None,
    *,
    today: date,
    date_type: DateType = DateType.TRADING,
) -> list[CalendarDay]:
    """NYSE sessions whose trade date (or settlement date) lies in ``start`` .. ``end`` inclusive.

    Alpaca answers a request without bounds with every market day from 1970 to 2029; that is a
    long list nobody wants by default, so a missing ``start`` is January 1 of the year before
    (the earlier of ``end``'s year and this year) and a missing ``end`` December 31 of the year
    after (the later of ``start``'s year and this year): without either, last year to next year.
    """
    if start is None:
        start = date(min(end.year if end is not None else today.year, today.year) - 1, 1, 1)
    if end is None:
        end = date(max(start.year, today.year) + 1, 12, 31)
    if start > end:
        raise Invalid("invalid_request", f"start {start} is after end {end}")
    if start < FIRST_DAY or end > LAST_DAY:
        raise Invalid("invalid_request", f"the calendar covers {FIRST_DAY} to {LAST_DAY}")
    # Settlement dates trail trade dates by at most a few days: widen the trade-date range so
    # that every session settling inside a SETTLEMENT range is found.
    lookback = timedelta(days=10) if date_type is DateType.SETTLEMENT else timedelta(0)
    first = max(FIRST_DAY, start - lookback)
    settle_days = _settlement_days(first, end + _SETTLEMENT_REACH)
    days: list[CalendarDay] = []
    cursor = 0  # settle_days[cursor] is the first settlement day after the session
    for session in nyse().sessions(first, end):
        while settle_days[cursor] <= session.day:
            cursor += 1
        settles = settle_days[cursor + _cycle(session.day) - 1]
        selected = session.day if date_type is DateType.TRADING else settles
        if start <= selected <= end:
            days.append(_calendar_day(session, settles))
    return days
