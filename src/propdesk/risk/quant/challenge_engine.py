"""The challenge Monte Carlo engine: paths walked day by day, trades applied to all live paths at once.

Days are walked in Python; within a day, trades are applied one at a time as NumPy operations over
every live path at once, so a path's sequential semantics are exact while the cost per trade is a
few dozen array operations shared by all paths. Per trade, in the order the Decimal rule state uses
(:func:`propdesk.risk.rules.breaches.apply_rules`): the max-loss floor (static, end-of-day
trailing, intraday equity or closed-balance trailing, with its lock), the daily floor with its
anchor and outcome (fail, or lock the rest of the day), loss streaks, consistency acting while
trading, and an immediate target with every objective (minimum days, consistency as a moving
target, winning days). Per day: end-of-day trailing, the end-of-day target, and coasting (a path
at target that only lacks days stops risking money). Finished paths are compacted away.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from propdesk.risk.quant.compiled_pack import CompiledRules
from propdesk.risk.quant.trade_sources import TradeSource
from propdesk.risk.rules.pack_enums import DailyAnchor, MaxLossReference, RuleOutcome

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

# Path results.
RUNNING, PASSED, FAIL_MAX_LOSS, FAIL_DAILY, FAIL_CONSISTENCY, FAIL_STREAK = 0, 1, 2, 3, 4, 5
FAILURE_NAMES = {
    FAIL_MAX_LOSS: "max_loss",
    FAIL_DAILY: "daily_loss",
    FAIL_CONSISTENCY: "consistency",
    FAIL_STREAK: "max_consecutive_losses",
}


class _Chunk:
    """State of the live paths of one chunk, compacted as paths finish."""

    FIELDS = ("rows", "bal", "eq_peak", "bal_peak", "eod_high", "floor", "best", "days", "wins", "streak")

    def __init__(self, rules: CompiledRules, n: int) -> None:
        s = rules.start
        self.rows: IntArray = np.arange(n, dtype=np.int64)
        self.bal = np.full(n, s)
        self.eq_peak = np.full(n, s)
        self.bal_peak = np.full(n, s)
        self.eod_high = np.full(n, s)
        self.floor = np.full(n, s - rules.ml_amount if rules.ml_kind is not None else -np.inf)
        self.best = np.zeros(n)
        self.days = np.zeros(n, dtype=np.int64)
        self.wins = np.zeros(n, dtype=np.int64)
        self.streak = np.zeros(n, dtype=np.int64)
        self.coasting: BoolArray | None = None

    def keep(self, mask: BoolArray) -> IntArray:
        index = np.flatnonzero(mask)
        for name in self.FIELDS:
            setattr(self, name, getattr(self, name)[index])
        if self.coasting is not None:
            self.coasting = self.coasting[index]
        return index


def _complies(r: CompiledRules, best: FloatArray, total: FloatArray) -> BoolArray:
    """Whether a best day complies with the consistency rule against a total (vectorized)."""
    assert r.cons_pct is not None
    denominator = total if r.cons_target is None else np.maximum(total, r.cons_target)
    limit = r.cons_pct * denominator
    ok: BoolArray = (best < limit) if r.cons_strict else (best <= limit)
    return (best <= 0) | ((denominator > 0) & ok)


def run_chunk(
    r: CompiledRules,
    source: TradeSource,
    n: int,
    max_days: int,
    flatten_at_floor: bool,
    coast: bool,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int32], int]:
    """Simulate ``n`` paths; per trade the rules act in the order of the Decimal rule state."""
    result = np.zeros(n, dtype=np.int8)
    decided = np.zeros(n, dtype=np.int32)
    c = _Chunk(r, n)
    trader_days = 0
    intraday_eq = r.ml_kind is MaxLossReference.INTRADAY_EQUITY_TRAILING
    intraday_bal = r.ml_kind is MaxLossReference.INTRADAY_BALANCE_TRAILING
    eod_trail = r.ml_kind is MaxLossReference.EOD_BALANCE_TRAILING
    peak_eq_anchor = r.dl_anchor is DailyAnchor.DAY_PEAK_EQUITY
    peak_bal_anchor = r.dl_anchor is DailyAnchor.DAY_PEAK_BALANCE
    target = r.target if r.target is not None else np.inf
    immediate = r.target is not None and not r.target_eod
    cons_acts = r.cons_pct is not None and r.cons_outcome is not RuleOutcome.EXTEND_TARGET
    streak_fails = r.streak_outcome is RuleOutcome.FAIL
    streak_locks = r.streak_outcome is RuleOutcome.LOCK_DAY

    for day in range(1, max_days + 1):
        m = c.rows.size
        if m == 0:
            break
        trader_days += m
        sod = c.bal
        alive = np.ones(m, dtype=np.bool_)
        act = ~c.coasting if c.coasting is not None else np.ones(m, dtype=np.bool_)
        did_trade = np.zeros(m, dtype=np.bool_)
        streak_locked = np.zeros(m, dtype=np.bool_)
        day_peak_eq = sod
        day_peak_bal = sod
        # Paths are flat overnight, so day-start equity, balance and their max coincide.
        sod_floor = sod - r.dl_amount - r.dl_anchor_fraction * sod if r.dl_anchor is not None else sod
        for j in range(source.k):
            if not act.any():
                break
            pnl, up, down = source.trade(day, j, c.bal)
            did = act.copy()
            if source.may_skip:  # a scripted slot without a trade: skip it, not the rest of the day
                skip = np.isnan(pnl)
                if skip.any():
                    did &= ~skip
                    pnl = np.where(skip, 0.0, pnl)
            did_trade |= did
            pnl *= did
            bal = c.bal
            new = bal + pnl
            win = pnl > 0
            # The in-trade peak matters only to equity-peak references; skip it otherwise.
            peak = (
                (np.maximum(bal, new) if up is None else np.maximum(new, bal + up * did))
                if intraday_eq or peak_eq_anchor
                else new
            )
            trough = np.minimum(bal, new) if down is None else np.minimum(new, bal - down * did)
            # 1. Max-loss floor as it stands at the trough: a loser peaks first, a winner dips first.
            check = c.floor
            if intraday_eq and up is not None:
                raised = np.minimum(r.ml_cap, np.maximum(c.floor, np.maximum(c.eq_peak, peak) - r.ml_amount))
                check = np.where(win, c.floor, raised)
            fail = did & ((trough <= check) if r.ml_at else (trough < check))
            if fail.any():
                result[c.rows[fail]] = FAIL_MAX_LOSS
            # 2. Daily floor.
            if r.dl_anchor is not None:
                if peak_eq_anchor:
                    anchor = (
                        day_peak_eq
                        if up is None
                        else np.where(win, day_peak_eq, np.maximum(day_peak_eq, peak))
                    )
                    dfloor = anchor - r.dl_amount - r.dl_anchor_fraction * anchor
                elif peak_bal_anchor:
                    dfloor = day_peak_bal - r.dl_amount - r.dl_anchor_fraction * day_peak_bal
                else:
                    dfloor = sod_floor
                dbreach = did & ~fail & ((trough <= dfloor) if r.dl_at else (trough < dfloor))
                if dbreach.any():
                    if r.dl_fail:
                        result[c.rows[dbreach]] = FAIL_DAILY
                        fail |= dbreach
                    else:
                        act &= ~dbreach
                        if flatten_at_floor:
                            new = np.where(dbreach, dfloor, new)
                            peak = np.where(dbreach & win, bal, peak)
            c.bal = new
            if intraday_eq:
                c.eq_peak = np.maximum(c.eq_peak, peak)
                c.floor = np.minimum(r.ml_cap, np.maximum(c.floor, c.eq_peak - r.ml_amount))
            elif intraday_bal:
                c.bal_peak = np.maximum(c.bal_peak, new)
                c.floor = np.minimum(r.ml_cap, np.maximum(c.floor, c.bal_peak - r.ml_amount))
            if peak_eq_anchor:
                day_peak_eq = np.maximum(day_peak_eq, peak)
            elif peak_bal_anchor:
                day_peak_bal = np.maximum(day_peak_bal, new)
            settled = did & ~fail
            # 3. Loss streak (a trade that breached the daily floor still counts as a loss).
            if r.streak_max:
                loss = settled & (pnl < 0)
                c.streak = np.where(loss, c.streak + 1, np.where(settled & win, 0, c.streak))
                hit = loss & (c.streak >= r.streak_max) & act
                if streak_fails and hit.any():
                    result[c.rows[hit]] = FAIL_STREAK
                    fail |= hit
                    settled &= ~hit
                elif streak_locks:
                    streak_locked |= hit
                    act &= ~hit
            if cons_acts or immediate:
                today = new - sod
                profit = new - r.start
                # 4. Consistency acting while trading (lock the day or fail).
                if cons_acts:
                    over = settled & act & (today > 0) & (today >= c.best) & ~_complies(r, today, profit)
                    if r.cons_outcome is RuleOutcome.FAIL and over.any():
                        result[c.rows[over]] = FAIL_CONSISTENCY
                        fail |= over
                        settled &= ~over
                    else:
                        act &= ~over
                # 5. Passing at once when every objective holds.
                if immediate:
                    ready = settled & (profit >= target)
                    if ready.any():
                        if r.min_days:
                            ready &= c.days + 1 >= r.min_days
                        if r.win_needed:
                            ready &= c.wins + (today >= r.win_threshold) >= r.win_needed
                        if r.cons_pct is not None:
                            ready &= _complies(r, np.maximum(c.best, today), profit)
                        if ready.any():
                            result[c.rows[ready]] = PASSED
                            fail |= ready
            if fail.any():
                decided[c.rows[fail]] = day
                alive &= ~fail
                act &= ~fail
        # End of day for the paths still running.
        c.days += did_trade if c.coasting is None else (did_trade | c.coasting)
        if r.cons_pct is not None or r.win_needed:
            day_pnl = c.bal - sod
            c.best = np.where(did_trade, np.maximum(c.best, day_pnl), c.best)
            if r.win_needed:
                c.wins += did_trade & (day_pnl >= r.win_threshold)
        if eod_trail:
            c.eod_high = np.maximum(c.eod_high, c.bal)
            c.floor = np.minimum(r.ml_cap, np.maximum(c.floor, c.eod_high - r.ml_amount))
        if streak_locks:
            c.streak = np.where(streak_locked, 0, c.streak)
        if r.target is not None:
            profit = c.bal - r.start
            at_target = alive & (profit >= target)
            if at_target.any():
                others = at_target
                if r.win_needed:
                    others = others & (c.wins >= r.win_needed)
                if r.cons_pct is not None:
                    others = others & _complies(r, c.best, profit)
                days_ok = c.days >= r.min_days
                ready = others & days_ok
                if ready.any():
                    result[c.rows[ready]] = PASSED
                    decided[c.rows[ready]] = day
                    alive &= ~ready
                if coast and r.min_days:
                    c.coasting = alive & others & ~days_ok
            elif c.coasting is not None:
                c.coasting = None
        if not alive.all():
            source.compact(c.keep(alive))
    return result, decided, trader_days
