"""The enumerations a pack is written in: references, anchors, outcomes, comparisons, phases."""

from __future__ import annotations

from enum import StrEnum


class MaxLossReference(StrEnum):
    """What the max-loss floor is measured from."""

    STATIC = "static"  # initial balance − amount; never moves (FTMO 2-Step, The5ers, FundedNext)
    EOD_BALANCE_TRAILING = "eod_balance_trailing"  # highest end-of-day balance − amount (Topstep)
    INTRADAY_EQUITY_TRAILING = "intraday_equity_trailing"  # peak equity incl. open PnL (Apex, MFFU Rapid)
    INTRADAY_BALANCE_TRAILING = "intraday_balance_trailing"  # peak realized balance (legacy TopstepFX)


class LockLevel(StrEnum):
    """Where a trailing floor stops rising."""

    NONE = "none"
    START = "start"  # the starting balance (Topstep)
    START_PLUS = "start_plus"  # starting balance + lock_offset (Apex PA, MFFU funded: +100)


class BreachBasis(StrEnum):
    EQUITY = "equity"  # including open PnL, checked on every mark (every firm in the reference)
    BALANCE = "balance"  # closed balance only


class DailyAnchor(StrEnum):
    """What the daily floor hangs from; each resets at the pack's day boundary."""

    DAY_START_EQUITY = "day_start_equity"  # day net PnL incl. open PnL (Topstep DLL)
    DAY_START_BALANCE = "day_start_balance"  # prior-boundary balance (FTMO, FundedNext)
    DAY_START_MAX_EQUITY_BALANCE = "day_start_max_equity_balance"  # max(SOD equity, SOD balance) (The5ers)
    DAY_PEAK_EQUITY = "day_peak_equity"  # trails today's equity peak (TopstepX Personal DLL, unrealized)
    DAY_PEAK_BALANCE = "day_peak_balance"  # trails today's closed-balance peak (Personal DLL, realized)


class PercentOf(StrEnum):
    INITIAL = "initial"
    ANCHOR = "anchor"


class RuleOutcome(StrEnum):
    """What breaching a rule does."""

    FAIL = "fail"  # the evaluation is failed; open positions are liquidated
    LOCK_DAY = "lock_day"  # soft breach: flatten, no new trades until the next session
    WARN = "warn"  # reported only
    EXTEND_TARGET = "extend_target"  # consistency: keep trading; the effective target grows


class TargetCheck(StrEnum):
    IMMEDIATE = "immediate"  # passes at the first moment every objective holds
    END_OF_DAY = "end_of_day"  # passes at the day boundary when every objective holds


class DayCounts(StrEnum):
    POSITION_OPENED = "position_opened"  # FTMO: a day counts if a position was opened on it
    ANY_FILL = "any_fill"


class Comparison(StrEnum):
    LT = "lt"  # best day must be strictly below pct of the denominator (Topstep, Apex 4.0, TPT)
    LE = "le"  # best day may equal pct (MFFU "should not exceed", FTMO Best Day)


class ConsistencyWindow(StrEnum):
    EVALUATION = "evaluation"
    SINCE_LAST_PAYOUT = "since_last_payout"


class ConsistencyDenominator(StrEnum):
    TOTAL_PROFIT = "total_profit"  # best day / net profit of the window
    TARGET_OR_TOTAL = "target_or_total"  # best day / max(profit target, net profit): "target / 2 = max day"


class RequiredFor(StrEnum):
    PASS = "pass"
    PAYOUT = "payout"


class ExitAction(StrEnum):
    ALERT = "alert"
    REDUCE = "reduce"
    FLATTEN = "flatten"


class GateAction(StrEnum):
    BLOCK_NEW_EXPOSURE = "block_new_exposure"
    ALERT = "alert"


class Phase(StrEnum):
    EVALUATION = "evaluation"
    FUNDED = "funded"
    AUDITION = "audition"
    PERSONAL = "personal"
