"""Severity scales and their thresholds, in one place so that docs, API and tests agree.

Two scales answer two questions:

* :class:`Severity` (per rule check): how close one rule is to its limit. ``INFO`` below 80% of
  the limit used, ``WARNING`` from 80% (seed 001: "approaching limit (80%+)"), ``CRITICAL`` at or
  over the limit, ``BLOCKING`` when the account cannot trade because of an outcome (failed,
  passed, day locked, a pre-trade gate). A daily loss of 950 of 1,000 is WARNING; a consistency
  ratio over its percentage is CRITICAL.
* :class:`BreachLevel` (per account): how much room is left above the binding floor, as a
  fraction of that floor's allowance (the trail or daily amount). ``SAFE`` at 50% or more,
  ``WARNING`` from 20% to under 50%, ``DANGER`` from 10% to under 20%, ``CRITICAL`` under 10% or
  breached. Seed 001: 500 left of a 2,000 trail (25%) is WARNING.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

WARNING_UTILIZATION = Decimal("0.8")

SAFE_REMAINING = Decimal("0.5")
WARNING_REMAINING = Decimal("0.2")
DANGER_REMAINING = Decimal("0.1")


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    BLOCKING = "blocking"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2, Severity.BLOCKING: 3}


class BreachLevel(StrEnum):
    SAFE = "safe"
    WARNING = "warning"
    DANGER = "danger"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _BREACH_RANK[self]


_BREACH_RANK = {BreachLevel.SAFE: 0, BreachLevel.WARNING: 1, BreachLevel.DANGER: 2, BreachLevel.CRITICAL: 3}


def severity_for_utilization(used: Decimal, limit: Decimal) -> Severity:
    """INFO / WARNING / CRITICAL for ``used`` of ``limit`` (a limit of zero is always at the limit)."""
    if limit <= 0 or used >= limit:
        return Severity.CRITICAL
    if used >= WARNING_UTILIZATION * limit:
        return Severity.WARNING
    return Severity.INFO


def breach_level(cushion: Decimal, allowance: Decimal) -> BreachLevel:
    """The breach level for ``cushion`` left above a floor whose allowance is ``allowance``."""
    if cushion <= 0 or allowance <= 0:
        return BreachLevel.CRITICAL
    remaining = cushion / allowance
    if remaining >= SAFE_REMAINING:
        return BreachLevel.SAFE
    if remaining >= WARNING_REMAINING:
        return BreachLevel.WARNING
    if remaining >= DANGER_REMAINING:
        return BreachLevel.DANGER
    return BreachLevel.CRITICAL


def worst(severities: list[Severity]) -> Severity:
    return max(severities, key=lambda s: s.rank, default=Severity.INFO)
