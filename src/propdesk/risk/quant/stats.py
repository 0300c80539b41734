"""Small statistics helpers shared by the Monte Carlo estimators."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Proportion:
    """A Monte Carlo proportion with its standard error and 95% Wilson interval."""

    successes: int
    trials: int
    estimate: float
    standard_error: float
    wilson_low: float
    wilson_high: float


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval: well-behaved near 0 and 1, unlike the normal approximation."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def proportion(successes: int, trials: int) -> Proportion:
    p = successes / trials if trials else 0.0
    se = math.sqrt(p * (1 - p) / trials) if trials else 0.0
    low, high = wilson_interval(successes, trials)
    return Proportion(successes, trials, p, se, low, high)
