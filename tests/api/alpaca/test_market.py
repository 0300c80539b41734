"""GET /v2/calendar (and /v2/clock): NYSE sessions in Alpaca's shape, through HTTP and alpaca-py."""

from __future__ import annotations

from datetime import date, datetime

from alpaca.trading.client import TradingClient
from alpaca.trading.models import Calendar, Clock
from alpaca.trading.requests import GetCalendarRequest

from tests.api.alpaca.conftest import Paper


def row(day: str, close: str, settles: str, session_close: str = "2000") -> dict[str, str]:
    return {
        "date": day,
        "open": "09:30",
        "close": close,
        "session_open": "0400",
        "session_close": session_close,
        "settlement_date": settles,
    }


def test_thanksgiving_week_has_the_early_close_and_t_plus_one_settlement(paper: Paper) -> None:
    with paper.http() as http:
        reply = http.get("/v2/calendar", params={"start": "2025-11-25", "end": "2025-12-02"})
    assert reply.status_code == 200
    assert reply.json() == [
        row("2025-11-25", "16:00", "2025-11-26"),
        row("2025-11-26", "16:00", "2025-11-28"),  # Thanksgiving (27th): no session, no settlement
        row("2025-11-28", "13:00", "2025-12-01", session_close="1700"),
        row("2025-12-01", "16:00", "2025-12-02"),
        row("2025-12-02", "16:00", "2025-12-03"),
    ]


def test_christmas_is_absent_and_summer_time_changes_nothing_in_new_york_hours(paper: Paper) -> None:
    with paper.http() as http:
        winter = http.get("/v2/calendar", params={"start": "2025-12-22", "end": "2025-12-29"}).json()
        summer = http.get("/v2/calendar", params={"start": "2025-07-03", "end": "2025-07-07"}).json()
    assert [(d["date"], d["close"]) for d in winter] == [
        ("2025-12-22", "16:00"),
        ("2025-12-23", "16:00"),
        ("2025-12-24", "13:00"),
        ("2025-12-26", "16:00"),
        ("2025-12-29", "16:00"),
    ]
    assert [(d["date"], d["open"], d["close"]) for d in summer] == [
        ("2025-07-03", "09:30", "13:00"),
        ("2025-07-07", "09:30", "16:00"),
    ]


def test_settlement_is_t_plus_two_before_2024_05_28_and_skips_bank_holidays(paper: Paper) -> None:
    with paper.http() as http:
        switch = http.get("/v2/calendar", params={"start": "2024-05-23", "end": "2024-05-29"}).json()
        columbus = http.get("/v2/calendar", params={"start": "2025-10-09", "end": "2025-10-14"}).json()
        early = http.get("/v2/calendar", params={"start": "1970-01-01", "end": "1970-01-09"}).json()
    assert [(d["date"], d["settlement_date"]) for d in switch] == [
        ("2024-05-23", "2024-05-28"),  # T+2 over Memorial Day
        ("2024-05-24", "2024-05-29"),  # the last T+2 trade date
        ("2024-05-28", "2024-05-29"),  # the first T+1 trade date settles the same day as the 24th
        ("2024-05-29", "2024-05-30"),
    ]
    # Columbus Day (Oct 13): the NYSE trades, the banks (and so settlement) do not.
    assert [(d["date"], d["settlement_date"]) for d in columbus] == [
        ("2025-10-09", "2025-10-10"),
        ("2025-10-10", "2025-10-14"),
        ("2025-10-13", "2025-10-14"),
        ("2025-10-14", "2025-10-15"),
    ]
    # Alpaca's own first rows (T+2 all the way back).
    assert [(d["date"], d["settlement_date"]) for d in early] == [
        ("1970-01-02", "1970-01-06"),
        ("1970-01-05", "1970-01-07"),
        ("1970-01-06", "1970-01-08"),
        ("1970-01-07", "1970-01-09"),
        ("1970-01-08", "1970-01-12"),
        ("1970-01-09", "1970-01-13"),
    ]


