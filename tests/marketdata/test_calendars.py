"""Trading calendars: NYSE holidays, early closes and DST; CME Globex futures sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from propdesk.marketdata.calendars import TradingCalendar, cme_globex_equity, get_calendar, nyse

NY = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def test_nyse_closes_at_13_00_et_the_day_after_thanksgiving_2024() -> None:
    session = nyse().session(date(2024, 11, 29))
    assert session is not None
    assert session.open == ny(date(2024, 11, 29), 9, 30)
    assert session.close == ny(date(2024, 11, 29), 13, 0)
    assert session.early_close
    assert nyse().session_close(date(2024, 11, 29)) == datetime(2024, 11, 29, 18, 0, tzinfo=UTC)
    assert nyse().is_open(ny(date(2024, 11, 29), 12, 59))
    assert not nyse().is_open(ny(date(2024, 11, 29), 13, 0))  # the close itself is closed
    assert not nyse().is_open(ny(date(2024, 11, 28), 12, 0))  # Thanksgiving


def test_nyse_is_closed_on_christmas_2024() -> None:
    christmas = date(2024, 12, 25)
    assert nyse().session(christmas) is None
    assert nyse().session_close(christmas) is None
    assert not nyse().is_open(ny(christmas, 11))
    assert nyse().next_open(ny(christmas, 11)) == ny(date(2024, 12, 26), 9, 30)
    eve = nyse().session(date(2024, 12, 24))
    assert eve is not None
    assert eve.early_close
    assert eve.close == ny(date(2024, 12, 24), 13)


def test_last_business_day_of_2022_is_friday_the_30th() -> None:
    assert nyse().last_business_day(2022) == date(2022, 12, 30)
    assert nyse().last_business_day(2024) == date(2024, 12, 31)


@pytest.mark.parametrize(
    ("day", "open_utc", "close_utc"),
    [
        # March 2024: US clocks went forward on Sunday the 10th; the session stays 9:30-16:00 ET.
        (date(2024, 3, 8), "14:30", "21:00"),
        (date(2024, 3, 11), "13:30", "20:00"),
        (date(2024, 3, 15), "13:30", "20:00"),
        # November 2024: back on Sunday the 3rd.
        (date(2024, 11, 1), "13:30", "20:00"),
        (date(2024, 11, 4), "14:30", "21:00"),
        (date(2024, 11, 8), "14:30", "21:00"),
    ],
)
def test_nyse_sessions_across_the_dst_changes(day: date, open_utc: str, close_utc: str) -> None:
    session = nyse().session(day)
    assert session is not None
    assert session.open.strftime("%H:%M") == open_utc
    assert session.close.strftime("%H:%M") == close_utc
    assert session.open.astimezone(NY).strftime("%H:%M") == "09:30"
    assert session.close.astimezone(NY).strftime("%H:%M") == "16:00"


def test_the_dst_weeks_have_five_sessions_and_a_weekend() -> None:
    march = nyse().sessions(date(2024, 3, 8), date(2024, 3, 15))
    assert [s.day.isoformat() for s in march] == [
        "2024-03-08",
        "2024-03-11",
        "2024-03-12",
        "2024-03-13",
        "2024-03-14",
        "2024-03-15",
    ]
    friday_close = datetime(2024, 3, 8, 21, 0, tzinfo=UTC)
    assert nyse().next_open(friday_close) == datetime(2024, 3, 11, 13, 30, tzinfo=UTC)
    assert len(nyse().sessions(date(2024, 11, 4), date(2024, 11, 8))) == 5


def test_next_open_and_next_close_are_strictly_after() -> None:
    day = date(2024, 6, 18)
    open_, close = ny(day, 9, 30), ny(day, 16)
    assert nyse().next_close(ny(day, 10)) == close
    assert nyse().next_open(ny(day, 10)) == ny(date(2024, 6, 20), 9, 30)  # the 19th is Juneteenth
    assert nyse().next_open(open_ - timedelta(microseconds=1)) == open_
    assert nyse().next_close(close) == ny(date(2024, 6, 20), 16)


def test_day_orders_expire_at_the_session_close() -> None:
    assert nyse().day_order_expiry(ny(date(2024, 11, 29), 10)) == ny(date(2024, 11, 29), 13)
    # Placed after the close: lives until the next session's close (the order queues for it).
    assert nyse().day_order_expiry(ny(date(2024, 11, 27), 18)) == ny(date(2024, 11, 29), 13)


def test_cme_globex_equity_futures_open_the_evening_before_in_chicago_time() -> None:
    cme = cme_globex_equity()
    monday = cme.session(date(2024, 3, 11))
    assert monday is not None
    # Sunday 17:00 CT; US DST began that Sunday at 02:00, so it is 22:00 UTC, not 23:00.
    assert monday.open == datetime(2024, 3, 10, 17, tzinfo=CHICAGO)
    assert monday.open == datetime(2024, 3, 10, 22, tzinfo=UTC)
    assert monday.close == datetime(2024, 3, 11, 16, tzinfo=CHICAGO)
    friday = cme.session(date(2024, 3, 8))
    assert friday is not None
    assert friday.open == datetime(2024, 3, 7, 23, tzinfo=UTC)
    assert cme.is_open(datetime(2024, 3, 10, 22, 30, tzinfo=UTC))
    assert cme.trading_day(datetime(2024, 3, 10, 22, 30, tzinfo=UTC)) == date(2024, 3, 11)
    assert not cme.is_open(datetime(2024, 3, 9, 18, tzinfo=UTC))  # Saturday
    assert not cme.is_open(datetime(2024, 3, 12, 16, 30, tzinfo=CHICAGO))  # daily maintenance halt
    assert cme.session(date(2024, 12, 25)) is None
    assert cme.session_close(date(2024, 11, 29)) == datetime(2024, 11, 29, 12, 15, tzinfo=CHICAGO)


def test_breaks_are_closed_on_calendars_that_have_them() -> None:
    cme_old = get_calendar("CME_Equity")
    session = cme_old.session(date(2019, 11, 27))
    assert session is not None
    assert session.break_start is not None
    assert cme_old.is_open(session.break_start - timedelta(minutes=1))
    assert not cme_old.is_open(session.break_start)


def test_calendars_are_shared_and_built_lazily() -> None:
    assert get_calendar("NYSE") is nyse()
    assert get_calendar("XNYS") is nyse()
    fresh = TradingCalendar("XNYS")
    assert fresh._sessions == []  # nothing built by construction
    assert fresh.session(date(1999, 1, 4)) is not None
    assert fresh._first_year == 1990
    assert fresh.next_open(datetime(1999, 12, 31, 22, tzinfo=UTC)).date() == date(2000, 1, 3)
    assert fresh.session(date(2031, 1, 2)) is not None  # widened on demand


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        nyse().is_open(datetime(2024, 3, 8, 10))


def test_unknown_calendar_names_fail_clearly() -> None:
    with pytest.raises(ValueError, match="unknown calendar"):
        TradingCalendar("NOPE").session(date(2024, 1, 2))
