"""Bar files: Yahoo daily exports, intraday exchange exports and a generic CSV.

Prices are parsed from their text as exact decimals. A file with any bad row is refused as a
whole, naming every bad line, so a half-read file never reaches the price store or a replay.
A row is bad when a field is not a number (or a date), a field is missing or extra, the OHLC
values are out of order, the volume is negative, or its time is not after the previous row's
(time going backwards, or a duplicate).

Formats (``--format`` of ``propdesk data import``; detected from the header when omitted):

``yahoo``
    ``Date,Open,High,Low,Close,Adj Close,Volume`` with ISO or ``M/D/YYYY`` dates. One ``1Day``
    bar per row starting at midnight of its date in the zone (America/New_York by default,
    Alpaca's convention for daily bars). ``Adj Close`` is not stored: OHLC are used as published.
``intraday``
    ``Date,Time,Open,High,Low,Close,Volume,OpenInterest`` in exchange-local time (Europe/Berlin,
    i.e. CET/CEST, by default). The header may omit ``Time`` while every row has it (the shipped
    1-minute file does): rows are read by position, so that header is accepted as it is. The
    time stamps the bar's *end*: the 1-minute file's first bar is 09:01 and the 5-minute file's
    09:05 for a 09:00 open, and their last bars are exactly the 22:00 and 17:30 closes. So a bar
    starts one timeframe earlier. ``OpenInterest`` is not stored.
``csv``
    A header naming the columns (any order, case-insensitive): a time column (``time``,
    ``timestamp``, ``start``, ``datetime`` or ``date``), ``open``, ``high``, ``low``, ``close``,
    optional ``volume``, ``vwap``, ``trade_count`` and ``symbol`` (which must then match the
    symbol imported). Times are ISO 8601 bar *starts*; a time without an offset is read in the
    zone (UTC by default).

Local times are converted to UTC. A local time that does not exist (skipped by a DST change)
is a bad row; an ambiguous one (repeated by a DST change) is read as its first occurrence.
When no timeframe is given it is inferred as the most common gap between consecutive rows.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from propdesk.marketdata.timeframes import (
    TimeframeError,
    normalize_timeframe,
    timeframe_duration,
    timeframe_for,
)
from propdesk.model.market import Bar
from propdesk.model.numbers import NotExactError, parse_decimal

NEW_YORK = ZoneInfo("America/New_York")
# The shipped intraday files are Eurex (Frankfurt) exchange-local time.
EXCHANGE_CET = ZoneInfo("Europe/Berlin")

Progress = Callable[[int, int], None]
_PROGRESS_EVERY = 2_000


class BarFormat(StrEnum):
    YAHOO = "yahoo"
    INTRADAY = "intraday"
    CSV = "csv"


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


@dataclass(frozen=True, slots=True)
class BarFile:
    """The bars of one file, in time order, and how it was read."""

    path: Path
    symbol: str
    format: BarFormat
    timeframe: str
    zone: str
    bars: list[Bar]


_YAHOO_HEADER = ["date", "open", "high", "low", "close", "adj close", "volume"]
_INTRADAY_HEADER = ["date", "time", "open", "high", "low", "close", "volume", "openinterest"]
_INTRADAY_HEADER_NO_TIME = ["date", "open", "high", "low", "close", "volume", "openinterest"]
_CLOCK_TIME = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")
_CSV_TIME_COLUMNS = ("time", "timestamp", "start", "datetime", "date")


def _parse_date(text: str) -> date:
    text = text.strip()
    if "/" in text:  # M/D/YYYY in the index files
        parts = text.split("/")
        if len(parts) != 3:
            raise ValueError(f"date {text!r} is not M/D/YYYY")
        month, day, year = (int(part) for part in parts)
        return date(year, month, day)
    return date.fromisoformat(text)


def _parse_clock(text: str) -> time:
    text = text.strip()
    if not _CLOCK_TIME.fullmatch(text):
        raise ValueError(f"time {text!r} is not HH:MM[:SS]")
    return time.fromisoformat(text if text.count(":") == 2 else f"{text}:00")


def _local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """``day clock`` in ``zone`` (aware); a wall time skipped by a DST change is refused."""
    local = datetime.combine(day, clock, zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValueError(f"{day} {clock} does not exist in {zone.key} (skipped by a DST change)")
    return local


def _lines(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-empty rows with their 1-based line numbers."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        rows = [(reader.line_num, row) for row in reader if row and any(f.strip() for f in row)]
    return header, rows


def _zone(name: str | ZoneInfo | None, default: ZoneInfo) -> ZoneInfo:
    if name is None:
        return default
    if isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def detect_format(path: Path) -> BarFormat:
    """Guess a file's format from its header (and first row, for the header that omits Time)."""
    header, rows = _lines(path)
    names = [h.lower() for h in header]
    if names == _YAHOO_HEADER:
        return BarFormat.YAHOO
    if names in (_INTRADAY_HEADER, _INTRADAY_HEADER_NO_TIME):
        return BarFormat.INTRADAY
    if (
        rows
        and len(rows[0][1]) > 1
        and _CLOCK_TIME.fullmatch(rows[0][1][1].strip())
        and names[:1] == ["date"]
    ):
        return BarFormat.INTRADAY
    return BarFormat.CSV


