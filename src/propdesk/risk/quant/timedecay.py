"""Time-decay exits (docs/risk.md, "Signals"): get out of trades that are not working.

Two rules, both from a pack's ``time_decay_exit`` (or built directly):

* **time stop**: after ``max_bars`` bars (or ``max_minutes``) since entry, if the trade has not
  made ``min_progress_r`` R, act (alert, reduce or flatten). "If after 5 one-minute bars price has
  not reached +0.3R, scratch it." N is best chosen from the distribution of the time winners take
  to reach their maximum favourable excursion (e.g. 90% of winners peak within 5 minutes → 7–8).
* **decaying target**: ``target_schedule`` maps minutes since entry to the R that is enough to
  take profit (freqtrade's ``minimal_roi`` table): the target in force is the one with the
  largest ``after_minutes`` not after now; when progress reaches it, take the profit.

Progress is the open PnL in R (open PnL / initial risk), measured at bar close or on every tick,
as the caller evaluates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from propdesk.risk.rules.pack_enums import ExitAction
from propdesk.risk.rules.pack_sections import TimeDecayExit


@dataclass(frozen=True, slots=True)
class TimeDecayDecision:
    triggered: bool
    reason: str
    action: ExitAction | None
    elapsed_minutes: Decimal
    elapsed_bars: int
    progress_r: Decimal
    required_r: Decimal | None
    message: str


def _minutes(entry: datetime, now: datetime) -> Decimal:
    if entry.tzinfo is None or now.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    delta = now - entry
    seconds = Decimal(delta.days * 86_400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000
    return seconds / 60


def decayed_target(rule: TimeDecayExit, minutes: Decimal) -> Decimal | None:
    """The R target in force ``minutes`` after entry (None without a schedule or before its start)."""
    current = None
    for point in rule.target_schedule:
        if minutes >= point.after_minutes:
            current = point.target_r
    return current


def exponential_target(start_r: float, rate_per_minute: float, minutes: float) -> float:
    """The continuous variant: ``start · e^(−rate · t)`` (e.g. 0.10 decaying at 0.015 a minute)."""
    return start_r * math.exp(-rate_per_minute * minutes)


def evaluate_time_decay(
    rule: TimeDecayExit,
    *,
    entry_time: datetime,
    now: datetime,
    bars_elapsed: int,
    progress_r: Decimal,
) -> TimeDecayDecision:
    """Whether the open trade should be exited now, and why."""
    if bars_elapsed < 0:
        raise ValueError("bars_elapsed must not be negative")
    minutes = _minutes(entry_time, now)
    target = decayed_target(rule, minutes)
    if target is not None and progress_r >= target:
        return TimeDecayDecision(
            True,
            "decayed_target",
            rule.action,
            minutes,
            bars_elapsed,
            progress_r,
            target,
            f"{progress_r}R reached the {target}R target in force after {minutes:.1f} min",
        )
    expired = (rule.max_bars is not None and bars_elapsed >= rule.max_bars) or (
        rule.max_minutes is not None and minutes >= rule.max_minutes
    )
    clock = f"{bars_elapsed} bars" if rule.max_bars is not None else f"{minutes:.1f} min"
    if expired and progress_r < rule.min_progress_r:
        return TimeDecayDecision(
            True,
            "time_stop",
            rule.action,
            minutes,
            bars_elapsed,
            progress_r,
            rule.min_progress_r,
            f"after {clock} the trade made {progress_r}R, less than {rule.min_progress_r}R",
        )
    return TimeDecayDecision(
        False,
        "",
        None,
        minutes,
        bars_elapsed,
        progress_r,
        rule.min_progress_r if not expired else None,
        f"{clock} in, {progress_r}R so far",
    )
