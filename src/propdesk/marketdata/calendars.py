"""Trading calendars: sessions, holidays, early closes and DST, from pandas_market_calendars.

propdesk never hard-codes a holiday or a session time: the maintained library knows that NYSE
closes at 13:00 ET the day after Thanksgiving and that CME Globex equity futures trade from
17:00 CT the evening before. This module turns the library's schedule into plain UTC datetimes
and answers the questions execution and the rule engine ask:

* :meth:`TradingCalendar.is_open` — is the market trading at ``t`` (outside breaks)?
* :meth:`TradingCalendar.next_open` / :meth:`TradingCalendar.next_close` — the first open /
  close strictly after ``t``.
* :meth:`TradingCalendar.session_close` — when a session ends (DAY orders expire then);
  :meth:`TradingCalendar.day_order_expiry` — the close a DAY order placed at ``t`` lives until.
* :meth:`TradingCalendar.last_business_day` — the last session of a year (tax year end).

Building a schedule is slow (pandas; ~0.2 s for 40 years), so each calendar builds its schedule
once for a range of whole decades around the first year asked about, keeps it as sorted lists
of UTC datetimes searched by bisection, and widens it only when a question falls outside.
Calendars are built on first use (:func:`get_calendar`), never at import, and shared
process-wide; a lock makes the widening safe across threads.

Session days follow the library: a CME session is named after the day it closes on, so the
Sunday-evening open belongs to Monday's session.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from propdesk.model.instruments import AssetClass

NYSE = "XNYS"
CME_GLOBEX_EQUITY = "CME Globex Equity"
# Friendly names accepted by get_calendar, mapped to the library's names.
ALIASES = {"NYSE": NYSE, "XNYS": NYSE, "CME": CME_GLOBEX_EQUITY, "CME_GLOBEX": CME_GLOBEX_EQUITY}

_DECADE = 10
_MAX_WIDENINGS = 20


@dataclass(frozen=True, slots=True)
class Session:
    """One trading session; every time is timezone-aware UTC."""

    day: date
    open: datetime
    close: datetime
    early_close: bool = False
    break_start: datetime | None = None
    break_end: datetime | None = None

    def contains(self, moment: datetime) -> bool:
        """Trading at ``moment``: from the open (inclusive) to the close (exclusive), outside a break."""
        if not self.open <= moment < self.close:
            return False
        if self.break_start is not None and self.break_end is not None:
            return not self.break_start <= moment < self.break_end
        return True


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"calendar questions need an aware time, got {moment.isoformat()}")
    return moment.astimezone(UTC)


def _column(schedule: Any, name: str) -> list[datetime | None]:
    """A schedule column as plain aware UTC datetimes (None where the library has NaT)."""
    import pandas as pd

    return [None if pd.isna(value) else value.to_pydatetime().astimezone(UTC) for value in schedule[name]]


class TradingCalendar:
    """One exchange's sessions, built lazily from pandas_market_calendars and cached."""

    def __init__(self, name: str) -> None:
        self.name = ALIASES.get(name, name)
        self._lock = threading.Lock()
        self._library: Any = None
        self._zone: ZoneInfo | None = None
        self._first_year: int | None = None
        self._last_year: int | None = None
        self._sessions: list[Session] = []
        self._days: list[date] = []
        self._opens: list[datetime] = []
        self._closes: list[datetime] = []

    def __repr__(self) -> str:
        return f"TradingCalendar({self.name!r})"

    # --- building --------------------------------------------------------------------------------

    def _calendar(self) -> Any:
        if self._library is None:
            import pandas_market_calendars as mcal

            try:
                self._library = mcal.get_calendar(self.name)
            except RuntimeError as exc:
                raise ValueError(f"unknown calendar {self.name!r}") from exc
        return self._library

    @property
    def zone(self) -> ZoneInfo:
        """The exchange's time zone (America/New_York for NYSE, America/Chicago for CME)."""
        with self._lock:
            if self._zone is None:
                self._zone = ZoneInfo(str(self._calendar().tz))
            return self._zone

    def _build(self, first_year: int, last_year: int) -> None:
        """(Re)build the schedule for whole years ``first_year`` .. ``last_year``; lock held."""
        library = self._calendar()
        schedule = library.schedule(start_date=date(first_year, 1, 1), end_date=date(last_year, 12, 31))
        try:
            early = {ts.date() for ts in library.early_closes(schedule).index}
        except (AttributeError, KeyError, ValueError):  # a calendar without a regular close time
            early = set()
        has_breaks = "break_start" in schedule.columns and "break_end" in schedule.columns
        days = [label.date() for label in schedule.index]
        opens = _column(schedule, "market_open")
        closes = _column(schedule, "market_close")
        starts = _column(schedule, "break_start") if has_breaks else [None] * len(days)
        ends = _column(schedule, "break_end") if has_breaks else [None] * len(days)
        sessions: list[Session] = []
        for day, open_, close, break_start, break_end in zip(days, opens, closes, starts, ends, strict=True):
            if open_ is None or close is None:
                raise ValueError(f"{self.name}: session {day} without an open or a close")
            if break_start is None or break_end is None or break_start >= break_end:
                break_start = break_end = None  # the library writes an empty break on short days
            sessions.append(Session(day, open_, close, day in early, break_start, break_end))
        self._sessions = sessions
        self._days = [s.day for s in sessions]
        self._opens = [s.open for s in sessions]
        self._closes = [s.close for s in sessions]
        self._first_year, self._last_year = first_year, last_year

    def _cover(self, year: int) -> None:
        """Make sure the schedule covers ``year`` and its neighbours (whole decades)."""
        with self._lock:
            low = (year - 1) // _DECADE * _DECADE
            high = (year + 1) // _DECADE * _DECADE + _DECADE - 1
            if self._first_year is not None and self._last_year is not None:
                if self._first_year <= low and high <= self._last_year:
                    return
                low, high = min(low, self._first_year), max(high, self._last_year)
            self._build(low, high)

    def _widen_forward(self) -> None:
        with self._lock:
            if self._first_year is None or self._last_year is None:
                raise LookupError(f"{self.name}: nothing built yet to widen")
            self._build(self._first_year, self._last_year + _DECADE)

    # --- questions ---------------------------------------------------------------------------------

    def sessions(self, start: date, end: date) -> list[Session]:
        """Sessions with ``start <= day <= end``, in order."""
        self._cover(start.year)
        self._cover(end.year)
        lo = bisect.bisect_left(self._days, start)
        hi = bisect.bisect_right(self._days, end)
        return self._sessions[lo:hi]

    def session(self, day: date) -> Session | None:
        """The session named ``day``, or None on a weekend or holiday."""
        self._cover(day.year)
        index = bisect.bisect_left(self._days, day)
        if index < len(self._days) and self._days[index] == day:
            return self._sessions[index]
        return None

    def is_session(self, day: date) -> bool:
        return self.session(day) is not None

    def session_at(self, moment: datetime) -> Session | None:
        """The session whose open ≤ ``moment`` < close (during a break too), or None."""
        moment = _aware(moment)
        self._cover(moment.year)
        index = bisect.bisect_right(self._opens, moment) - 1
        if index >= 0 and moment < self._closes[index]:
            return self._sessions[index]
        return None

    def is_open(self, moment: datetime) -> bool:
        """Whether the market trades at ``moment`` (open inclusive, close exclusive, breaks closed)."""
        session = self.session_at(moment)
        return session is not None and session.contains(_aware(moment))

    def _first_after(self, values_attr: str, moment: datetime) -> Session:
        moment = _aware(moment)
        self._cover(moment.year)
        for _ in range(_MAX_WIDENINGS):
            values: list[datetime] = getattr(self, values_attr)
            index = bisect.bisect_right(values, moment)
            if index < len(values):
                return self._sessions[index]
            self._widen_forward()
        raise LookupError(f"{self.name}: no session after {moment}")

    def next_open(self, moment: datetime) -> datetime:
        """The first session open strictly after ``moment``."""
        return self._first_after("_opens", moment).open

    def next_close(self, moment: datetime) -> datetime:
        """The first session close strictly after ``moment`` (the current session's, if open)."""
        return self._first_after("_closes", moment).close

    def next_session(self, moment: datetime) -> Session:
        """The session in progress at ``moment`` or, outside one, the next to open."""
        return self._first_after("_closes", moment)

    def session_close(self, day: date) -> datetime | None:
        """When the session named ``day`` closes (13:00 ET on NYSE early closes), or None."""
        session = self.session(day)
        return None if session is None else session.close

    def day_order_expiry(self, moment: datetime) -> datetime:
        """When a DAY order placed at ``moment`` expires: the close of the session in progress,
        or of the next session if the market is closed (Alpaca queues such orders for the next
        session)."""
        return self.next_close(moment)

    def trading_day(self, moment: datetime) -> date:
        """The session ``moment`` counts towards: the one in progress, else the next one."""
        return self.next_session(moment).day

    def previous_session_day(self, day: date) -> date:
        """The last session day strictly before ``day``."""
        self._cover(day.year)
        for _ in range(_MAX_WIDENINGS):
            index = bisect.bisect_left(self._days, day) - 1
            if index >= 0:
                return self._days[index]
            self._cover((self._first_year or day.year) - 1)
        raise LookupError(f"{self.name}: no session before {day}")

    def last_business_day(self, year: int) -> date:
        """The last session of ``year`` (2022-12-30 for NYSE in 2022: the 31st was a Saturday)."""
        return self.previous_session_day(date(year + 1, 1, 1))


