"""Query parameters shared by Alpaca's history reads (portfolio history, activities): times,
dates and activity types, refused with ``invalid_request`` as Alpaca refuses them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from propdesk.services.alpaca.market_hours import nyse
from propdesk.services.errors import Invalid

# Alpaca's activity types (alpaca-py's ActivityType); only some are ever recorded here.
ACTIVITY_TYPES = frozenset(
    [
        "FILL",
        "ACATC",
        "ACATS",
        "CFEE",
        "CIL",
        "CSD",
        "CSW",
        "DIV",
        "DIVCGL",
        "DIVCGS",
        "DIVFEE",
        "DIVFT",
        "DIVNRA",
        "DIVROC",
        "DIVTW",
        "DIVTXEX",
        "DIVWH",
        "EXTRD",
        "FEE",
        "FXTRD",
        "INT",
        "INTNRA",
        "INTTW",
        "INTPNL",
        "JNL",
        "JNLC",
        "JNLS",
        "MA",
        "MEM",
        "NC",
        "OCT",
        "OPASN",
        "OPCA",
        "OPCSH",
        "OPEXC",
        "OPEXP",
        "OPTRD",
        "PTC",
        "PTR",
        "REORG",
        "SC",
        "SPIN",
        "SPLIT",
        "SSO",
        "SSP",
        "SWP",
        "VOF",
        "WH",
    ]
)
# Times outside these years are refused rather than reasoned about (calendars, overflow).
MIN_YEAR, MAX_YEAR = 1900, 2200


def invalid_parameter(message: str) -> Invalid:
    return Invalid("invalid_request", message)


def parse_moment(name: str, text: str | None, *, end_of_day: bool = False) -> datetime | None:
    """An RFC 3339 time (naive means UTC, as alpaca-py sends) or a date, read as midnight in New
    York (``end_of_day``: the following midnight)."""
    if text is None or text.strip() == "":
        return None
    # An unencoded "+" of an offset arrives as a space.
    value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", text.strip()).replace("Z", "+00:00")
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time(), tzinfo=nyse().zone)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid_parameter(f"{name} must be an RFC 3339 time or a date, not {text!r}") from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise invalid_parameter(f"{name} must lie between the years {MIN_YEAR} and {MAX_YEAR}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end_of_day and len(value) == 10:
        moment = datetime.combine(moment.date() + timedelta(days=1), time(), tzinfo=nyse().zone)
    return moment.astimezone(UTC)


def ny_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=nyse().zone).astimezone(UTC)
