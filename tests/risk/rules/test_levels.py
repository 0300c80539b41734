"""The severity and breach-level scales and their thresholds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from propdesk.risk.rules.levels import BreachLevel, Severity, breach_level, severity_for_utilization

D = Decimal


@pytest.mark.parametrize(
    ("cushion", "level"),
    [
        (1000, BreachLevel.SAFE),
        (999, BreachLevel.WARNING),
        (400, BreachLevel.WARNING),
        (399, BreachLevel.DANGER),
        (200, BreachLevel.DANGER),
        (199, BreachLevel.CRITICAL),
        (0, BreachLevel.CRITICAL),
        (-5, BreachLevel.CRITICAL),
    ],
)
def test_breach_level_thresholds_of_a_2000_allowance(cushion: int, level: BreachLevel) -> None:
    assert breach_level(D(cushion), D(2000)) is level


@pytest.mark.parametrize(
    ("used", "severity"),
    [
        (0, Severity.INFO),
        (799, Severity.INFO),
        (800, Severity.WARNING),
        (999, Severity.WARNING),
        (1000, Severity.CRITICAL),
    ],
)
def test_rule_severity_thresholds(used: int, severity: Severity) -> None:
    assert severity_for_utilization(D(used), D(1000)) is severity
