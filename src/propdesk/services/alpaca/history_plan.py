"""The reporting grid of a portfolio history: Alpaca's query parameters validated into the
moments to sample (see :mod:`propdesk.services.alpaca.history`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from propdesk.marketdata.calendars import Session, TradingCalendar
from propdesk.services.alpaca.market_hours import EXTENDED_AFTER_CLOSE, EXTENDED_OPEN, nyse
from propdesk.services.alpaca.params import (
    ACTIVITY_TYPES,
    MAX_YEAR,
    MIN_YEAR,
    invalid_parameter,
    ny_midnight,
    parse_moment,
)


class Timeframe(StrEnum):
    MIN1 = "1Min"
    MIN5 = "5Min"
    MIN15 = "15Min"
    HOUR1 = "1H"
    DAY1 = "1D"

    @property
    def step(self) -> timedelta:
        return _STEPS[self]


_STEPS = {
    Timeframe.MIN1: timedelta(minutes=1),
    Timeframe.MIN5: timedelta(minutes=5),
    Timeframe.MIN15: timedelta(minutes=15),
    Timeframe.HOUR1: timedelta(hours=1),
    Timeframe.DAY1: timedelta(days=1),
}
# Alpaca's spellings besides the canonical ones (the data API's ``1Hour``, ``1Day``, ...).
_TIMEFRAME_ALIASES = {
    "1min": Timeframe.MIN1,
    "5min": Timeframe.MIN5,
    "15min": Timeframe.MIN15,
    "1h": Timeframe.HOUR1,
    "1hour": Timeframe.HOUR1,
    "60min": Timeframe.HOUR1,
    "1d": Timeframe.DAY1,
    "1day": Timeframe.DAY1,
}
# Intraday timeframes cover at most 30 days (Alpaca refuses longer intraday queries).
INTRADAY_MAX_DAYS = 30


class Reporting(StrEnum):
    MARKET_HOURS = "market_hours"
    EXTENDED_HOURS = "extended_hours"
    CONTINUOUS = "continuous"


class PnlReset(StrEnum):
    PER_DAY = "per_day"
    NO_RESET = "no_reset"


_PERIOD = re.compile(r"^([1-9][0-9]{0,3})([DWMA])$", re.IGNORECASE)
# Approximate days per unit: only for the default timeframe and the 30-day intraday limit.
_UNIT_DAYS = {"D": 1, "W": 7, "M": 30, "A": 365}


def _add_months(day: date, months: int) -> date:
    """``day`` moved by whole months (the 31st becomes the month's last day), kept within
    :data:`MIN_YEAR` .. :data:`MAX_YEAR`."""
    index = day.year * 12 + day.month - 1 + months
    index = max(MIN_YEAR * 12, min(index, MAX_YEAR * 12 + 11))
    year, month = divmod(index, 12)
    month += 1
    days_in_month = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, days_in_month))


@dataclass(frozen=True, slots=True)
class Period:
    """``<n>D`` (market days), ``<n>W``, ``<n>M`` or ``<n>A`` (calendar weeks, months, years)."""

    count: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match(text.strip())
        if match is None:
            raise invalid_parameter(f"period must be <number><D|W|M|A> (e.g. 1M), not {text!r}")
        return cls(int(match.group(1)), match.group(2).upper())

    @property
    def days(self) -> int:
        return self.count * _UNIT_DAYS[self.unit]

    def first_day(self, last_day: date, calendar: TradingCalendar, floor: date) -> date:
        """The first day of the period that ends with ``last_day``, or ``floor`` if that is later
        (the calendar is not read before ``floor``)."""
        if self.unit == "D":
            reach = max(last_day - timedelta(days=2 * self.count + 10), floor - timedelta(days=10))
            back = calendar.sessions(reach, last_day) if reach <= last_day else []
            first = back[-min(self.count, len(back))].day if back else last_day
        else:
            first = self._shift(last_day, -1) + timedelta(days=1)
        return max(first, floor)

    def last_day(self, first_day: date, calendar: TradingCalendar, ceiling: date) -> date:
        """The last day of the period that starts with ``first_day``, or ``ceiling`` if that is
        earlier (the calendar is not read after ``ceiling``)."""
        if self.unit == "D":
            reach = min(first_day + timedelta(days=2 * self.count + 10), ceiling + timedelta(days=10))
            ahead = calendar.sessions(first_day, reach) if first_day <= reach else []
            last = ahead[min(self.count, len(ahead)) - 1].day if ahead else first_day
        else:
            last = self._shift(first_day, 1) - timedelta(days=1)
        return min(last, ceiling)

    def _shift(self, day: date, sign: int) -> date:
        if self.unit == "W":
            return day + timedelta(days=sign * 7 * self.count)
        months = self.count * (12 if self.unit == "A" else 1)
        return _add_months(day, sign * months)

    def span_before(self, moment: datetime) -> datetime:
        """``moment`` minus the period in calendar time (continuous reporting)."""
        if self.unit in ("D", "W"):
            return moment - timedelta(days=self.days)
        day = self._shift(moment.date(), -1)
        return datetime.combine(day, moment.timetz())


_CASHFLOW_TYPES = frozenset({"CSD", "JNLC", "FEE"})


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Alpaca's query parameters as sent (strings); :func:`portfolio_history` validates them."""

    period: str | None = None
    timeframe: str | None = None
    start: str | None = None
    end: str | None = None
    date_end: str | None = None
    intraday_reporting: str | None = None
    pnl_reset: str | None = None
    extended_hours: bool | None = None
    cashflow_types: str | None = None


@dataclass(frozen=True, slots=True)
class Point:
    label: datetime  # the timestamp reported
    at: datetime  # the moment whose equity the point shows
    base_at: datetime  # the moment whose equity its P/L is measured from (per-day reset)


@dataclass(frozen=True, slots=True)
class Plan:
    timeframe: Timeframe
    points: list[Point]
    base_at: datetime
    end: datetime
    per_day: bool
    cashflow_types: frozenset[str]


def _timeframe(text: str | None, span_days: int) -> Timeframe:
    if text is None or text.strip() == "":
        # Alpaca's defaults: 1Min under 7 days, 15Min under 30 days, 1D otherwise.
        if span_days < 7:
            return Timeframe.MIN1
        return Timeframe.MIN15 if span_days < INTRADAY_MAX_DAYS else Timeframe.DAY1
    found = _TIMEFRAME_ALIASES.get(text.strip().lower())
    if found is None:
        raise invalid_parameter(f"timeframe must be one of 1Min, 5Min, 15Min, 1H, 1D, not {text!r}")
    return found


def _choice(name: str, text: str | None, kind: type[Reporting] | type[PnlReset], default: Any) -> Any:
    if text is None or text.strip() == "":
        return default
    try:
        return kind(text.strip().lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise invalid_parameter(f"{name} must be one of {allowed}, not {text!r}") from None


def _cashflow_types(text: str | None) -> frozenset[str]:
    if text is None or text.strip() == "" or text.strip().upper() == "NONE":
        return frozenset()
    if text.strip().upper() == "ALL":
        return _CASHFLOW_TYPES
    asked = {part.strip().upper() for part in text.split(",") if part.strip()}
    unknown = sorted(asked - ACTIVITY_TYPES)
    if unknown:
        raise invalid_parameter(f"cashflow_types: unknown activity type {', '.join(unknown)}")
    return frozenset(asked & _CASHFLOW_TYPES)


def _market_day(calendar: TradingCalendar, moment: datetime, roll: Callable[[Session], datetime]) -> date:
    """The current market date at ``moment``: the last session that has begun by then."""
    today = moment.astimezone(calendar.zone).date()
    for session in reversed(calendar.sessions(today - timedelta(days=10), today)):
        if roll(session) <= moment:
            return session.day
    return calendar.previous_session_day(today - timedelta(days=10))


def _previous_close(calendar: TradingCalendar, day: date) -> datetime:
    """The close of the last session before ``day``."""
    close = calendar.session_close(calendar.previous_session_day(day))
    assert close is not None
    return close


def _previous_closes(calendar: TradingCalendar) -> Callable[[date], datetime]:
    """:func:`_previous_close`, remembered per day (a 24/7 grid asks for each day many times)."""
    known: dict[date, datetime] = {}

    def close_before(day: date) -> datetime:
        if day not in known:
            known[day] = _previous_close(calendar, day)
        return known[day]

    return close_before


def plan_history(query: HistoryQuery, now: datetime, created: date) -> Plan:
    calendar = nyse()
    zone = calendar.zone
    period = None if query.period is None or query.period.strip() == "" else Period.parse(query.period)
    start = parse_moment("start", query.start)
    end = parse_moment("end", query.end, end_of_day=True)
    if end is None:
        end = parse_moment("date_end", query.date_end, end_of_day=True)
    if start is not None and end is not None and period is not None:
        raise invalid_parameter("give at most two of start, end and period")
    if start is not None and end is not None and start > end:
        raise invalid_parameter("start is after end")
    if start is not None and end is not None:
        span_days = (end - start).days
    elif start is not None and period is None:
        span_days = (now - start).days
    else:
        period = period or Period(1, "M")
        span_days = period.days
    timeframe = _timeframe(query.timeframe, span_days)
    if timeframe is not Timeframe.DAY1 and span_days > INTRADAY_MAX_DAYS:
        raise invalid_parameter(f"intraday timeframes cover at most {INTRADAY_MAX_DAYS} days; use 1D")
    reporting: Reporting = _choice(
        "intraday_reporting",
        query.intraday_reporting,
        Reporting,
        Reporting.EXTENDED_HOURS if query.extended_hours else Reporting.MARKET_HOURS,
    )
    per_day = _choice("pnl_reset", query.pnl_reset, PnlReset, PnlReset.PER_DAY) is PnlReset.PER_DAY
    cashflow = _cashflow_types(query.cashflow_types)
    intraday = timeframe is not Timeframe.DAY1
    extended = intraday and reporting is Reporting.EXTENDED_HOURS

    def roll(session: Session) -> datetime:
        return datetime.combine(session.day, EXTENDED_OPEN, tzinfo=zone) if extended else session.open

    if intraday and reporting is Reporting.CONTINUOUS:
        return _continuous_plan(calendar, timeframe, start, end, period, now, created, per_day, cashflow)

    # Session days from first_day to last_day, points no later than stop. Before the account
    # existed there is nothing to show, after now nothing is known: the calendar is read only
    # between the two.
    today = now.astimezone(zone).date()
    opened = ny_midnight(created)
    if start is not None:
        first_day = max(start.astimezone(zone).date(), created)
        if end is None and period is not None:
            last = period.last_day(min(first_day, today), calendar, today)
            stop = min(now, ny_midnight(last + timedelta(days=1)))
        else:
            stop = min(now, end or now)
    else:
        stop = min(now, end or now)
        assert period is not None
        first_day = period.first_day(_market_day(calendar, max(stop, opened), roll), calendar, created)
    stop = max(stop, opened)
    last_day = _market_day(calendar, stop, roll)
    first_day = min(first_day, last_day + timedelta(days=1))
    sessions = calendar.sessions(first_day, last_day) if first_day <= last_day else []
    points: list[Point] = []
    for session in sessions:
        base_at = _previous_close(calendar, session.day)
        if not intraday:
            points.append(Point(ny_midnight(session.day), min(session.close, stop), base_at))
            continue
        low = roll(session)
        high = session.close + EXTENDED_AFTER_CLOSE if extended else session.close
        moment = low
        while moment <= high and moment <= stop:
            points.append(Point(moment, moment, base_at))
            moment += timeframe.step
        if moment - timeframe.step < high <= stop:
            points.append(Point(high, high, base_at))
    base_at = _previous_close(calendar, sessions[0].day if sessions else first_day)
    return Plan(timeframe, points, base_at, stop, per_day, cashflow)


def _continuous_plan(
    calendar: TradingCalendar,
    timeframe: Timeframe,
    start: datetime | None,
    end: datetime | None,
    period: Period | None,
    now: datetime,
    created: date,
    per_day: bool,
    cashflow: frozenset[str],
) -> Plan:
    """A 24/7 grid of ``timeframe`` steps (aligned to the epoch) for crypto accounts."""
    opened = ny_midnight(created)
    if start is not None:
        start = max(start, opened)
        stop = min(now, end or (_span_after(period, min(start, now)) if period is not None else now))
    else:
        stop = min(now, end or now)
        assert period is not None
        start = max(period.span_before(stop), opened)
    stop = max(stop, opened)
    start = min(start, stop + timeframe.step)
    step = int(timeframe.step.total_seconds())
    first = -(-int(start.timestamp()) // step) * step
    points: list[Point] = []
    close_before = _previous_closes(calendar)
    moment = datetime.fromtimestamp(first, UTC)
    while moment <= stop:
        base_at = close_before(moment.astimezone(calendar.zone).date())
        points.append(Point(moment, moment, base_at))
        moment += timeframe.step
    base_at = (
        points[0].base_at if points else _previous_close(calendar, start.astimezone(calendar.zone).date())
    )
    return Plan(timeframe, points, base_at, stop, per_day, cashflow)


def _span_after(period: Period, moment: datetime) -> datetime:
    if period.unit in ("D", "W"):
        return moment + timedelta(days=period.days)
    months = period.count * (12 if period.unit == "A" else 1)
    return datetime.combine(_add_months(moment.date(), months), moment.timetz())
