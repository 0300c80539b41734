"""The injectable clock: services take ``clock`` and never read the system time themselves.

Replays and tests pass a fixed or stepping clock, so a failing case reproduces exactly; entry
points pass :func:`system_clock`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time, timezone-aware UTC: the production clock and the only call to ``now``."""
    return datetime.now(UTC)
