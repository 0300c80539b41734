"""Rule state: what a pack needs to remember about an account, and the inputs it is folded from.

The account kernel knows cash, positions and PnL; a rule pack additionally needs peaks, ratcheted
floors, per-day history, streaks and outcomes. :class:`RuleState` holds exactly that and is folded
by the pure functions of :mod:`~propdesk.risk.rules.fold`, in time order, from three kinds of
input:

* an :class:`Observation` after every fill and every mark (equity, closed balance, open lots and,
  for a fill, what it did to its position),
* the passage of a day boundary, detected from the observation times and the pack's
  :class:`~propdesk.risk.rules.sessions.SessionClock`
  (:func:`~propdesk.risk.rules.fold.advance_to`), and
* payouts (:func:`~propdesk.risk.rules.fold.record_payout`).

Breaches are detected while folding, at the observation that causes them, so the state records
when and why an account failed, locked its day or passed (the rules that act are in
:mod:`~propdesk.risk.rules.breaches`); :func:`propdesk.risk.rules.evaluate.evaluate`
only reports. Once an outcome is final the state keeps tracking values but rules stop acting.

Semantics worth knowing (see docs/risk.md):

* Trailing floors ratchet: ``floor = max(floor, min(lock level, reference − amount))``; they
  never decrease (a payout does not lower them either).
* The end-of-day values of a day are the last observed ones before its boundary; the service
  should mark positions at the boundary so that day-start equity is current.
* After a roll the max-loss and daily floors are checked again at the boundary instant, which is
  how a floating loss carried over midnight can breach the new day's FTMO limit.
* A trade result (for loss streaks) is a round trip: realized PnL net of fees from the fill that
  opens a position to the fill that flattens (or flips) it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from propdesk.model.numbers import ZERO
from propdesk.risk.rules.pack_enums import RuleOutcome


class Outcome(StrEnum):
    ACTIVE = "active"
    FAILED = "failed"
    PASSED = "passed"


class RuleCode(StrEnum):
    """Stable codes of rules and gates (API clients branch on them)."""

    MAX_LOSS = "max_loss"
    DAILY_LOSS = "daily_loss"
    PROFIT_TARGET = "profit_target"
    FLAT_FOR_TARGET = "flat_for_target"
    MIN_TRADING_DAYS = "min_trading_days"
    CONSISTENCY = "consistency"
    WINNING_DAYS = "winning_days"
    MAX_CONSECUTIVE_LOSSES = "max_consecutive_losses"
    MAX_CONTRACTS = "max_contracts"
    FLAT_BY = "flat_by"
    VPIN = "vpin"
    HWM_DRIFT = "hwm_drift"
    ACCOUNT_OUTCOME = "account_outcome"
    DAY_LOCKED = "day_locked"


class PackMismatchError(ValueError):
    """A rule state folded under one pack was given another."""


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FillFact:
    """What one fill did to its symbol's position; ``qty_before``/``qty_after`` are signed."""

    symbol: str
    realized_pnl: Decimal
    fee: Decimal
    qty_before: Decimal
    qty_after: Decimal

    @property
    def opened(self) -> bool:
        """Opened, increased or flipped a position (FTMO counts such a day as a trading day)."""
        return abs(self.qty_after) > abs(self.qty_before) or self.qty_before * self.qty_after < 0

    @property
    def closes(self) -> bool:
        """Ended a round trip: flattened or flipped the position."""
        return self.qty_before != 0 and (self.qty_after == 0 or self.qty_before * self.qty_after < 0)


@dataclass(frozen=True, slots=True)
class Observation:
    """The account right after a fill or a mark (or at any instant the service checks it)."""

    at: datetime
    equity: Decimal
    balance: Decimal
    open_lots: Decimal = ZERO
    has_positions: bool = False
    fill: FillFact | None = None
    high_watermark: Decimal | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("observation time must be timezone-aware")


@dataclass(frozen=True, slots=True)
class DayRecord:
    """One completed trading day (only days with activity or an open position are recorded)."""

    day: date
    start_balance: Decimal
    end_balance: Decimal
    end_equity: Decimal
    pnl: Decimal
    traded: bool
    opened: bool
    locked_by: str | None
    max_loss_floor: Decimal | None
    min_equity: Decimal


@dataclass(frozen=True, slots=True)
class Breach:
    """A rule acting: when, what was measured against which limit, and what it did."""

    rule: str
    at: datetime
    value: Decimal
    limit: Decimal
    outcome: RuleOutcome
    message: str


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """Start tracking an account that already has history (mid-cycle onboarding).

    Any field left None is initialised as for a fresh account at ``balance``.
    """

    balance: Decimal
    equity: Decimal | None = None
    max_loss_floor: Decimal | None = None
    peak_equity: Decimal | None = None
    peak_balance: Decimal | None = None
    eod_balance_high: Decimal | None = None
    days: tuple[DayRecord, ...] = ()


EMPTY_TRADES: Mapping[str, Decimal] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RuleState:
    """Everything a pack remembers about one account. Build with :func:`~propdesk.risk.rules.fold.start_rules`."""

    pack_key: str
    pack_fingerprint: str
    starting_balance: Decimal
    trading_day: date
    last_at: datetime
    equity: Decimal
    balance: Decimal
    open_lots: Decimal
    has_positions: bool
    peak_equity: Decimal
    peak_balance: Decimal
    eod_balance_high: Decimal
    max_loss_floor: Decimal | None
    day_start_equity: Decimal
    day_start_balance: Decimal
    day_peak_equity: Decimal
    day_peak_balance: Decimal
    day_min_equity: Decimal
    day_traded: bool = False
    day_opened: bool = False
    day_locked_by: str | None = None
    day_locked_at: datetime | None = None
    days: tuple[DayRecord, ...] = ()
    window_start: int = 0
    payouts: int = 0
    paid_out: Decimal = ZERO
    consecutive_losses: int = 0
    open_trades: Mapping[str, Decimal] = field(default_factory=lambda: EMPTY_TRADES)
    max_contracts_today: int | None = None
    outcome: Outcome = Outcome.ACTIVE
    outcome_rule: str | None = None
    outcome_at: datetime | None = None
    breaches: tuple[Breach, ...] = ()
    last_hwm: Decimal | None = None
    hwm_drift: Decimal = ZERO
    observations: int = 0

    @property
    def day_locked(self) -> bool:
        return self.day_locked_by is not None

    @property
    def profit(self) -> Decimal:
        """Closed profit since the start, net of payouts."""
        return self.balance + self.paid_out - self.starting_balance

    @property
    def today_pnl(self) -> Decimal:
        """Today's closed PnL (payouts excluded)."""
        return self.balance - self.day_start_balance

    @property
    def today_net_pnl(self) -> Decimal:
        """Today's net PnL including open PnL (Topstep's daily loss measure)."""
        return self.equity - self.day_start_equity
