"""Day boundaries across the DST changes: 17:00 America/Chicago and midnight Europe/Prague.

A tracker that rolls the day at a fixed UTC hour gets one of the two seasons wrong; these tests
pin the boundary on both sides of each change in 2026 (US: 8 March and 1 November; EU: 29 March
and 25 October).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propdesk.risk.rules.pack_sections import DayBoundary
from propdesk.risk.rules.sessions import SessionClock

CHICAGO = SessionClock.of(DayBoundary(timezone="America/Chicago", time=time(17, 0)))
PRAGUE = SessionClock.of(DayBoundary(timezone="Europe/Prague", time=time(0, 0)))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # Winter (CST, UTC-6): the boundary is 23:00 UTC.
        (utc(2026, 3, 6, 22, 59), date(2026, 3, 6)),
        (utc(2026, 3, 6, 23, 0), date(2026, 3, 7)),
        # Summer after 8 March (CDT, UTC-5): the boundary is 22:00 UTC.
        (utc(2026, 3, 9, 21, 59), date(2026, 3, 9)),
        (utc(2026, 3, 9, 22, 0), date(2026, 3, 10)),
        (utc(2026, 3, 9, 22, 30), date(2026, 3, 10)),  # a fixed 23:00 UTC roll would say 9 March
        # Summer before 1 November, winter after.
        (utc(2026, 10, 30, 21, 59), date(2026, 10, 30)),
        (utc(2026, 10, 30, 22, 0), date(2026, 10, 31)),
        (utc(2026, 11, 2, 22, 30), date(2026, 11, 2)),  # a fixed 22:00 UTC roll would say 3 November
        (utc(2026, 11, 2, 23, 0), date(2026, 11, 3)),
    ],
)
def test_chicago_17_00_boundary_follows_dst(instant: datetime, day: date) -> None:
    assert CHICAGO.trading_day(instant) == day


def test_chicago_sessions_are_named_after_the_day_they_end_and_change_length_with_dst() -> None:
    # Sunday 17:00 CST (8 March, after the 02:00 switch it is CDT already) opens Monday's session.
    monday = date(2026, 3, 9)
    assert CHICAGO.session_start(monday) == utc(2026, 3, 8, 22, 0)
    assert CHICAGO.session_end(monday) == utc(2026, 3, 9, 22, 0)
    # The session that contains the switch (Saturday 17:00 CST → Sunday 17:00 CDT) lasts 23 hours.
    sunday = date(2026, 3, 8)
    assert CHICAGO.session_end(sunday) - CHICAGO.session_start(sunday) == timedelta(hours=23)
    november = date(2026, 11, 1)
    assert CHICAGO.session_end(november) - CHICAGO.session_start(november) == timedelta(hours=25)


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (utc(2026, 3, 27, 22, 59), date(2026, 3, 27)),  # CET (UTC+1): midnight is 23:00 UTC
        (utc(2026, 3, 27, 23, 0), date(2026, 3, 28)),
        (utc(2026, 3, 29, 21, 59), date(2026, 3, 29)),  # CEST (UTC+2) from 29 March: 22:00 UTC
        (utc(2026, 3, 29, 22, 0), date(2026, 3, 30)),
        (utc(2026, 10, 24, 22, 0), date(2026, 10, 25)),  # still CEST
        (utc(2026, 10, 25, 22, 30), date(2026, 10, 25)),  # CET again: midnight is 23:00 UTC
        (utc(2026, 10, 25, 23, 0), date(2026, 10, 26)),
    ],
)
def test_prague_midnight_boundary_follows_dst(instant: datetime, day: date) -> None:
    assert PRAGUE.trading_day(instant) == day


def test_prague_days_last_23_and_25_hours_on_the_change_days() -> None:
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    assert PRAGUE.session_end(spring) - PRAGUE.session_start(spring) == timedelta(hours=23)
    assert PRAGUE.session_end(autumn) - PRAGUE.session_start(autumn) == timedelta(hours=25)


def test_flat_by_is_in_local_time_on_both_sides_of_the_change() -> None:
    assert CHICAGO.flat_by_instant(date(2026, 3, 6), time(15, 10)) == utc(2026, 3, 6, 21, 10)
    assert CHICAGO.flat_by_instant(date(2026, 3, 9), time(15, 10)) == utc(2026, 3, 9, 20, 10)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CHICAGO.trading_day(datetime(2026, 3, 9, 12, 0))


ZONES = ["America/Chicago", "Europe/Prague", "America/New_York", "Etc/GMT-3", "Australia/Sydney"]


@given(
    zone=st.sampled_from(ZONES),
    wall=st.sampled_from([time(0, 0), time(17, 0), time(22, 0), time(9, 30)]),
    instant=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
)
def test_every_instant_lies_inside_its_own_session(zone: str, wall: time, instant: datetime) -> None:
    clock = SessionClock.of(DayBoundary(timezone=zone, time=wall))
    day = clock.trading_day(instant)
    assert clock.session_start(day) <= instant < clock.session_end(day)
    assert clock.trading_day(clock.session_start(day)) == day
