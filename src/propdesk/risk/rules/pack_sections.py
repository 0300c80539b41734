"""The sections of a pack, one model per kind of rule; absent sections do not apply."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Literal, Self

from pydantic import Field, model_validator

from propdesk.risk.rules.pack_enums import (
    BreachBasis,
    Comparison,
    ConsistencyDenominator,
    ConsistencyWindow,
    DailyAnchor,
    DayCounts,
    ExitAction,
    GateAction,
    LockLevel,
    MaxLossReference,
    PercentOf,
    RequiredFor,
    RuleOutcome,
    TargetCheck,
)
from propdesk.risk.rules.pack_fields import HUNDRED, ClockTime, Exact, PackModel, SizedRule, ZoneName


class MaxLossRule(SizedRule):
    """The account-level floor; ``percent`` is of the starting balance. Breaching it fails the account."""

    reference: MaxLossReference
    lock: LockLevel = LockLevel.NONE
    lock_offset: Exact = Decimal(0)
    floor_on_first_payout: bool = Field(
        default=False, description="After the first payout the floor jumps to the lock level (Topstep XFA)."
    )
    breach_basis: BreachBasis = BreachBasis.EQUITY
    breach_at_floor: bool = Field(default=True, description="Touching the floor is a breach (≤), else <.")

    @model_validator(mode="after")
    def _lock(self) -> Self:
        if self.lock is LockLevel.START_PLUS and self.lock_offset <= 0:
            raise ValueError("lock 'start_plus' needs a positive lock_offset")
        if self.lock is not LockLevel.START_PLUS and self.lock_offset != 0:
            raise ValueError("lock_offset applies only to lock 'start_plus'")
        if self.floor_on_first_payout and self.lock is LockLevel.NONE:
            raise ValueError("floor_on_first_payout needs a lock level to jump to")
        if self.reference is MaxLossReference.STATIC and self.lock is not LockLevel.NONE:
            raise ValueError("a static floor never moves, so it cannot lock")
        return self


class DailyLossRule(SizedRule):
    """The floor for today; ``percent`` is of the initial balance or of the anchor (``percent_of``)."""

    anchor: DailyAnchor
    percent_of: PercentOf = PercentOf.INITIAL
    breach_basis: BreachBasis = BreachBasis.EQUITY
    breach_at_floor: bool = True
    outcome: Literal[RuleOutcome.FAIL, RuleOutcome.LOCK_DAY]

    @model_validator(mode="after")
    def _percent_of(self) -> Self:
        if self.amount is not None and self.percent_of is PercentOf.ANCHOR:
            raise ValueError("percent_of 'anchor' applies only to a 'percent' size")
        return self


class DayBoundary(PackModel):
    """When one trading day ends and the next begins, as a wall-clock time in an IANA zone.

    A boundary after midnight names the session after the day it ends on (17:00 Chicago on
    Sunday starts Monday's session, like CME); a midnight boundary names it after its own date.
    """

    timezone: ZoneName
    time: ClockTime = time(0, 0)


class ProfitTarget(SizedRule):
    """Profit on the closed balance (``percent`` of the starting balance)."""

    require_flat: bool = True
    check: TargetCheck = TargetCheck.IMMEDIATE


class MinTradingDays(PackModel):
    days: int = Field(ge=1)
    counts: DayCounts = DayCounts.ANY_FILL


class ConsistencyRule(PackModel):
    """Best day / denominator must stay below (``lt``) or at most (``le``) ``percent``."""

    percent: Exact
    comparison: Comparison
    window: ConsistencyWindow = ConsistencyWindow.EVALUATION
    denominator: ConsistencyDenominator = ConsistencyDenominator.TOTAL_PROFIT
    outcome: Literal[RuleOutcome.EXTEND_TARGET, RuleOutcome.LOCK_DAY, RuleOutcome.FAIL]
    applies_to: RequiredFor = RequiredFor.PASS

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if not 0 < self.percent < HUNDRED:
            raise ValueError(f"percent must be between 0 and 100 (exclusive), got {self.percent}")
        if self.outcome is not RuleOutcome.EXTEND_TARGET and self.denominator is not (
            ConsistencyDenominator.TARGET_OR_TOTAL
        ):
            raise ValueError(
                f"outcome '{self.outcome.value}' acts while trading, when the first profitable day is always "
                "100% of total profit; use denominator 'target_or_total' with it"
            )
        return self

    @property
    def fraction(self) -> Decimal:
        return self.percent / HUNDRED


class PositionLimits(PackModel):
    """Maximum open contracts; ``micro_ratio`` micros count as one contract (1 = a micro is a full lot)."""

    max_contracts: int = Field(ge=1)
    micro_ratio: Exact = Decimal(1)

    @model_validator(mode="after")
    def _ratio(self) -> Self:
        if self.micro_ratio < 1:
            raise ValueError("micro_ratio must be at least 1")
        return self


class ScalingTier(PackModel):
    min_profit: Exact
    max_contracts: int = Field(ge=1)


class ScalingPlan(PackModel):
    """Contract tiers by end-of-day profit (EOD balance − start), effective from the next session."""

    tiers: tuple[ScalingTier, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        levels = [t.min_profit for t in self.tiers]
        if levels != sorted(levels) or len(set(levels)) != len(levels):
            raise ValueError("scaling tiers must be listed by strictly increasing min_profit")
        if self.tiers[0].min_profit > 0:
            raise ValueError("the first scaling tier must start at or below zero profit")
        return self

    def tier_for(self, profit: Decimal) -> tuple[int, ScalingTier]:
        """The index and tier that apply at ``profit`` (the lowest tier below the first level)."""
        index = 0
        for i, tier in enumerate(self.tiers):
            if profit >= tier.min_profit:
                index = i
        return index, self.tiers[index]


class FlatBy(PackModel):
    """Positions must be flat from ``time`` (in the day boundary's zone) until the session ends."""

    time: ClockTime


class WinningDays(SizedRule):
    """Days whose closed PnL is at least the threshold (``percent`` of the starting balance)."""

    count: int = Field(ge=1)
    required_for: RequiredFor = RequiredFor.PAYOUT


class ConsecutiveLosses(PackModel):
    max: int = Field(ge=1)
    outcome: Literal[RuleOutcome.WARN, RuleOutcome.LOCK_DAY, RuleOutcome.FAIL] = RuleOutcome.WARN


class DecayPoint(PackModel):
    after_minutes: int = Field(ge=0)
    target_r: Exact


class TimeDecayExit(PackModel):
    """Time stop: after ``max_bars`` bars or ``max_minutes`` minutes without ``min_progress_r`` R, act.

    ``target_schedule`` optionally adds a decaying profit target (minutes since entry → R to take).
    """

    max_bars: int | None = Field(default=None, ge=1)
    max_minutes: int | None = Field(default=None, ge=1)
    min_progress_r: Exact
    action: ExitAction = ExitAction.ALERT
    target_schedule: tuple[DecayPoint, ...] = ()

    @model_validator(mode="after")
    def _one_clock(self) -> Self:
        if (self.max_bars is None) == (self.max_minutes is None):
            raise ValueError("give exactly one of 'max_bars' or 'max_minutes'")
        minutes = [p.after_minutes for p in self.target_schedule]
        if minutes != sorted(set(minutes)):
            raise ValueError("target_schedule must be listed by strictly increasing after_minutes")
        return self


class VpinGate(PackModel):
    """Block new exposure while VPIN's percentile in its own history is at or above ``cdf_threshold``."""

    cdf_threshold: Exact
    buckets_per_day: int = Field(default=50, ge=1)
    window: int = Field(default=50, ge=1)
    action: GateAction = GateAction.BLOCK_NEW_EXPOSURE

    @model_validator(mode="after")
    def _threshold(self) -> Self:
        if not 0 < self.cdf_threshold <= 1:
            raise ValueError(f"cdf_threshold must be in (0, 1], got {self.cdf_threshold}")
        return self
