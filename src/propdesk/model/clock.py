"""The one clock type: where propdesk code reads "now" from, injected so replays and tests reproduce.

A clock is any zero-argument callable returning the current time as a timezone-aware
``datetime``. Services and jobs take one (``propdesk.services.clock.system_clock`` in production);
market data's :class:`~propdesk.marketdata.clock.SystemClock` and
:class:`~propdesk.marketdata.clock.ReplayClock` are clocks too (calling one is its ``now()``). It
lives in the model, the lowest layer, so every layer names the same type.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeAlias

Clock: TypeAlias = Callable[[], datetime]
