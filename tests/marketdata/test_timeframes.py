"""Timeframes: Alpaca's grammar, one stored spelling, durations and inference."""

from __future__ import annotations

from datetime import timedelta

import pytest

from propdesk.marketdata.timeframes import (
    TimeframeError,
    normalize_timeframe,
    timeframe_duration,
    timeframe_for,
)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1Min", "1Min"),
        ("5T", "5Min"),
        ("59Min", "59Min"),
        ("1H", "1Hour"),
        ("23Hour", "23Hour"),
        ("1D", "1Day"),
        ("1W", "1Week"),
        ("12M", "12Month"),
    ],
)
def test_timeframes_are_normalized(given: str, stored: str) -> None:
    assert normalize_timeframe(given) == stored


@pytest.mark.parametrize("bad", ["0Min", "60Min", "24Hour", "2Day", "5Month", "1Sec", "Day", ""])
def test_timeframes_outside_the_grammar_are_refused(bad: str) -> None:
    with pytest.raises(TimeframeError):
        normalize_timeframe(bad)


def test_durations_and_inference_round_trip() -> None:
    for frame in ("1Min", "5Min", "15Min", "1Hour", "4Hour", "1Day", "1Week"):
        duration = timeframe_duration(frame)
        assert duration is not None
        assert timeframe_for(duration) == frame
    assert timeframe_duration("1Month") is None
    with pytest.raises(TimeframeError):
        timeframe_for(timedelta(seconds=90))
