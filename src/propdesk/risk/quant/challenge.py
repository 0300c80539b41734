"""Challenge pass probability: a vectorized, seeded Monte Carlo that applies a pack's semantics.

Each simulated path is one attempt at the pack's evaluation. The parts: the trader
(:mod:`~propdesk.risk.quant.trade_models`, drawn by :mod:`~propdesk.risk.quant.trade_sources`
with the counter-based randomness of :mod:`~propdesk.risk.quant.splitmix`), the pack compiled to
floats (:mod:`~propdesk.risk.quant.compiled_pack`), and the engine that walks the paths in the
order the Decimal rule state applies its rules (:mod:`~propdesk.risk.quant.challenge_engine`).
This module runs them in chunks and summarizes. What is not simulated is listed in
``NOT_SIMULATED``.

Money is ``Decimal`` at the boundary (pack amounts, risk, commissions) and ``float64`` inside:
this is a probability simulation over millions of paths, not the ledger, and a float rounding
error of 1e-12 dollars cannot change a pass probability. Whole-dollar and cent amounts are exact
in binary at these magnitudes, so barrier tests (touching a floor exactly) behave as the integer
formulas say.

Randomness depends only on (seed, path, trade), so runs are reproducible and the same path sees
the same trades under every pack ("common random numbers"): comparisons between packs
(intraday ≤ EOD ≤ static) hold path by path, not only on average.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from propdesk.risk.quant.challenge_engine import FAILURE_NAMES, PASSED, RUNNING, run_chunk
from propdesk.risk.quant.compiled_pack import compile_rules
from propdesk.risk.quant.stats import wilson_interval
from propdesk.risk.quant.trade_models import ParametricTrades, ScriptedTrades, TradeModel
from propdesk.risk.quant.trade_sources import source_for
from propdesk.risk.rules.pack import RulePack

NOT_SIMULATED = (
    "scaling tiers and contract limits (trades are sized in money, not contracts)",
    "flat-by times (every simulated trade is closed before the day ends)",
    "payouts, payout windows and floor changes on payout",
    "time-decay exits and the VPIN gate",
    "slippage beyond the commission; a floor breach is filled at the floor",
)


@dataclass(frozen=True, slots=True)
class ChallengeResult:
    """What ``POST /api/v1/risk/challenge`` returns."""

    pack_key: str
    has_target: bool
    paths: int
    seed: int
    max_days: int
    passed: int
    p_pass: float
    standard_error: float
    wilson_low: float
    wilson_high: float
    failures: dict[str, int]
    fail_probabilities: dict[str, float]
    timed_out: int
    days_to_pass_mean: float | None
    days_to_pass_median: float | None
    days_to_pass_p90: float | None
    trader_days: int
    assumptions: tuple[str, ...]
    not_simulated: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PathOutcomes:
    """Per-path results (for tests and what-if tools): result code and the day it was decided."""

    result: npt.NDArray[np.int8]
    day: npt.NDArray[np.int32]
    trader_days: int


def simulate_paths(
    pack: RulePack,
    model: TradeModel,
    *,
    paths: int,
    max_days: int,
    seed: int = 0,
    chunk_size: int = 65_536,
    flatten_at_floor: bool = True,
    coast_after_target: bool = True,
) -> PathOutcomes:
    """Run the simulation and return every path's result code and decision day."""
    if paths < 1 or max_days < 1:
        raise ValueError("paths and max_days must be at least 1")
    if isinstance(model, ScriptedTrades) and model.pnls.shape[0] < paths:
        raise ValueError("scripted trades have fewer paths than requested")
    rules = compile_rules(pack)
    results, days = [], []
    trader_days = 0
    for first in range(0, paths, chunk_size):
        n = min(chunk_size, paths - first)
        source = source_for(model, seed, first, n)
        res, dec, td = run_chunk(rules, source, n, max_days, flatten_at_floor, coast_after_target)
        results.append(res)
        days.append(dec)
        trader_days += td
    return PathOutcomes(np.concatenate(results), np.concatenate(days), trader_days)


def simulate_challenge(
    pack: RulePack,
    model: TradeModel,
    *,
    paths: int = 10_000,
    max_days: int = 60,
    seed: int = 0,
    chunk_size: int = 65_536,
    flatten_at_floor: bool = True,
    coast_after_target: bool = True,
) -> ChallengeResult:
    """P(pass) of ``pack`` for a trader described by ``model``, with its uncertainty and breakdown.

    ``max_days``: trading days an attempt may take (paths still running then count as timed out,
    not passed). ``flatten_at_floor``: a soft (lock-day) breach closes the trade at the floor, as a
    platform's auto-flatten would. ``coast_after_target``: once the target and every other
    objective but the minimum days are met, the trader stops risking money and only collects the
    remaining days.
    """
    outcome = simulate_paths(
        pack,
        model,
        paths=paths,
        max_days=max_days,
        seed=seed,
        chunk_size=chunk_size,
        flatten_at_floor=flatten_at_floor,
        coast_after_target=coast_after_target,
    )
    passed_mask = outcome.result == PASSED
    passed = int(passed_mask.sum())
    failures = {name: int((outcome.result == code).sum()) for code, name in FAILURE_NAMES.items()}
    low, high = wilson_interval(passed, paths)
    p = passed / paths
    pass_days = outcome.day[passed_mask]
    rules = compile_rules(pack)
    assumptions = [
        "each path is one attempt; trades are closed within the day (flat overnight)",
        f"a path not decided within {max_days} trading days counts as timed out",
        *rules.notes,
    ]
    if isinstance(model, ParametricTrades) and model.loser_mfe_r == 0 and model.winner_mae_r == 0:
        assumptions.append("no in-trade excursions: intraday-trailing breach risk is slightly understated")
    if pack.profit_target is None:
        assumptions.append(
            "the pack has no profit target: nothing passes; timed_out counts the paths that survived"
        )
    return ChallengeResult(
        pack_key=pack.key,
        has_target=pack.profit_target is not None,
        paths=paths,
        seed=seed,
        max_days=max_days,
        passed=passed,
        p_pass=p,
        standard_error=float(np.sqrt(p * (1 - p) / paths)),
        wilson_low=low,
        wilson_high=high,
        failures=failures,
        fail_probabilities={name: count / paths for name, count in failures.items()},
        timed_out=int((outcome.result == RUNNING).sum()),
        days_to_pass_mean=float(pass_days.mean()) if passed else None,
        days_to_pass_median=float(np.median(pass_days)) if passed else None,
        days_to_pass_p90=float(np.percentile(pass_days, 90)) if passed else None,
        trader_days=outcome.trader_days,
        assumptions=tuple(assumptions),
        not_simulated=NOT_SIMULATED,
    )