_calendars: dict[str, TradingCalendar] = {}
_calendars_lock = threading.Lock()


def get_calendar(name: str = NYSE) -> TradingCalendar:
    """The shared calendar called ``name`` (``NYSE``/``XNYS``, ``CME``, or any library name).

    Built on the first call and reused, so the schedule cache is shared by the whole process.
    """
    key = ALIASES.get(name, name)
    with _calendars_lock:
        calendar = _calendars.get(key)
        if calendar is None:
            calendar = _calendars[key] = TradingCalendar(key)
        return calendar


def nyse() -> TradingCalendar:
    """US equities and options: NYSE sessions, holidays and early closes."""
    return get_calendar(NYSE)


def cme_globex_equity() -> TradingCalendar:
    """CME Globex equity-index futures (ES, MES, NQ, …): 17:00 CT the evening before to 16:00 CT."""
    return get_calendar(CME_GLOBEX_EQUITY)


def calendar_for(asset_class: AssetClass) -> TradingCalendar | None:
    """The calendar an asset class trades on: NYSE for equities and options, CME Globex for
    futures, none for crypto (it trades around the clock)."""
    if asset_class is AssetClass.CRYPTO:
        return None
    if asset_class is AssetClass.FUTURE:
        return cme_globex_equity()
    return nyse()