def _number(text: str, field: str, *, signed: bool = False) -> Decimal:
    """A field in the strict number grammar (:func:`propdesk.model.numbers.parse_decimal`); spaces
    around it, as some exports write after a comma, are not part of it."""
    return parse_decimal(text.strip(" \t"), field=field, signed=signed)


def _decimal_fields(values: Sequence[str], names: Sequence[str]) -> list[Decimal]:
    # Prices may be negative (a future's settlement can be, as crude oil's was in April 2020).
    return [_number(v, n, signed=True) for v, n in zip(values, names, strict=True)]


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    stamp: datetime  # aware: the bar start (yahoo, csv) or end (intraday)
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    vwap: Decimal | None = None
    trade_count: int | None = None


def _yahoo_rows(
    header: list[str], rows: list[tuple[int, list[str]]], zone: ZoneInfo, bad: list[BadRow]
) -> list[_Row]:
    if [h.lower() for h in header] != _YAHOO_HEADER:
        bad.append(
            BadRow(1, f"header {','.join(header)!r} is not {','.join(h.title() for h in _YAHOO_HEADER)}")
        )
    out: list[_Row] = []
    for line, row in rows:
        try:
            if len(row) != 7:
                raise ValueError(f"expected 7 fields, found {len(row)}")
            day = _parse_date(row[0])
            o, h, low, c = _decimal_fields(row[1:5], ("open", "high", "low", "close"))
            volume = _number(row[6], "volume")
            out.append(_Row(line, datetime.combine(day, time(0), zone), o, h, low, c, volume))
        except (ValueError, NotExactError) as exc:
            bad.append(BadRow(line, str(exc)))
    return out


def _intraday_rows(
    header: list[str], rows: list[tuple[int, list[str]]], zone: ZoneInfo, bad: list[BadRow]
) -> list[_Row]:
    if [h.lower() for h in header] not in (_INTRADAY_HEADER, _INTRADAY_HEADER_NO_TIME):
        bad.append(
            BadRow(1, f"header {','.join(header)!r} is not Date,Time,Open,High,Low,Close,Volume,OpenInterest")
        )
    out: list[_Row] = []
    for line, row in rows:
        try:
            if len(row) != 8:
                raise ValueError(
                    f"expected 8 fields (Date,Time,Open,High,Low,Close,Volume,OpenInterest), found {len(row)}"
                )
            stamp = _local(_parse_date(row[0]), _parse_clock(row[1]), zone)
            o, h, low, c, volume = _decimal_fields(row[2:7], ("open", "high", "low", "close", "volume"))
            _number(row[7], "open interest")  # validated, not stored
            out.append(_Row(line, stamp, o, h, low, c, volume))
        except (ValueError, NotExactError) as exc:
            bad.append(BadRow(line, str(exc)))
    return out


def _parse_instant(text: str, zone: ZoneInfo) -> datetime:
    text = text.strip()
    if len(text) <= 10:  # a date alone: midnight in the zone
        return datetime.combine(_parse_date(text), time(0), zone)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if moment.tzinfo is None:
        return _local(moment.date(), moment.time(), zone)
    return moment


def _csv_rows(
    header: list[str], rows: list[tuple[int, list[str]]], zone: ZoneInfo, symbol: str, bad: list[BadRow]
) -> list[_Row]:
    names = [h.lower() for h in header]
    time_column = next((c for c in _CSV_TIME_COLUMNS if c in names), None)
    missing = [c for c in ("open", "high", "low", "close") if c not in names]
    if time_column is None:
        missing.insert(0, "time")
    if missing or len(set(names)) != len(names):
        problem = f"missing column(s) {', '.join(missing)}" if missing else "duplicate column names"
        bad.append(BadRow(1, f"header {','.join(header)!r}: {problem}"))
        return []
    assert time_column is not None
    index = {name: position for position, name in enumerate(names)}
    out: list[_Row] = []
    for line, row in rows:
        try:
            if len(row) != len(names):
                raise ValueError(f"expected {len(names)} fields, found {len(row)}")
            if "symbol" in index and row[index["symbol"]].strip() != symbol:
                raise ValueError(f"symbol {row[index['symbol']]!r} is not {symbol!r}")
            o, h, low, c = _decimal_fields(
                [row[index[n]] for n in ("open", "high", "low", "close")], ("open", "high", "low", "close")
            )
            volume = _number(row[index["volume"]], "volume") if "volume" in index else Decimal(0)
            vwap_text = row[index["vwap"]].strip() if "vwap" in index else ""
            vwap = _number(vwap_text, "vwap", signed=True) if vwap_text else None
            count_text = row[index["trade_count"]].strip() if "trade_count" in index else ""
            trade_count = int(count_text) if count_text else None
            stamp = _parse_instant(row[index[time_column]], zone)
            out.append(_Row(line, stamp, o, h, low, c, volume, vwap, trade_count))
        except (ValueError, NotExactError) as exc:
            bad.append(BadRow(line, str(exc)))
    return out


