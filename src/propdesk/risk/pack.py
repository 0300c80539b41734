"""Rule packs: one firm plan's rules as validated, versioned data.

A pack parametrizes every dimension on which prop firms differ (docs/risk.md, "Every dimension"), so
the engine never hard-codes a firm: where the max-loss floor is measured from and when it moves,
where it stops, what the daily limit is anchored to and what breaching it does, when the trading
day ends (an IANA zone and a wall-clock time, so DST is handled), targets, minimum days,
consistency, contract limits and scaling, flat-by times, winning days, loss streaks, and the
time-decay and VPIN signals.

Numbers in a pack are exact. YAML reads ``2000`` as an int (exact, accepted) and ``0.5`` as a
binary float, which is refused with a message that says to quote it (``"0.5"``); strings are
parsed as written. Times must be quoted too: YAML 1.1 reads an unquoted ``17:00`` as the
sexagesimal number 1020.

A pack is frozen after validation; :attr:`RulePack.fingerprint` is a hash of its canonical form,
so an account can store the exact pack version it was created with and prove it later.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from propdesk.model.fields import SIGNED_SCHEMA
from propdesk.model.numbers import NotExactError, parse_decimal

HUNDRED = Decimal(100)


class PackError(ValueError):
    """A pack that does not parse or validate; the message lists every problem with its field path."""


# --- exact scalar types ------------------------------------------------------------------------


def _exact(value: object, info: ValidationInfo) -> Decimal:
    if isinstance(value, float):
        raise ValueError(
            f"{value!r} is a binary float (an unquoted YAML number with a decimal point); "
            f"quote it, e.g. '{value}', so it stays exact"
        )
    name = info.field_name or "value"
    try:
        return parse_decimal(value, field=name, signed=True)
    except NotExactError as exc:
        raise ValueError(str(exc).removeprefix(f"{name}: ")) from exc


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f"{value} is a number: quote times, e.g. '17:00' (YAML 1.1 reads an unquoted 17:00 as 1020)"
        )
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}(:00)?", value.strip()):
        raise ValueError(f"{value!r} is not a time of day written as 'HH:MM'")
    hours, minutes = (int(part) for part in value.strip().split(":")[:2])
    if hours > 23 or minutes > 59:
        raise ValueError(f"{value!r} is not a valid time of day")
    return time(hours, minutes)


def _zone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an IANA time zone name")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a known IANA time zone (e.g. 'America/Chicago')") from exc
    return value


Exact = Annotated[Decimal, BeforeValidator(_exact), WithJsonSchema(SIGNED_SCHEMA)]
ClockTime = Annotated[
    time, BeforeValidator(_clock_time), PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)
]
ZoneName = Annotated[str, BeforeValidator(_zone)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Sized(_Model):
    """A size written either as an exact ``amount`` or as a ``percent`` of a base."""

    amount: Exact | None = None
    percent: Exact | None = None

    @model_validator(mode="after")
    def _one_size(self) -> Self:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("give exactly one of 'amount' or 'percent'")
        for name in ("amount", "percent"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        return self

    def size_of(self, base: Decimal) -> Decimal:
        """The size in money: the amount, or the percentage of ``base``."""
        if self.amount is not None:
            return self.amount
        assert self.percent is not None
        return base * self.percent / HUNDRED


# --- enumerations ------------------------------------------------------------------------------


class MaxLossReference(StrEnum):
    """What the max-loss floor is measured from (prop-rules.md §1.7, first row)."""

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


# --- rules -------------------------------------------------------------------------------------


class MaxLossRule(_Sized):
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


class DailyLossRule(_Sized):
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


class DayBoundary(_Model):
    """When one trading day ends and the next begins, as a wall-clock time in an IANA zone.

    A boundary after midnight names the session after the day it ends on (17:00 Chicago on
    Sunday starts Monday's session, like CME); a midnight boundary names it after its own date.
    """

    timezone: ZoneName
    time: ClockTime = time(0, 0)


class ProfitTarget(_Sized):
    """Profit on the closed balance (``percent`` of the starting balance)."""

    require_flat: bool = True
    check: TargetCheck = TargetCheck.IMMEDIATE


class MinTradingDays(_Model):
    days: int = Field(ge=1)
    counts: DayCounts = DayCounts.ANY_FILL


class ConsistencyRule(_Model):
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


class PositionLimits(_Model):
    """Maximum open contracts; ``micro_ratio`` micros count as one contract (1 = a micro is a full lot)."""

    max_contracts: int = Field(ge=1)
    micro_ratio: Exact = Decimal(1)

    @model_validator(mode="after")
    def _ratio(self) -> Self:
        if self.micro_ratio < 1:
            raise ValueError("micro_ratio must be at least 1")
        return self


class ScalingTier(_Model):
    min_profit: Exact
    max_contracts: int = Field(ge=1)


class ScalingPlan(_Model):
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


class FlatBy(_Model):
    """Positions must be flat from ``time`` (in the day boundary's zone) until the session ends."""

    time: ClockTime


class WinningDays(_Sized):
    """Days whose closed PnL is at least the threshold (``percent`` of the starting balance)."""

    count: int = Field(ge=1)
    required_for: RequiredFor = RequiredFor.PAYOUT


class ConsecutiveLosses(_Model):
    max: int = Field(ge=1)
    outcome: Literal[RuleOutcome.WARN, RuleOutcome.LOCK_DAY, RuleOutcome.FAIL] = RuleOutcome.WARN


class DecayPoint(_Model):
    after_minutes: int = Field(ge=0)
    target_r: Exact


class TimeDecayExit(_Model):
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


class VpinGate(_Model):
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


_SLUG = r"[a-z0-9][a-z0-9\-]{1,79}"


class RulePack(_Model):
    """One firm plan's rules. Absent rules (None) do not apply."""

    schema_version: Literal[1] = 1
    id: Annotated[str, Field(pattern=rf"^{_SLUG}$")]
    version: Annotated[str, Field(min_length=1, max_length=40)]
    name: str
    firm: str
    plan: str
    phase: Phase
    effective_date: date
    sources: tuple[Annotated[str, Field(pattern=r"^(https?://|propdesk:)\S+$")], ...] = Field(min_length=1)
    notes: str = ""
    caveats: tuple[str, ...] = ()
    currency: str = "USD"
    starting_balance: Exact
    day_boundary: DayBoundary
    max_loss: MaxLossRule | None = None
    daily_loss: DailyLossRule | None = None
    profit_target: ProfitTarget | None = None
    min_trading_days: MinTradingDays | None = None
    consistency: ConsistencyRule | None = None
    position_limits: PositionLimits | None = None
    scaling: ScalingPlan | None = None
    flat_by: FlatBy | None = None
    winning_days: WinningDays | None = None
    max_consecutive_losses: ConsecutiveLosses | None = None
    time_decay_exit: TimeDecayExit | None = None
    vpin_gate: VpinGate | None = None

    _fingerprint: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.starting_balance <= 0:
            raise ValueError("starting_balance must be positive")
        c = self.consistency
        if (
            c is not None
            and c.denominator is ConsistencyDenominator.TARGET_OR_TOTAL
            and not self.profit_target
        ):
            raise ValueError("consistency denominator 'target_or_total' needs a profit_target")
        return self

    # --- resolved sizes ---

    @property
    def max_loss_amount(self) -> Decimal | None:
        return None if self.max_loss is None else self.max_loss.size_of(self.starting_balance)

    @property
    def target_amount(self) -> Decimal | None:
        return None if self.profit_target is None else self.profit_target.size_of(self.starting_balance)

    @property
    def winning_day_threshold(self) -> Decimal | None:
        return None if self.winning_days is None else self.winning_days.size_of(self.starting_balance)

    def lock_level(self, starting_balance: Decimal | None = None) -> Decimal | None:
        """Where the trailing floor stops (None: it never stops)."""
        start = self.starting_balance if starting_balance is None else starting_balance
        if self.max_loss is None or self.max_loss.lock is LockLevel.NONE:
            return None
        if self.max_loss.lock is LockLevel.START:
            return start
        return start + self.max_loss.lock_offset

    def daily_size(self, anchor: Decimal, starting_balance: Decimal | None = None) -> Decimal | None:
        """Today's allowed loss in money, given today's anchor value."""
        rule = self.daily_loss
        if rule is None:
            return None
        start = self.starting_balance if starting_balance is None else starting_balance
        return rule.size_of(anchor if rule.percent_of is PercentOf.ANCHOR else start)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON form: equal packs, equal fingerprints, across processes.

        Computed once per pack object (rule folding checks it on every observation).
        """
        if self._fingerprint is None:
            canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
            self._fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
        return self._fingerprint

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; with ``update`` the cached fingerprint is dropped (the content changed)."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            copied._fingerprint = None
        return copied

    @property
    def key(self) -> str:
        """``id@version``: how an account names the pack it was created with."""
        return f"{self.id}@{self.version}"


def _format_errors(error: ValidationError, source: str) -> str:
    lines = [f"{source}: {error.error_count()} problem(s)"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(pack)"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)


def validate_pack(data: Any, *, source: str = "pack") -> RulePack:
    """Validate a pack from plain data (a mapping as read from YAML or JSON)."""
    if not isinstance(data, dict):
        raise PackError(f"{source}: a pack is a mapping of fields, got {type(data).__name__}")
    try:
        return RulePack.model_validate(data)
    except ValidationError as exc:
        raise PackError(_format_errors(exc, source)) from None


def parse_pack(text: str | bytes, *, source: str = "pack") -> RulePack:
    """Parse and validate one pack from YAML text (JSON is YAML too); raises :class:`PackError`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PackError(f"{source}: not valid YAML: {exc}") from None
    return validate_pack(data, source=source)


def pack_snapshot(pack: RulePack) -> dict[str, Any]:
    """The JSON-safe form an account stores at creation (with :attr:`RulePack.fingerprint`)."""
    return pack.model_dump(mode="json")


def pack_from_snapshot(data: Any, *, fingerprint: str | None = None) -> RulePack:
    """Rebuild a stored pack; with ``fingerprint`` refuse a snapshot whose content changed."""
    pack = validate_pack(data, source="stored pack")
    if fingerprint is not None and pack.fingerprint != fingerprint:
        raise PackError(
            f"stored pack {pack.key} does not match its fingerprint "
            f"({pack.fingerprint[:12]} != {fingerprint[:12]}): it was changed after the account was created"
        )
    return pack