def test_date_type_settlement_selects_by_settlement_date(paper: Paper) -> None:
    with paper.http() as http:
        reply = http.get(
            "/v2/calendar", params={"start": "2025-10-14", "end": "2025-10-14", "date_type": "settlement"}
        )
    assert [(d["date"], d["settlement_date"]) for d in reply.json()] == [
        ("2025-10-10", "2025-10-14"),
        ("2025-10-13", "2025-10-14"),
    ]


def test_without_bounds_the_calendar_runs_from_last_year_to_next_year(paper: Paper) -> None:
    with paper.http() as http:
        everything = http.get("/v2/calendar").json()
        from_start = http.get("/v2/calendar", params={"start": "2020-06-01"}).json()
        to_end = http.get("/v2/calendar", params={"end": "2023-02-01"}).json()
    assert (everything[0]["date"], everything[-1]["date"], len(everything)) == (
        "2025-01-02",
        "2027-12-31",
        752,
    )
    assert (from_start[0]["date"], from_start[-1]["date"]) == ("2020-06-01", "2027-12-31")
    assert (to_end[0]["date"], to_end[-1]["date"]) == ("2022-01-03", "2023-02-01")


def test_a_timestamp_bound_counts_as_its_date(paper: Paper) -> None:
    with paper.http() as http:
        reply = http.get(
            "/v2/calendar", params={"start": "2026-01-06T00:00:00Z", "end": "2026-01-07T23:59:59-05:00"}
        )
    assert [d["date"] for d in reply.json()] == ["2026-01-06", "2026-01-07"]


BAD_BOUNDS = [
    {"start": "2025-13-01"},
    {"start": "yesterday"},
    {"end": "2025-02-30"},
    {"start": "2025-12-02", "end": "2025-12-01"},
    {"start": "1969-12-01", "end": "1970-01-05"},
    {"start": "2025-01-01", "end": "2040-01-01"},
    {"start": "2025-01-01", "end": "2025-01-05", "date_type": "CLEARING"},
]


def test_bad_bounds_are_422_with_alpacas_code(paper: Paper) -> None:
    with paper.http() as http:
        for params in BAD_BOUNDS:
            reply = http.get("/v2/calendar", params=params)
            assert reply.status_code == 422, params
            assert reply.json()["code"] == 40010001, params
            assert isinstance(reply.json()["message"], str)


def test_the_calendar_needs_a_key_pair(paper: Paper) -> None:
    with paper.http() as http:
        reply = http.get("/v2/calendar", headers={"APCA-API-KEY-ID": "", "APCA-API-SECRET-KEY": ""})
    assert reply.status_code == 401
    assert reply.json()["code"] == 40110000


def test_alpaca_py_get_calendar_parses(paper: Paper) -> None:
    client = TradingClient(paper.keys.key_id, paper.keys.secret_key, paper=True, url_override=paper.url)
    days = client.get_calendar(GetCalendarRequest(start=date(2025, 11, 24), end=date(2025, 12, 31)))
    assert isinstance(days, list)
    assert all(isinstance(day, Calendar) for day in days)
    by_date = {day.date: day for day in days}
    assert by_date[date(2025, 11, 28)].close == datetime(2025, 11, 28, 13, 0)
    assert by_date[date(2025, 11, 28)].open == datetime(2025, 11, 28, 9, 30)
    assert by_date[date(2025, 12, 24)].close == datetime(2025, 12, 24, 13, 0)
    assert date(2025, 12, 25) not in by_date
    assert date(2025, 11, 27) not in by_date
    assert len(days) == 26


def test_alpaca_py_clock_is_in_new_york_time(paper: Paper) -> None:
    client = TradingClient(paper.keys.key_id, paper.keys.secret_key, paper=True, url_override=paper.url)
    paper.clock.current = datetime.fromisoformat(
        "2025-11-28T18:30:00+00:00"
    )  # 13:30 ET, after the early close
    clock = client.get_clock()
    assert isinstance(clock, Clock)
    assert clock.is_open is False
    assert clock.next_open.isoformat() == "2025-12-01T09:30:00-05:00"
    assert clock.next_close.isoformat() == "2025-12-01T16:00:00-05:00"