def _infer_step(rows: Sequence[_Row]) -> timedelta:
    gaps = Counter(b.stamp - a.stamp for a, b in itertools.pairwise(rows) if b.stamp > a.stamp)
    if not gaps:
        raise TimeframeError("cannot infer the timeframe of fewer than two rows; pass one explicitly")
    return gaps.most_common(1)[0][0]


def read_bars(
    path: Path,
    symbol: str,
    *,
    format: BarFormat | str | None = None,
    zone: str | ZoneInfo | None = None,
    timeframe: str | None = None,
    progress: Progress | None = None,
) -> BarFile:
    """Every bar of ``path`` for ``symbol``, oldest first, or :class:`BarFileError` naming each bad line.

    ``progress(done, total)`` is called as rows are read (for a progress bar).
    """
    fmt = BarFormat(format) if format is not None else detect_format(path)
    header, rows = _lines(path)
    bad: list[BadRow] = []
    if fmt is BarFormat.YAHOO:
        tz = _zone(zone, NEW_YORK)
        parsed = _yahoo_rows(header, rows, tz, bad)
    elif fmt is BarFormat.INTRADAY:
        tz = _zone(zone, EXCHANGE_CET)
        parsed = _intraday_rows(header, rows, tz, bad)
    else:
        tz = _zone(zone, ZoneInfo("UTC"))
        parsed = _csv_rows(header, rows, tz, symbol, bad)
    if not rows:
        bad.append(BadRow(1, "no data rows"))

    previous: _Row | None = None
    for row in parsed:
        if previous is not None and row.stamp <= previous.stamp:
            word = "repeats" if row.stamp == previous.stamp else "goes back before"
            bad.append(
                BadRow(
                    row.line,
                    f"time {row.stamp.isoformat()} {word} line {previous.line} ({previous.stamp.isoformat()})",
                )
            )
        previous = row

    if fmt is BarFormat.YAHOO:
        frame = normalize_timeframe(timeframe or "1Day")
    else:
        try:
            frame = normalize_timeframe(timeframe) if timeframe else timeframe_for(_infer_step(parsed))
        except TimeframeError as exc:
            if not bad:
                raise BarFileError(str(path), [BadRow(1, str(exc))]) from exc
            frame = "1Day"  # irrelevant: the file is refused below
    step = timeframe_duration(frame)
    if fmt is BarFormat.INTRADAY and step is None:
        raise ValueError("intraday files need a timeframe of fixed length (minutes, hours, days)")

    bars: list[Bar] = []
    total = len(parsed)
    for done, row in enumerate(parsed, start=1):
        # An intraday stamp is the bar's end; subtract in UTC so a DST change cannot bend it.
        start = row.stamp.astimezone(UTC) - step if fmt is BarFormat.INTRADAY and step else row.stamp
        try:
            if row.volume < 0:
                raise ValueError(f"volume {row.volume} is negative")
            bars.append(
                Bar(
                    symbol,
                    frame,
                    start,
                    row.open,
                    row.high,
                    row.low,
                    row.close,
                    row.volume,
                    row.vwap,
                    row.trade_count,
                )
            )
        except ValueError as exc:
            bad.append(BadRow(row.line, str(exc)))
        if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    if bad:
        raise BarFileError(str(path), sorted(bad, key=lambda b: b.line))
    return BarFile(path, symbol, fmt, frame, tz.key, bars)


def read_daily_bars(path: Path, symbol: str, *, zone: ZoneInfo = NEW_YORK) -> list[Bar]:
    """Daily bars from ``Date,Open,High,Low,Close,Adj Close,Volume`` (ISO or M/D/YYYY dates).

    Each bar starts at midnight of its date in ``zone`` (Alpaca's convention for daily bars).
    Open/High/Low/Close are used as published; ``Adj Close`` is ignored.
    """
    return read_bars(path, symbol, format=BarFormat.YAHOO, zone=zone).bars


def shipped_file(name: str) -> Path:
    """Path of a data file shipped inside the package."""
    return Path(str(resources.files("propdesk.data").joinpath(name)))


# Daily stock files shipped in propdesk/data that the demo and the backtest trade (see its README).
SHIPPED_DAILY: dict[str, str] = {
    "NVDA": "nvda-1999-2014.txt",
    "ORCL": "orcl-1995-2014.txt",
    "YHOO": "yhoo-1996-2015.txt",
}


def shipped_daily_files(symbols: Sequence[str]) -> dict[str, Path]:
    """The shipped daily file of each symbol; an unknown symbol is a ValueError naming it."""
    unknown = [s for s in symbols if s not in SHIPPED_DAILY]
    if unknown or not symbols:
        raise ValueError(f"unknown symbol(s) {', '.join(unknown)}; shipped: {', '.join(SHIPPED_DAILY)}")
    return {s: shipped_file(SHIPPED_DAILY[s]) for s in symbols}
