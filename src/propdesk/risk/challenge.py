"""Challenge pass probability: a vectorized, seeded Monte Carlo that applies a pack's semantics.

Each simulated path is one attempt at the pack's evaluation. Days are walked in Python; within a
day, trades are applied one at a time as NumPy operations over every live path at once, so a
path's sequential semantics are exact while the cost per trade is a few dozen array operations
shared by all paths. Per trade, in the order the Decimal rule state uses: the max-loss floor
(static, end-of-day trailing, intraday equity or closed-balance trailing, with its lock), the
daily floor with its anchor and outcome (fail, or lock the rest of the day), loss streaks,
consistency acting while trading, and an immediate target with every objective (minimum days,
consistency as a moving target, winning days). Per day: end-of-day trailing, the end-of-day
target, and coasting (a path at target that only lacks days stops risking money). Finished
paths are compacted away. What is not simulated is listed in ``NOT_SIMULATED``.

Money is ``Decimal`` at the boundary (pack amounts, risk, commissions) and ``float64`` inside:
this is a probability simulation over millions of paths, not the ledger, and a float rounding
error of 1e-12 dollars cannot change a pass probability. Whole-dollar and cent amounts are exact
in binary at these magnitudes, so barrier tests (touching a floor exactly) behave as the integer
formulas say.

Randomness is counter-based: trade *t* of path *p* uses SplitMix64's output number p·2³² + t of
a stream keyed by the seed. A draw depends only on (seed, path, trade), never on which paths are
still alive or on chunking, so runs are reproducible, and the same path sees the same trades
under every pack ("common random numbers"): comparisons between packs (intraday ≤ EOD ≤ static)
hold path by path, not only on average.

Trade models: parametric (win rate, payoff, fixed dollar risk or a fraction of the balance,
trades per day, commission, optional in-trade excursions), a stationary block bootstrap of
closed-trade PnLs (mean block 5 keeps streaks, which i.i.d. draws break), or a scripted array
(for what-if studies and for checking this engine against the exact Decimal rule state).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, cast

import numpy as np
import numpy.typing as npt

from propdesk.risk.pack import (
    Comparison,
    ConsistencyDenominator,
    DailyAnchor,
    DayCounts,
    MaxLossReference,
    PercentOf,
    RequiredFor,
    RuleOutcome,
    RulePack,
    TargetCheck,
)
from propdesk.risk.stats import wilson_interval

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

NOT_SIMULATED = (
    "scaling tiers and contract limits (trades are sized in money, not contracts)",
    "flat-by times (every simulated trade is closed before the day ends)",
    "payouts, payout windows and floor changes on payout",
    "time-decay exits and the VPIN gate",
    "slippage beyond the commission; a floor breach is filled at the floor",
)

# Path results.
RUNNING, PASSED, FAIL_MAX_LOSS, FAIL_DAILY, FAIL_CONSISTENCY, FAIL_STREAK = 0, 1, 2, 3, 4, 5
FAILURE_NAMES = {
    FAIL_MAX_LOSS: "max_loss",
    FAIL_DAILY: "daily_loss",
    FAIL_CONSISTENCY: "consistency",
    FAIL_STREAK: "max_consecutive_losses",
}


def _f(value: Decimal | float | int) -> float:
    return float(value)


# --- trade models ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParametricTrades:
    """Trades drawn i.i.d.: a win pays ``payoff`` R, a loss costs 1 R.

    The risk R is ``risk`` dollars per trade, or ``risk_fraction`` of the balance before the
    trade. ``loser_mfe_r``: how far (in R) a losing trade first runs in the trader's favour (the
    ghost-drawdown pattern that ratchets an intraday-trailing floor); ``winner_mae_r``: how far a
    winner first goes against the trader. Both default to 0, as in LuxAlgo's simulator, which
    slightly understates intraday-trailing breach risk.
    """

    win_rate: float
    payoff: float
    risk: Decimal | None = None
    risk_fraction: float | None = None
    trades_per_day: int = 3
    commission: Decimal = Decimal(0)
    loser_mfe_r: float = 0.0
    winner_mae_r: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.win_rate <= 1:
            raise ValueError("win_rate must be in [0, 1]")
        if self.payoff <= 0:
            raise ValueError("payoff must be positive")
        if (self.risk is None) == (self.risk_fraction is None):
            raise ValueError("give exactly one of risk (dollars) or risk_fraction (of the balance)")
        if self.risk is not None and self.risk <= 0:
            raise ValueError("risk must be positive")
        if self.risk_fraction is not None and not 0 < self.risk_fraction < 1:
            raise ValueError("risk_fraction must be in (0, 1)")
        if self.trades_per_day < 1:
            raise ValueError("trades_per_day must be at least 1")
        if self.commission < 0 or self.loser_mfe_r < 0 or self.winner_mae_r < 0:
            raise ValueError("commission and excursions must not be negative")


@dataclass(frozen=True, slots=True)
class BootstrapTrades:
    """A stationary block bootstrap of closed-trade PnLs (dollars, in time order), scaled by ``scale``."""

    pnls: tuple[Decimal, ...]
    trades_per_day: int = 3
    mean_block: float = 5.0
    scale: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if len(self.pnls) < 2:
            raise ValueError("a bootstrap needs at least two trades")
        if self.mean_block < 1:
            raise ValueError("mean_block must be at least 1")
        if self.trades_per_day < 1:
            raise ValueError("trades_per_day must be at least 1")


@dataclass(frozen=True, slots=True)
class ScriptedTrades:
    """Given PnLs: ``pnls[path, day, trade]`` in dollars (NaN means no trade).

    Optional excursions of the same shape: ``favourable`` is how far a trade that does not win
    first runs in the trader's favour, ``adverse`` how far a winning trade first goes against
    the trader (both non-negative dollars; ignored for the other kind of trade).
    """

    pnls: FloatArray
    favourable: FloatArray | None = None
    adverse: FloatArray | None = None

    @property
    def trades_per_day(self) -> int:
        return int(self.pnls.shape[2])


TradeModel = ParametricTrades | BootstrapTrades | ScriptedTrades


UIntArray = npt.NDArray[np.uint64]

# Counter-based randomness: the t-th trade of path p draws SplitMix64's output number p·2^32 + t
# of a stream keyed by (seed, stream). A draw depends only on (seed, path, day, trade), never on
# which paths are still alive or on chunking, so runs are reproducible and comparable across packs.
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_TRADES_PER_PATH = 1 << 32
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def _mix_int(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _mix(z: UIntArray) -> UIntArray:
    """The SplitMix64 finalizer, elementwise (uint64 arithmetic wraps)."""
    t = z >> _S30
    t ^= z
    t *= _M1
    u = t >> _S27
    u ^= t
    u *= _M2
    t = u >> _S31
    t ^= u
    return t


def _stream_keys(seed: int, stream: int, first: int, n: int) -> UIntArray:
    base = _mix_int((seed * _GOLDEN + (stream + 1) * 0xD1B54A32D192ED03) & _MASK)
    step = np.uint64((_TRADES_PER_PATH * _GOLDEN) & _MASK)
    return np.uint64(base) + np.arange(first, first + n, dtype=np.uint64) * step


def _draw(keys: UIntArray, counter: int, scratch: tuple[UIntArray, UIntArray] | None = None) -> UIntArray:
    """64 random bits per key for trade ``counter``.

    With ``scratch`` (two buffers at least as long as ``keys``) no temporary array is allocated:
    large temporaries freed and reallocated every step make glibc map and unmap pages, which costs
    more than the arithmetic. The result is a view into the second buffer.
    """
    if scratch is None:
        return _mix(keys + np.uint64((counter * _GOLDEN) & _MASK))
    m = keys.shape[0]
    a, b = scratch[0][:m], scratch[1][:m]
    np.add(keys, np.uint64((counter * _GOLDEN) & _MASK), out=a)
    np.right_shift(a, _S30, out=b)
    np.bitwise_xor(b, a, out=b)
    np.multiply(b, _M1, out=b)
    np.right_shift(b, _S27, out=a)
    np.bitwise_xor(a, b, out=a)
    np.multiply(a, _M2, out=a)
    np.right_shift(a, _S31, out=b)
    np.bitwise_xor(b, a, out=b)
    return b


def _threshold(probability: float) -> np.uint64:
    """A 64-bit threshold t with P(bits < t) = probability."""
    return np.uint64(min(int(probability * (1 << 64)), _MASK))


class _Source(Protocol):
    k: int
    may_skip: bool

    def compact(self, index: IntArray) -> None:
        """Keep the per-path state of the paths at ``index`` (in order)."""
        ...

    def trade(
        self, day: int, j: int, bal: FloatArray
    ) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
        """Trade ``j`` of ``day`` for the live paths: PnL, the favourable excursion a loser shows
        first, the adverse excursion a winner shows first (None when there are none)."""
        ...


class _Parametric:
    may_skip = False

    def __init__(self, model: ParametricTrades, seed: int, first: int, n: int) -> None:
        self.k = model.trades_per_day
        self.keys = _stream_keys(seed, 0, first, n)
        self.scratch = (np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64))
        self.threshold = _threshold(model.win_rate)
        self.fixed = None if model.risk is None else _f(model.risk)
        self.fraction = model.risk_fraction
        self.fee = _f(model.commission)
        self.payoff = model.payoff
        self.mfe = model.loser_mfe_r
        self.mae = model.winner_mae_r

    def compact(self, index: IntArray) -> None:
        self.keys = self.keys[index]

    def trade(
        self, day: int, j: int, bal: FloatArray
    ) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
        win = _draw(self.keys, (day - 1) * self.k + j, self.scratch) < self.threshold
        risk: FloatArray | float
        if self.fixed is not None:
            risk = self.fixed
            pnl = cast(FloatArray, (-self.fixed - self.fee) + win * (self.payoff * self.fixed + self.fixed))
        else:
            assert self.fraction is not None
            risk = self.fraction * bal
            pnl = (-1.0 + win * (self.payoff + 1.0)) * risk - self.fee
        up = cast(FloatArray, ~win * (self.mfe * risk)) if self.mfe else None
        down = cast(FloatArray, win * (self.mae * risk)) if self.mae else None
        return pnl, up, down


class _Bootstrap:
    may_skip = False

    def __init__(self, model: BootstrapTrades, seed: int, first: int, n: int) -> None:
        self.k = model.trades_per_day
        self.values = np.array([float(p * model.scale) for p in model.pnls], dtype=np.float64)
        self.size = np.uint64(len(self.values))
        self.restart = _threshold(1.0 / model.mean_block)
        self.restart_keys = _stream_keys(seed, 1, first, n)
        self.start_keys = _stream_keys(seed, 2, first, n)
        self.scratch = (np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64))
        self.pointer = np.full(n, len(self.values), dtype=np.uint64)  # out of range: start a block

    def compact(self, index: IntArray) -> None:
        self.restart_keys = self.restart_keys[index]
        self.start_keys = self.start_keys[index]
        self.pointer = self.pointer[index]

    def trade(
        self, day: int, j: int, bal: FloatArray
    ) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
        counter = (day - 1) * self.k + j
        following = self.pointer + np.uint64(1)
        restart = (_draw(self.restart_keys, counter, self.scratch) < self.restart) | (following >= self.size)
        self.pointer = np.where(restart, _draw(self.start_keys, counter, self.scratch) % self.size, following)
        return self.values[self.pointer], None, None


class _Scripted:
    may_skip = True

    def __init__(self, model: ScriptedTrades, first: int, n: int) -> None:
        self.k = model.trades_per_day
        self.block = model.pnls[first : first + n]
        self.up = None if model.favourable is None else model.favourable[first : first + n]
        self.down = None if model.adverse is None else model.adverse[first : first + n]
        self.rows: IntArray = np.arange(n, dtype=np.int64)

    def compact(self, index: IntArray) -> None:
        self.rows = self.rows[index]

    def trade(
        self, day: int, j: int, bal: FloatArray
    ) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
        if day > self.block.shape[1]:
            return np.full(self.rows.shape, np.nan), None, None
        pnl = self.block[self.rows, day - 1, j]
        wins = pnl > 0
        up = None if self.up is None else np.where(wins, 0.0, np.nan_to_num(self.up[self.rows, day - 1, j]))
        down = (
            None
            if self.down is None
            else np.where(wins, np.nan_to_num(self.down[self.rows, day - 1, j]), 0.0)
        )
        return pnl, up, down


# --- compiled rules ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rules:
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


def _compile(pack: RulePack) -> _Rules:
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
    return _Rules(
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


# --- result ------------------------------------------------------------------------------------


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


# --- the engine --------------------------------------------------------------------------------


class _Chunk:
    """State of the live paths of one chunk, compacted as paths finish."""

    FIELDS = ("rows", "bal", "eq_peak", "bal_peak", "eod_high", "floor", "best", "days", "wins", "streak")

    def __init__(self, rules: _Rules, n: int) -> None:
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


def _complies(r: _Rules, best: FloatArray, total: FloatArray) -> BoolArray:
    """Whether a best day complies with the consistency rule against a total (vectorized)."""
    assert r.cons_pct is not None
    denominator = total if r.cons_target is None else np.maximum(total, r.cons_target)
    limit = r.cons_pct * denominator
    ok: BoolArray = (best < limit) if r.cons_strict else (best <= limit)
    return (best <= 0) | ((denominator > 0) & ok)


def _run_chunk(
    r: _Rules,
    source: _Source,
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


def _source_for(model: TradeModel, seed: int, first: int, n: int) -> _Source:
    if isinstance(model, ParametricTrades):
        return _Parametric(model, seed, first, n)
    if isinstance(model, BootstrapTrades):
        return _Bootstrap(model, seed, first, n)
    return _Scripted(model, first, n)


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
    rules = _compile(pack)
    results, days = [], []
    trader_days = 0
    for first in range(0, paths, chunk_size):
        n = min(chunk_size, paths - first)
        source = _source_for(model, seed, first, n)
        res, dec, td = _run_chunk(rules, source, n, max_days, flatten_at_floor, coast_after_target)
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
    rules = _compile(pack)
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


def bootstrap_from(pnls: Sequence[Decimal], **kwargs: object) -> BootstrapTrades:
    """A bootstrap model from closed-trade PnLs (e.g. :func:`propdesk.risk.replay.closed_trades`)."""
    return BootstrapTrades(tuple(pnls), **kwargs)  # type: ignore[arg-type]
