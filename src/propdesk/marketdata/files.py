"""Bar files: the Yahoo daily exports and intraday exports shipped in ``propdesk/data``.

Prices are parsed from their text as exact decimals. A file with any bad row is refused as a
whole, naming every bad line, so a half-read file never reaches the price store or a replay.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from propdesk.model.market import Bar
from propdesk.model.numbers import NotExactError, to_decimal

NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    message: str


class BarFileError(ValueError):
    """A bar file with rows that cannot be read; nothing from it is used."""

    def __init__(self, path: str, bad_rows: list[BadRow]) -> None:
        shown = "; ".join(f"line {b.line}: {b.message}" for b in bad_rows[:10])
        more = f" (and {len(bad_rows) - 10} more)" if len(bad_rows) > 10 else ""
        super().__init__(f"{path}: {len(bad_rows)} bad row(s): {shown}{more}")
        self.path = path
        self.bad_rows = bad_rows


def _parse_date(text: str) -> date:
    text = text.strip()
    if "/" in text:  # M/D/YYYY in the index files
        month, day, year = (int(part) for part in text.split("/"))
        return date(year, month, day)
    return date.fromisoformat(text)


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)  # header
        for row in reader:
            if row:
                yield reader.line_num, row


def read_daily_bars(path: Path, symbol: str, *, zone: ZoneInfo = NEW_YORK) -> list[Bar]:
    """Daily bars from ``Date,Open,High,Low,Close,Adj Close,Volume`` (ISO or M/D/YYYY dates).

    Each bar starts at midnight of its date in ``zone`` (Alpaca's convention for daily bars).
    Open/High/Low/Close are used as published; ``Adj Close`` is ignored.
    """
    bars: list[Bar] = []
    bad: list[BadRow] = []
    for line, row in _rows(path):
        try:
            if len(row) != 7:
                raise ValueError(f"expected 7 fields, found {len(row)}")
            day = _parse_date(row[0])
            o, h, low, c = (
                to_decimal(v, field=n)
                for v, n in zip(row[1:5], ("open", "high", "low", "close"), strict=True)
            )
            volume = to_decimal(row[6], field="volume")
            bars.append(Bar(symbol, "1Day", datetime.combine(day, time(0), zone), o, h, low, c, volume))
        except (ValueError, NotExactError) as exc:
            bad.append(BadRow(line, str(exc)))
    if bad:
        raise BarFileError(str(path), bad)
    return bars


def shipped_file(name: str) -> Path:
    """Path of a data file shipped inside the package."""
    return Path(str(resources.files("propdesk.data").joinpath(name)))
