"""What a rule status report is made of: floors, checks, target progress, scaling, the action.

:class:`RuleStatus` is what :func:`propdesk.risk.rules.evaluate.evaluate` returns and what
``GET /api/v1/prop/accounts/{id}/rules`` reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from propdesk.risk.rules.levels import BreachLevel, Severity
from propdesk.risk.rules.objectives import ConsistencyFigures, Objective
from propdesk.risk.rules.pack_enums import BreachBasis, RuleOutcome
from propdesk.risk.rules.state import Breach, Outcome, RuleCode


class RequiredAction(StrEnum):
    NONE = "none"
    LIQUIDATE = "liquidate"
    LOCK_DAY = "lock_day"
    FLATTEN = "flatten"
    REDUCE = "reduce"
    COMPLETE = "complete"


CheckValue = Decimal | int | str | None


@dataclass(frozen=True, slots=True)
class FloorStatus:
    """One floor: where it is, what is checked against it, and how much room is left."""

    rule: RuleCode
    reference: str
    floor: Decimal
    basis: BreachBasis
    value: Decimal
    cushion: Decimal
    allowance: Decimal
    remaining_fraction: Decimal
    level: BreachLevel
    locked: bool
    outcome: RuleOutcome
    breached: bool


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One rule's verdict with what it measured and against which limit (execution-gate style)."""

    code: RuleCode
    severity: Severity
    value: CheckValue
    limit: CheckValue
    message: str
    blocks_trading: bool = False


@dataclass(frozen=True, slots=True)
class TargetProgress:
    target: Decimal
    effective_target: Decimal
    profit: Decimal
    remaining: Decimal
    progress: Decimal
    trading_days: int
    min_trading_days: int | None
    winning_days: int
    winning_days_required: int | None
    objectives: tuple[Objective, ...]
    ready: bool


@dataclass(frozen=True, slots=True)
class ScalingStatus:
    max_contracts_today: int | None
    tier_index: int | None
    next_tier_profit: Decimal | None
    next_tier_contracts: int | None


@dataclass(frozen=True, slots=True)
class RuleStatus:
    """Everything ``GET /api/v1/prop/accounts/{id}/rules`` reports."""

    pack_key: str
    pack_fingerprint: str
    as_of: datetime
    trading_day: date
    session_start: datetime
    session_end: datetime
    outcome: Outcome
    outcome_rule: str | None
    outcome_at: datetime | None
    day_locked: bool
    day_locked_by: str | None
    locked_until: datetime | None
    can_trade: bool
    required_action: RequiredAction
    starting_balance: Decimal
    equity: Decimal
    balance: Decimal
    open_pnl: Decimal
    profit: Decimal
    today_pnl: Decimal
    today_net_pnl: Decimal
    high_watermark: Decimal
    peak_balance: Decimal
    eod_balance_high: Decimal
    floors: tuple[FloorStatus, ...]
    binding_floor: RuleCode | None
    effective_capital: Decimal
    breach_level: BreachLevel
    checks: tuple[RuleCheck, ...]
    worst_severity: Severity
    consistency: ConsistencyFigures | None
    target: TargetProgress | None
    scaling: ScalingStatus | None
    open_lots: Decimal
    consecutive_losses: int
    payouts: int
    breaches: tuple[Breach, ...]

    def check(self, code: RuleCode) -> RuleCheck:
        """The check for ``code`` (KeyError if the pack has no such rule)."""
        for item in self.checks:
            if item.code is code:
                return item
        raise KeyError(code.value)

    def floor(self, rule: RuleCode) -> FloorStatus:
        for item in self.floors:
            if item.rule is rule:
                return item
        raise KeyError(rule.value)
