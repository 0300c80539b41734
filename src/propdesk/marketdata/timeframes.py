"""Bar timeframes in Alpaca's grammar, normalized to one spelling for storage.

Alpaca accepts ``[1-59]Min|T``, ``[1-23]Hour|H``, ``1Day|D``, ``1Week|W`` and
``[1,2,3,4,6,12]Month|M``. propdesk stores the long spelling (``5Min``, ``1Hour``, ``1Day``) so
that a bar imported as ``5T`` and one fetched as ``5Min`` share one key in the bars table.
"""

from __future__ import annotations

import re
from datetime import timedelta

_GRAMMAR = re.compile(r"(?P<n>[1-9][0-9]?)(?P<unit>Min|T|Hour|H|Day|D|Week|W|Month|M)")
_UNIT = {"T": "Min", "H": "Hour", "D": "Day", "W": "Week", "M": "Month"}
_RANGE = {
    "Min": range(1, 60),
    "Hour": range(1, 24),
    "Day": range(1, 2),
    "Week": range(1, 2),
    "Month": (1, 2, 3, 4, 6, 12),
}


class TimeframeError(ValueError):
    """A timeframe outside Alpaca's grammar."""


def normalize_timeframe(text: str) -> str:
    """``5T`` → ``5Min``, ``1D`` → ``1Day``; raises :class:`TimeframeError` for anything else."""
    match = _GRAMMAR.fullmatch(text.strip())
    if match is None:
        raise TimeframeError(f"timeframe {text!r} is not one of NMin, NHour, 1Day, 1Week, NMonth")
    n = int(match["n"])
    unit = _UNIT.get(match["unit"], match["unit"])
    if n not in _RANGE[unit]:
        raise TimeframeError(f"timeframe {text!r}: {n} is not a valid count of {unit}")
    return f"{n}{unit}"


def timeframe_duration(timeframe: str) -> timedelta | None:
    """The fixed length of a bar, or None for months (which have none)."""
    normalized = normalize_timeframe(timeframe)
    match = _GRAMMAR.fullmatch(normalized)
    assert match is not None
    n, unit = int(match["n"]), match["unit"]
    if unit == "Min":
        return timedelta(minutes=n)
    if unit == "Hour":
        return timedelta(hours=n)
    if unit == "Day":
        return timedelta(days=n)
    if unit == "Week":
        return timedelta(weeks=n)
    return None


def timeframe_for(step: timedelta) -> str:
    """The timeframe whose bars are ``step`` apart (used to infer a file's timeframe)."""
    seconds = int(step.total_seconds())
    if step <= timedelta(0) or step != timedelta(seconds=seconds):
        raise TimeframeError(f"bars {step} apart have no timeframe")
    if seconds % 604_800 == 0 and seconds // 604_800 == 1:
        return "1Week"
    if seconds % 86_400 == 0 and seconds // 86_400 == 1:
        return "1Day"
    if seconds % 3_600 == 0 and seconds // 3_600 < 24:
        return f"{seconds // 3_600}Hour"
    if seconds % 60 == 0 and seconds // 60 < 60:
        return f"{seconds // 60}Min"
    raise TimeframeError(f"bars {step} apart have no timeframe; pass one explicitly")
