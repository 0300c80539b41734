"""Bar files: shipped files with their README row counts, every format, and refusals by line."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from propdesk.marketdata.files import BarFile, BarFileError, read_bars, read_daily_bars, shipped_file


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("nvda-1999-2014.txt", 4012),
        ("orcl-1995-2014.txt", 5036),
        ("yhoo-1996-2015.txt", 4965),
        ("sp500-1999-2018.csv", 5031),
        ("nasdaq-1999-2018.csv", 5031),
    ],
)
def test_shipped_daily_files_load_with_the_documented_row_counts(name: str, rows: int) -> None:
    bars = read_daily_bars(shipped_file(name), "X")
    assert len(bars) == rows
    assert [b.start for b in bars] == sorted(b.start for b in bars)


def test_prices_are_exact_decimals_as_published() -> None:
    first = read_daily_bars(shipped_file("nvda-1999-2014.txt"), "NVDA")[0]
    assert str(first.start) == "1999-01-22 00:00:00-05:00"
    assert (first.open, first.high, first.low, first.close) == (
        Decimal("1.750000"),
        Decimal("1.953125"),
        Decimal("1.552083"),
        Decimal("1.640625"),
    )
    assert first.volume == Decimal(67867200)


def test_index_files_use_month_day_year_dates() -> None:
    first = read_daily_bars(shipped_file("sp500-1999-2018.csv"), "SPX")[0]
    assert first.start.date().isoformat() == "1999-01-04"


def test_a_file_with_bad_rows_is_refused_naming_every_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2020-01-02,10,11,9,10.5,10.5,100\n"
        "2020-01-03,10,abc,9,10.5,10.5,100\n"
        "2020-01-06,10,11,9,12,12,100\n"  # close above high
        "2020-13-07,10,11,9,10.5,10.5,100\n"
    )
    with pytest.raises(BarFileError) as info:
        read_daily_bars(path, "X")
    assert [b.line for b in info.value.bad_rows] == [3, 4, 5]
    assert "line 3" in str(info.value)


# --- formats, time zones and refusals --------------------------------------------------------------

README_ROWS = {
    "nvda-1999-2014.txt": ("yahoo", "1Day", 4012),
    "orcl-1995-2014.txt": ("yahoo", "1Day", 5036),
    "yhoo-1996-2015.txt": ("yahoo", "1Day", 4965),
    "sp500-1999-2018.csv": ("yahoo", "1Day", 5031),
    "nasdaq-1999-2018.csv": ("yahoo", "1Day", 5031),
    "2006-01-02-volume-min-001.txt": ("intraday", "1Min", 30889),
    "2006-min-005.txt": ("intraday", "5Min", 2142),
}


@cache
def _shipped(name: str) -> BarFile:
    """Each shipped file parsed once per test process (the 1-minute file takes most of a second)."""
    return read_bars(shipped_file(name), "X")


@pytest.mark.parametrize("name", README_ROWS)
def test_every_shipped_file_is_detected_and_read_with_its_readme_row_count(name: str) -> None:
    fmt, timeframe, rows = README_ROWS[name]
    bar_file = _shipped(name)
    assert (bar_file.format.value, bar_file.timeframe, len(bar_file.bars)) == (fmt, timeframe, rows)
    starts = [b.start for b in bar_file.bars]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)


def test_intraday_file_whose_header_omits_time_is_read_by_position_in_cet() -> None:
    bar_file = _shipped("2006-01-02-volume-min-001.txt")
    first, last = bar_file.bars[0], bar_file.bars[-1]
    assert bar_file.zone == "Europe/Berlin"
    # "2006-01-02,09:01:00,3602.00,3603.00,3597.00,3599.00,5699,0": the bar that ended at 09:01 CET.
    assert first.start == datetime(2006, 1, 2, 8, 0, tzinfo=UTC)
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        Decimal("3602.00"),
        Decimal("3603.00"),
        Decimal("3597.00"),
        Decimal("3599.00"),
        Decimal(5699),
    )
    assert last.start == datetime(2006, 2, 27, 20, 59, tzinfo=UTC)  # ends at the 22:00 CET close
    five = _shipped("2006-min-005.txt").bars
    assert five[0].start == datetime(2006, 1, 2, 8, 0, tzinfo=UTC)  # 09:05 CET stamp, 09:00 start
    assert five[-1].start + timedelta(minutes=5) == datetime(
        2006, 1, 30, 17, 30, tzinfo=ZoneInfo("Europe/Berlin")
    )


def test_tz_and_timeframe_can_be_given(tmp_path: Path) -> None:
    path = tmp_path / "ny.txt"
    path.write_text(
        "Date,Time,Open,High,Low,Close,Volume,OpenInterest\n2024-03-08,09:31,10,11,9,10.5,100,0\n"
    )
    (only,) = read_bars(path, "X", format="intraday", zone="America/New_York", timeframe="1Min").bars
    assert only.start == datetime(2024, 3, 8, 14, 30, tzinfo=UTC)


def _with_field(line: str, index: int, value: str) -> str:
    fields = line.split(",")
    fields[index] = value
    return ",".join(fields)


def _corrupt(tmp_path: Path, name: str, edit: dict[int, str | None]) -> Path:
    """A copy of a shipped file with some lines (1-based) replaced, or removed when None."""
    lines = shipped_file(name).read_text().splitlines()
    for number, text in sorted(edit.items(), reverse=True):
        if text is None:
            del lines[number - 1]
        else:
            lines[number - 1] = text
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_corrupted_daily_copy_names_every_bad_line(tmp_path: Path) -> None:
    lines = shipped_file("nvda-1999-2014.txt").read_text().splitlines()
    path = _corrupt(
        tmp_path,
        "nvda-1999-2014.txt",
        {
            10: _with_field(lines[9], 2, "1.9x"),  # bad number
            20: ",".join(lines[19].split(",")[:-1]),  # missing column
            31: lines[29],  # line 31 repeats line 30's date: time not after the previous row
            41: lines[39].replace(lines[39][:10], "1999-01-01"),  # time going backwards
        },
    )
    with pytest.raises(BarFileError) as info:
        read_bars(path, "NVDA")
    assert [b.line for b in info.value.bad_rows] == [10, 20, 31, 41]
    messages = {b.line: b.message for b in info.value.bad_rows}
    assert "not a decimal number" in messages[10]
    assert "expected 7 fields, found 6" in messages[20]
    assert "repeats line 30" in messages[31]
    assert "goes back before line 40" in messages[41]


def test_corrupted_intraday_copy_names_every_bad_line(tmp_path: Path) -> None:
    lines = shipped_file("2006-01-02-volume-min-001.txt").read_text().splitlines()
    path = _corrupt(
        tmp_path,
        "2006-01-02-volume-min-001.txt",
        {
            5: _with_field(lines[4], 7, "zero"),  # bad open interest number
            500: ",".join(lines[499].split(",")[:7]),  # missing column
            1000: lines[2],  # time going backwards to 09:02
            30000: lines[29999].replace(":", "", 1),  # a time that is not HH:MM
        },
    )
    with pytest.raises(BarFileError) as info:
        read_bars(path, "FESX")
    assert [b.line for b in info.value.bad_rows] == [5, 500, 1000, 30000]
    assert "line 5:" in str(info.value)


def test_header_problems_are_reported_on_line_1(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n2020-01-02,10,11,9,10.5,100\n")
    with pytest.raises(BarFileError) as info:
        read_bars(path, "X", format="yahoo")
    assert [b.line for b in info.value.bad_rows] == [1, 2]
    generic = tmp_path / "g.csv"
    generic.write_text("when,open,high,low,close\n2020-01-02,10,11,9,10.5\n")
    with pytest.raises(BarFileError, match="missing column"):
        read_bars(generic, "X", format="csv")
    empty = tmp_path / "e.csv"
    empty.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n")
    with pytest.raises(BarFileError, match="no data rows"):
        read_bars(empty, "X")


def test_generic_csv_with_offsets_optional_columns_and_a_symbol_column(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(
        "symbol,timestamp,open,high,low,close,volume,vwap,trade_count\n"
        "BTC/USD,2024-03-08T00:00:00Z,67000.5,68000,66000,67500.25,12.345678901,67300.1,1200\n"
        "BTC/USD,2024-03-08T02:00:00+01:00,67500.25,67600,67400,67450,0.5,,\n"
        "BTC/USD,2024-03-08T02:00:00,67450,67500,67400,67499,1,,\n"
    )
    bar_file = read_bars(path, "BTC/USD")
    assert bar_file.format.value == "csv"
    assert bar_file.timeframe == "1Hour"
    first, second, third = bar_file.bars
    assert (first.volume, first.vwap, first.trade_count) == (
        Decimal("12.345678901"),
        Decimal("67300.1"),
        1200,
    )
    assert second.start == datetime(2024, 3, 8, 1, tzinfo=UTC)
    assert third.start == datetime(2024, 3, 8, 2, tzinfo=UTC)  # no offset: the zone, UTC by default
    assert second.vwap is None
    with pytest.raises(BarFileError, match="is not 'ETH/USD'"):
        read_bars(path, "ETH/USD")


def test_a_local_time_skipped_by_dst_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "dst.txt"
    path.write_text(
        "Date,Time,Open,High,Low,Close,Volume,OpenInterest\n"
        "2024-03-31,01:59,10,11,9,10,1,0\n"
        "2024-03-31,02:30,10,11,9,10,1,0\n"  # Europe/Berlin jumps from 02:00 to 03:00
        "2024-03-31,03:01,10,11,9,10,1,0\n"
    )
    with pytest.raises(BarFileError, match="does not exist in Europe/Berlin") as info:
        read_bars(path, "X", timeframe="1Min")
    assert [b.line for b in info.value.bad_rows] == [3]


def test_negative_volume_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,10,11,9,10.5,10.5,-1\n")
    with pytest.raises(BarFileError, match="negative"):
        read_bars(path, "X")
