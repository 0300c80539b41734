"""Risk of ruin: closed forms and Monte Carlo (docs/risk.md, "Risk maths").

* :func:`classic_ruin`: gambler's ruin with even payoff and unit bets, unlimited horizon,
  ``(q/p)^C`` for ``p > q`` (else 1), C = capital in units of risk.
* :func:`two_barrier_ruin`: the same walk absorbed at 0 or N from i:
  ``((q/p)^i − (q/p)^N) / (1 − (q/p)^N)``, or ``(N − i)/N`` when p = q. This *is* the exact
  failure probability of a static-drawdown challenge with ±1R trades (i = drawdown / risk,
  N = (drawdown + target) / risk), so it checks the challenge Monte Carlo.
* :func:`vince_ruin`: the Vince/Kaufman diffusion approximation for unequal payoff; 1 whenever
  the edge is not positive. It overstates the Monte Carlo by a factor of about 1–3.
* :func:`monte_carlo_ruin`: seeded simulation over a finite number of trades, with fixed sizing
  (risk f × initial capital) or fractional sizing (f × current equity); ruin means equity at or
  below (1 − G) × initial. Fractional sizing never reaches zero, but zero-edge fractional
  sizing still ruins at G < 1 because of volatility drag.

Probabilities are floats: they are not money.
"""

from __future__ import annotations

import math
from enum import StrEnum
from fractions import Fraction

import numpy as np

from propdesk.risk.quant.stats import Proportion, proportion


class Sizing(StrEnum):
    FIXED = "fixed"
    FRACTIONAL = "fractional"


def _check_probability(win_rate: float) -> None:
    if not 0 <= win_rate <= 1:
        raise ValueError(f"win rate must be in [0, 1], got {win_rate}")


def classic_ruin(win_rate: float, capital_units: float) -> float:
    """``(q/p)^C`` for an edge (p > q), else 1."""
    _check_probability(win_rate)
    if capital_units < 0:
        raise ValueError("capital units must not be negative")
    p, q = win_rate, 1 - win_rate
    if p <= q:
        return 1.0
    return float((q / p) ** capital_units)


def two_barrier_ruin(win_rate: float, start_units: float, target_units: float) -> float:
    """P(hit 0 before N) for a ±1 walk from ``start_units`` = i with ``target_units`` = N (0 ≤ i ≤ N)."""
    _check_probability(win_rate)
    i, n = start_units, target_units
    if not 0 <= i <= n or n <= 0:
        raise ValueError("need 0 <= start_units <= target_units and target_units > 0")
    p, q = win_rate, 1 - win_rate
    if p == 0:
        return 1.0 if i < n else 0.0
    if q == 0:
        return 1.0 if i == 0 else 0.0
    if p == q:
        return (n - i) / n
    log_r = math.log(q / p)
    if log_r < 0:  # r < 1: r^i and r^N are small, the formula is stable as written
        r_i, r_n = math.exp(i * log_r), math.exp(n * log_r)
        return (r_i - r_n) / (1 - r_n)
    # r > 1: divide through by r^N so that nothing overflows.
    return (1 - math.exp((i - n) * log_r)) / (1 - math.exp(-n * log_r))


def edge_per_unit(win_rate: float, payoff: float) -> Fraction:
    """Expected result per unit risked, ``W·R − (1 − W)``, exact for the decimals the caller wrote.

    Computed on the shortest decimal form of each float, so a zero-edge input such as
    W = 0.4, R = 1.5 is exactly zero rather than a rounding residue of 1e-17.
    """
    w, r = Fraction(repr(win_rate)), Fraction(repr(payoff))
    return w * r - (1 - w)


def vince_ruin(win_rate: float, payoff: float, risk_fraction: float, ruin_level: float) -> float:
    """Vince/Kaufman: ``((1 − P)/P)^(G/A)`` with ``P = ½(1 + Z/A)``; 1 when the edge Z ≤ 0."""
    _check_probability(win_rate)
    if payoff <= 0 or risk_fraction <= 0 or not 0 < ruin_level <= 1:
        raise ValueError("need payoff > 0, risk fraction > 0 and 0 < ruin level <= 1")
    if edge_per_unit(win_rate, payoff) <= 0:
        return 1.0
    w = win_rate
    aw, al = payoff * risk_fraction, risk_fraction
    z = w * aw - (1 - w) * al
    a = math.sqrt(w * aw * aw + (1 - w) * al * al)
    p = 0.5 * (1 + z / a)
    if p >= 1:
        return 0.0
    return float(((1 - p) / p) ** (ruin_level / a))


def monte_carlo_ruin(
    win_rate: float,
    payoff: float,
    risk_fraction: float,
    ruin_level: float,
    *,
    trades: int,
    paths: int = 20_000,
    sizing: Sizing = Sizing.FIXED,
    seed: int = 0,
    block: int = 250,
) -> Proportion:
    """P(equity ≤ (1 − G) × initial within ``trades`` trades), with its standard error and interval."""
    _check_probability(win_rate)
    if payoff <= 0 or not 0 < risk_fraction < 1 or not 0 < ruin_level <= 1 or trades < 1 or paths < 1:
        raise ValueError("need payoff > 0, 0 < risk < 1, 0 < ruin level <= 1, trades >= 1, paths >= 1")
    rng = np.random.Generator(np.random.PCG64(seed))
    if sizing is Sizing.FIXED:
        up, down, barrier = payoff * risk_fraction, -risk_fraction, -ruin_level
    else:
        if ruin_level >= 1:
            return proportion(0, paths)  # a fraction of equity never reaches zero
        up, down = math.log1p(payoff * risk_fraction), math.log1p(-risk_fraction)
        barrier = math.log1p(-ruin_level)
    level = np.zeros(paths)  # gain so far: equity − 1 (fixed) or log equity (fractional)
    alive = np.arange(paths)
    ruined = 0
    done = 0
    while done < trades and alive.size:
        width = min(block, trades - done)
        steps = np.where(rng.random((alive.size, width)) < win_rate, up, down)
        path = level[:, None] + np.cumsum(steps, axis=1)
        hit = (path <= barrier + 1e-12).any(axis=1)
        ruined += int(hit.sum())
        level = path[~hit, -1]
        alive = alive[~hit]
        done += width
    return proportion(ruined, paths)
