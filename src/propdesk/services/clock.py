"""The injectable clock: services take ``clock`` and never read the system time themselves.

Replays and tests pass a fixed or stepping clock, so a failing case reproduces exactly; entry
points pass :func:`system_clock`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from propdesk.model.clock import Clock

__all__ = ["Clock", "system_clock"]


def system_clock() -> datetime:
    """The current time, timezone-aware UTC: the production clock and the only call to ``now``."""
    return datetime.now(UTC)
