"""A rule pack compiled to the floats and flags the challenge Monte Carlo engine reads per trade."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.pack_enums import (
    Comparison,
    ConsistencyDenominator,
    DailyAnchor,
    DayCounts,
    MaxLossReference,
    PercentOf,
    RequiredFor,
    RuleOutcome,
    TargetCheck,
)


def _f(value: Decimal | float | int) -> float:
    return float(value)


@dataclass(frozen=True, slots=True)
class CompiledRules:
    start: float
    ml_kind: MaxLossReference | None
    ml_amount: float
    ml_cap: float
    ml_at: bool
    dl_anchor: DailyAnchor | None
    dl_amount: float
    dl_anchor_fraction: float
    dl_fail: bool
    dl_at: bool
    target: float | None
    target_eod: bool
    min_days: int
    cons_pct: float | None
    cons_strict: bool
    cons_target: float | None
    cons_outcome: RuleOutcome | None
    win_threshold: float
    win_needed: int
    streak_max: int
    streak_outcome: RuleOutcome | None
    notes: tuple[str, ...] = field(default=())


def compile_rules(pack: RulePack) -> CompiledRules:
    start = pack.starting_balance
    notes: list[str] = []
    ml = pack.max_loss
    lock = pack.lock_level(start)
    dl = pack.daily_loss
    dl_amount, dl_fraction = 0.0, 0.0
    if dl is not None:
        if dl.percent is not None and dl.percent_of is PercentOf.ANCHOR:
            dl_fraction = _f(dl.percent) / 100
        else:
            dl_amount = _f(dl.size_of(start))
    c = pack.consistency
    cons_pct = None
    if c is not None and c.applies_to is RequiredFor.PASS:
        cons_pct = _f(c.fraction)
    elif c is not None:
        notes.append("consistency applies to payouts only and is not part of passing")
    if pack.min_trading_days is not None and pack.min_trading_days.counts is DayCounts.POSITION_OPENED:
        notes.append("every simulated trading day opens a position, so it counts toward the minimum")
    win = pack.winning_days
    streak = pack.max_consecutive_losses
    return CompiledRules(
        start=_f(start),
        ml_kind=ml.reference if ml is not None else None,
        ml_amount=_f(ml.size_of(start)) if ml is not None else 0.0,
        ml_cap=_f(lock) if lock is not None else np.inf,
        ml_at=ml.breach_at_floor if ml is not None else True,
        dl_anchor=dl.anchor if dl is not None else None,
        dl_amount=dl_amount,
        dl_anchor_fraction=dl_fraction,
        dl_fail=dl is not None and dl.outcome is RuleOutcome.FAIL,
        dl_at=dl.breach_at_floor if dl is not None else True,
        target=_f(pack.profit_target.size_of(start)) if pack.profit_target is not None else None,
        target_eod=pack.profit_target is not None and pack.profit_target.check is TargetCheck.END_OF_DAY,
        min_days=pack.min_trading_days.days if pack.min_trading_days is not None else 0,
        cons_pct=cons_pct,
        cons_strict=c is not None and c.comparison is Comparison.LT,
        cons_target=(
            _f(pack.profit_target.size_of(start))
            if c is not None
            and c.denominator is ConsistencyDenominator.TARGET_OR_TOTAL
            and pack.profit_target
            else None
        ),
        cons_outcome=c.outcome if c is not None and cons_pct is not None else None,
        win_threshold=_f(win.size_of(start)) if win is not None else 0.0,
        win_needed=win.count if win is not None and win.required_for is RequiredFor.PASS else 0,
        streak_max=streak.max if streak is not None else 0,
        streak_outcome=streak.outcome if streak is not None else None,
        notes=tuple(notes),
    )
