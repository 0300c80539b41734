"""Trading days from a pack's day boundary: an IANA zone and a wall-clock time, DST-correct.

Trackers that roll the day at a fixed UTC offset break twice a year (the day ends an hour early or
late after a DST change). Here the boundary is always computed in the firm's own zone, so
17:00 America/Chicago is 23:00 UTC in winter and 22:00 UTC in summer, and midnight
Europe/Prague is 23:00 UTC in winter and 22:00 UTC in summer.

Naming: a boundary after midnight names a session after the day it ends on (the session from
Sunday 17:00 to Monday 17:00 Chicago is Monday's, as at CME); a midnight boundary names a session
after its own date. Sessions on days without trading (weekends) still exist; rules that count
days count only days with activity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.pack_sections import DayBoundary

MIDNIGHT = time(0, 0)
ONE_DAY = timedelta(days=1)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware (store and pass UTC)")
    return instant


@dataclass(frozen=True, slots=True)
class SessionClock:
    """Maps instants to trading days and back for one day boundary."""

    zone: ZoneInfo
    boundary: time

    @classmethod
    def of(cls, boundary: DayBoundary) -> SessionClock:
        return cls(ZoneInfo(boundary.timezone), boundary.time)

    @property
    def _offset(self) -> int:
        """1 when sessions are named after the day they end on (boundary after midnight)."""
        return 0 if self.boundary == MIDNIGHT else 1

    def local(self, instant: datetime) -> datetime:
        return _aware(instant).astimezone(self.zone)

    def trading_day(self, instant: datetime) -> date:
        """The trading day ``instant`` belongs to."""
        local = self.local(instant)
        day = local.date() + timedelta(days=self._offset)
        if local.time() < self.boundary:
            day -= ONE_DAY
        return day

    def session_start(self, day: date) -> datetime:
        """The UTC instant trading day ``day`` begins (the previous day's boundary)."""
        local = datetime.combine(day - timedelta(days=self._offset), self.boundary, tzinfo=self.zone)
        return local.astimezone(UTC)

    def session_end(self, day: date) -> datetime:
        """The UTC instant trading day ``day`` ends (exclusive)."""
        return self.session_start(day + ONE_DAY)

    def at_local(self, day: date, wall: time) -> datetime:
        """The UTC instant of wall-clock ``wall`` on calendar date ``day`` in this zone."""
        return datetime.combine(day, wall, tzinfo=self.zone).astimezone(UTC)

    def flat_by_instant(self, day: date, wall: time) -> datetime:
        """When positions must be flat in trading day ``day``: the last ``wall`` before the session ends."""
        end = self.session_end(day)
        end_date = self.local(end).date()
        candidate = self.at_local(end_date, wall)
        return candidate if candidate < end else self.at_local(end_date - ONE_DAY, wall)

    def next_boundary(self, instant: datetime) -> datetime:
        """The first day boundary strictly after ``instant`` (when the EOD job should run)."""
        return self.session_end(self.trading_day(instant))

    def boundaries_between(self, start: datetime, end: datetime) -> list[tuple[date, datetime]]:
        """Every boundary in ``(start, end]`` as (the trading day it starts, its UTC instant)."""
        found: list[tuple[date, datetime]] = []
        day = self.trading_day(start)
        while (boundary := self.session_end(day)) <= end:
            day += ONE_DAY
            found.append((day, boundary))
        return found


def clock_of(pack: RulePack) -> SessionClock:
    """The session clock of ``pack``'s day boundary."""
    return SessionClock.of(pack.day_boundary)
