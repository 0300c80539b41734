from decimal import Decimal
from pathlib import Path

import pytest

from propdesk.marketdata.files import BarFileError, read_daily_bars, shipped_file


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
