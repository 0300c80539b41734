"""Rule state: what a pack needs to remember about an account, folded from observations.

The account kernel knows cash, positions and PnL; a rule pack additionally needs peaks, ratcheted
floors, per-day history, streaks and outcomes. :class:`RuleState` holds exactly that and is folded
by pure functions, in time order, from three kinds of input:

* an :class:`Observation` after every fill and every mark (equity, closed balance, open lots and,
  for a fill, what it did to its position),
* the passage of a day boundary, detected from the observation times and the pack's
  :class:`~propdesk.risk.sessions.SessionClock` (:func:`advance_to`), and
* payouts (:func:`record_payout`).

Breaches are detected while folding, at the observation that causes them, so the state records
when and why an account failed, locked its day or passed; :func:`propdesk.risk.evaluate.evaluate`
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
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from types import MappingProxyType

from propdesk.accounting.events import FillApplied
from propdesk.accounting.positions import Position
from propdesk.accounting.state import AccountState
from propdesk.model.instruments import FUTURE_ROOTS, AssetClass, InvalidSymbolError, future
from propdesk.model.numbers import CENT, ONE, ZERO
from propdesk.risk.pack import (
    BreachBasis,
    Comparison,
    ConsistencyDenominator,
    ConsistencyWindow,
    DailyAnchor,
    DayCounts,
    MaxLossReference,
    RequiredFor,
    RuleOutcome,
    RulePack,
    TargetCheck,
)
from propdesk.risk.sessions import SessionClock


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
    """Everything a pack remembers about one account. Build with :func:`start_rules`."""

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


# --- lots --------------------------------------------------------------------------------------


def _lot_weight(symbol: str, asset_class: AssetClass, micro_ratio: Decimal) -> Decimal:
    if asset_class is not AssetClass.FUTURE:
        return ONE
    try:
        root = future(symbol).root
    except InvalidSymbolError:
        root = FUTURE_ROOTS.get(symbol)
    return ONE / micro_ratio if root is not None and root.micro_of is not None else ONE


def lots_of(symbol: str, asset_class: AssetClass, qty: Decimal, micro_ratio: Decimal) -> Decimal:
    """Contracts counted against a position limit: a micro is ``1 / micro_ratio`` of a contract."""
    return abs(qty) * _lot_weight(symbol, asset_class, micro_ratio)


def open_lots(positions: Mapping[str, Position], micro_ratio: Decimal = ONE) -> Decimal:
    """Total open contracts across positions (gross), micros weighted by ``micro_ratio``."""
    return sum(
        (
            lots_of(p.instrument.symbol, p.instrument.asset_class, p.qty, micro_ratio)
            for p in positions.values()
        ),
        ZERO,
    )


def micro_ratio_of(pack: RulePack) -> Decimal:
    return pack.position_limits.micro_ratio if pack.position_limits is not None else ONE


def observation_from_account(
    pack: RulePack,
    account: AccountState,
    at: datetime,
    *,
    fill_event: FillApplied | None = None,
) -> Observation:
    """The observation of ``account`` right after ``fill_event`` (or a mark) at ``at``."""
    fact = None
    if fill_event is not None:
        fill = fill_event.fill
        after = fill_event.position_qty_after
        fact = FillFact(
            symbol=fill.symbol,
            realized_pnl=fill_event.realized_pnl,
            fee=fill.fee,
            qty_before=after - fill.signed_qty,
            qty_after=after,
        )
    return Observation(
        at=at,
        equity=account.equity,
        balance=account.balance,
        open_lots=open_lots(account.positions, micro_ratio_of(pack)),
        has_positions=bool(account.positions),
        fill=fact,
        high_watermark=account.high_watermark,
    )


# --- derived figures shared with evaluation ------------------------------------------------------


def clock_of(pack: RulePack) -> SessionClock:
    return SessionClock.of(pack.day_boundary)


def lock_level(pack: RulePack, state: RuleState) -> Decimal | None:
    return pack.lock_level(state.starting_balance)


def max_loss_amount(pack: RulePack, state: RuleState) -> Decimal | None:
    return None if pack.max_loss is None else pack.max_loss.size_of(state.starting_balance)


def _ratchet(floor: Decimal, candidate: Decimal, cap: Decimal | None) -> Decimal:
    return max(floor, candidate if cap is None else min(candidate, cap))


def daily_anchor(pack: RulePack, state: RuleState) -> Decimal | None:
    rule = pack.daily_loss
    if rule is None:
        return None
    anchor = rule.anchor
    if anchor is DailyAnchor.DAY_START_EQUITY:
        return state.day_start_equity
    if anchor is DailyAnchor.DAY_START_BALANCE:
        return state.day_start_balance
    if anchor is DailyAnchor.DAY_START_MAX_EQUITY_BALANCE:
        return max(state.day_start_equity, state.day_start_balance)
    if anchor is DailyAnchor.DAY_PEAK_EQUITY:
        return state.day_peak_equity
    return state.day_peak_balance


def daily_floor(pack: RulePack, state: RuleState) -> tuple[Decimal, Decimal] | None:
    """Today's daily floor and its size (the allowed loss), or None without a daily rule."""
    anchor = daily_anchor(pack, state)
    if anchor is None:
        return None
    size = pack.daily_size(anchor, state.starting_balance)
    assert size is not None
    return anchor - size, size


def basis_value(basis: BreachBasis, state: RuleState) -> Decimal:
    return state.equity if basis is BreachBasis.EQUITY else state.balance


def is_breached(value: Decimal, floor: Decimal, at_floor: bool) -> bool:
    return value <= floor if at_floor else value < floor


def window_days(pack: RulePack, state: RuleState) -> tuple[DayRecord, ...]:
    """Completed days in the consistency / winning-day window (since the last payout if so)."""
    c = pack.consistency
    if c is not None and c.window is ConsistencyWindow.EVALUATION:
        return state.days
    return state.days[state.window_start :]


def day_counts(pack: RulePack, record_traded: bool, record_opened: bool) -> bool:
    rule = pack.min_trading_days
    if rule is not None and rule.counts is DayCounts.POSITION_OPENED:
        return record_opened
    return record_traded


def trading_days_done(pack: RulePack, state: RuleState) -> int:
    """Days that count toward the minimum, today included once it counts."""
    done = sum(1 for d in state.days if day_counts(pack, d.traded, d.opened))
    return done + (1 if day_counts(pack, state.day_traded, state.day_opened) else 0)


def winning_days_done(pack: RulePack, state: RuleState) -> int:
    """Winning days in the window, today included (provisionally) if it is at the threshold now."""
    threshold = pack.winning_days.size_of(state.starting_balance) if pack.winning_days else None
    if threshold is None:
        return 0
    days = state.days[state.window_start :]
    done = sum(1 for d in days if d.traded and d.pnl >= threshold)
    return done + (1 if state.day_traded and state.today_pnl >= threshold else 0)


def _cents_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_CEILING)


def _cents_down(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_FLOOR)


@dataclass(frozen=True, slots=True)
class ConsistencyFigures:
    """Best day against the window's profit, and what it takes to comply.

    ``required_total``: the window profit at which today's best day complies (None: it already
    does whatever the total). ``max_today_pnl``: the largest closed PnL today can end with and
    keep the window compliant (None: no PnL today can make it comply; the best day is in the past
    and needs more profit on other days). Amounts are on the cent grid; a strict rule needs one
    cent more than the exact ratio.
    """

    percent: Decimal
    strict: bool
    best_day: Decimal
    total: Decimal
    denominator: Decimal
    ratio: Decimal | None
    compliant: bool
    required_total: Decimal | None
    profit_still_needed: Decimal
    today_pnl: Decimal
    max_today_pnl: Decimal | None
    today_is_best: bool


def consistency_figures(pack: RulePack, state: RuleState) -> ConsistencyFigures | None:
    rule = pack.consistency
    if rule is None:
        return None
    pct = rule.fraction
    strict = rule.comparison is Comparison.LT
    target = (
        pack.profit_target.size_of(state.starting_balance)
        if rule.denominator is ConsistencyDenominator.TARGET_OR_TOTAL and pack.profit_target
        else None
    )
    previous = [d.pnl for d in window_days(pack, state)]
    best_before = max([ZERO, *previous])
    before = sum(previous, ZERO)
    today = state.today_pnl
    best = max(best_before, today, ZERO)
    total = before + today
    denominator = total if target is None else max(target, total)

    def complies(best_day: Decimal, denom: Decimal) -> bool:
        if best_day <= 0:
            return True
        if denom <= 0:
            return False
        return best_day < pct * denom if strict else best_day <= pct * denom

    compliant = complies(best, denominator)
    ratio = best / denominator if denominator > 0 else None
    if target is not None and complies(best, target):
        required: Decimal | None = None
    elif best <= 0:
        required = None
    else:
        exact = best / pct
        required = _cents_down(exact) + CENT if strict else _cents_up(exact)
    needed = ZERO if required is None or compliant else max(ZERO, required - total)
    # The largest x (today's closed PnL) with max(best_before, x) complying against before + x.
    if target is not None and before + pct * target <= target:
        x_star = pct * target
    else:
        x_star = pct * before / (ONE - pct)
    x_allowed = (_cents_up(x_star) - CENT) if strict else _cents_down(x_star)
    total_then = before + x_allowed
    denominator_then = total_then if target is None else max(target, total_then)
    max_today: Decimal | None = None
    if x_allowed >= best_before and complies(max(best_before, x_allowed), denominator_then):
        max_today = x_allowed
    return ConsistencyFigures(
        percent=rule.percent,
        strict=strict,
        best_day=best,
        total=total,
        denominator=denominator,
        ratio=ratio,
        compliant=compliant,
        required_total=required,
        profit_still_needed=needed,
        today_pnl=today,
        max_today_pnl=max_today,
        today_is_best=today > 0 and today >= best_before,
    )


@dataclass(frozen=True, slots=True)
class Objective:
    code: RuleCode
    met: bool
    value: Decimal | int
    required: Decimal | int
    message: str


def effective_target(pack: RulePack, state: RuleState) -> Decimal | None:
    """The profit the account must reach: the target, raised by an unmet consistency rule."""
    if pack.profit_target is None:
        return None
    target = pack.profit_target.size_of(state.starting_balance)
    rule = pack.consistency
    figures = consistency_figures(pack, state)
    if (
        rule is not None
        and figures is not None
        and rule.applies_to is RequiredFor.PASS
        and rule.outcome is RuleOutcome.EXTEND_TARGET
        and figures.required_total is not None
    ):
        base = sum((d.pnl for d in window_days(pack, state)), ZERO)
        # The window's profit must reach required_total; in account terms that is profit at window start + it.
        window_offset = state.profit - (base + state.today_pnl)
        return max(target, window_offset + figures.required_total)
    return target


def objectives(pack: RulePack, state: RuleState) -> list[Objective]:
    """Every objective needed to pass, met or not (empty without a profit target)."""
    if pack.profit_target is None:
        return []
    target = pack.profit_target.size_of(state.starting_balance)
    result = [
        Objective(
            RuleCode.PROFIT_TARGET,
            state.profit >= target,
            state.profit,
            target,
            f"profit {state.profit} of target {target}",
        )
    ]
    if pack.profit_target.require_flat:
        result.append(
            Objective(
                RuleCode.FLAT_FOR_TARGET,
                not state.has_positions,
                int(state.has_positions),
                0,
                "all positions closed" if not state.has_positions else "positions are open",
            )
        )
    if pack.min_trading_days is not None:
        done, need = trading_days_done(pack, state), pack.min_trading_days.days
        result.append(
            Objective(RuleCode.MIN_TRADING_DAYS, done >= need, done, need, f"{done} of {need} days")
        )
    rule, figures = pack.consistency, consistency_figures(pack, state)
    if rule is not None and figures is not None and rule.applies_to is RequiredFor.PASS:
        ratio = "n/a" if figures.ratio is None else f"{(figures.ratio * 100).quantize(Decimal('0.01'))}%"
        result.append(
            Objective(
                RuleCode.CONSISTENCY,
                figures.compliant,
                figures.best_day,
                figures.required_total if figures.required_total is not None else ZERO,
                f"best day {figures.best_day} is {ratio} of {figures.denominator}",
            )
        )
    if pack.winning_days is not None and pack.winning_days.required_for is RequiredFor.PASS:
        won, need = winning_days_done(pack, state), pack.winning_days.count
        result.append(
            Objective(RuleCode.WINNING_DAYS, won >= need, won, need, f"{won} of {need} winning days")
        )
    return result


def pass_ready(pack: RulePack, state: RuleState) -> bool:
    goals = objectives(pack, state)
    return bool(goals) and all(g.met for g in goals)


# --- folding -----------------------------------------------------------------------------------


def _check_pack(pack: RulePack, state: RuleState) -> None:
    if pack.key != state.pack_key or pack.fingerprint != state.pack_fingerprint:
        raise PackMismatchError(
            f"rule state was folded under {state.pack_key} ({state.pack_fingerprint[:12]}), "
            f"not {pack.key} ({pack.fingerprint[:12]})"
        )


def start_rules(
    pack: RulePack,
    at: datetime,
    *,
    starting_balance: Decimal | None = None,
    bootstrap: Bootstrap | None = None,
) -> RuleState:
    """The rule state of an account that starts (or starts being tracked) at ``at``."""
    start = pack.starting_balance if starting_balance is None else starting_balance
    if start <= 0:
        raise ValueError("starting balance must be positive")
    balance = start if bootstrap is None else bootstrap.balance
    equity = balance if bootstrap is None or bootstrap.equity is None else bootstrap.equity
    peak_equity = max(start, equity)
    peak_balance = max(start, balance)
    eod_high = start
    days: tuple[DayRecord, ...] = ()
    if bootstrap is not None:
        peak_equity = bootstrap.peak_equity if bootstrap.peak_equity is not None else peak_equity
        peak_balance = bootstrap.peak_balance if bootstrap.peak_balance is not None else peak_balance
        eod_high = bootstrap.eod_balance_high if bootstrap.eod_balance_high is not None else eod_high
        days = bootstrap.days
    floor = None
    if pack.max_loss is not None:
        amount = pack.max_loss.size_of(start)
        floor = start - amount
        if bootstrap is not None and bootstrap.max_loss_floor is not None:
            floor = bootstrap.max_loss_floor
    tiers = None
    if pack.scaling is not None:
        _, tier = pack.scaling.tier_for(balance - start)
        tiers = tier.max_contracts
    state = RuleState(
        pack_key=pack.key,
        pack_fingerprint=pack.fingerprint,
        starting_balance=start,
        trading_day=clock_of(pack).trading_day(at),
        last_at=at,
        equity=equity,
        balance=balance,
        open_lots=ZERO,
        has_positions=False,
        peak_equity=peak_equity,
        peak_balance=peak_balance,
        eod_balance_high=eod_high,
        max_loss_floor=floor,
        day_start_equity=equity,
        day_start_balance=balance,
        day_peak_equity=equity,
        day_peak_balance=balance,
        day_min_equity=equity,
        days=days,
        max_contracts_today=_contracts_limit(pack, tiers),
    )
    return _checked(pack, state, at)


def _contracts_limit(pack: RulePack, tier_limit: int | None) -> int | None:
    base = pack.position_limits.max_contracts if pack.position_limits is not None else None
    if tier_limit is None:
        return base
    return tier_limit if base is None else min(base, tier_limit)


def _fail(state: RuleState, breach: Breach) -> RuleState:
    return replace(
        state,
        outcome=Outcome.FAILED,
        outcome_rule=breach.rule,
        outcome_at=breach.at,
        breaches=(*state.breaches, breach),
    )


def _lock(state: RuleState, breach: Breach) -> RuleState:
    return replace(
        state,
        day_locked_by=breach.rule,
        day_locked_at=breach.at,
        breaches=(*state.breaches, breach),
    )


def _act(state: RuleState, breach: Breach) -> RuleState:
    if breach.outcome is RuleOutcome.FAIL:
        return _fail(state, breach)
    if breach.outcome is RuleOutcome.LOCK_DAY:
        return _lock(state, breach)
    return replace(state, breaches=(*state.breaches, breach))


def _checked(
    pack: RulePack, state: RuleState, at: datetime, trade_result: Decimal | None = None
) -> RuleState:
    """Apply every rule that acts on the current values, in order: the max-loss floor, the daily
    floor, the loss streak (when a trade just closed with ``trade_result``), consistency acting
    while trading, then passing. The Monte Carlo engine applies the same order."""
    if state.outcome is not Outcome.ACTIVE:
        return state
    ml = pack.max_loss
    if ml is not None and state.max_loss_floor is not None:
        value = basis_value(ml.breach_basis, state)
        if is_breached(value, state.max_loss_floor, ml.breach_at_floor):
            return _fail(
                state,
                Breach(
                    RuleCode.MAX_LOSS.value,
                    at,
                    value,
                    state.max_loss_floor,
                    RuleOutcome.FAIL,
                    f"{ml.breach_basis.value} {value} reached the max-loss floor {state.max_loss_floor}",
                ),
            )
    dl = pack.daily_loss
    floor_size = daily_floor(pack, state)
    if dl is not None and floor_size is not None and not state.day_locked:
        value = basis_value(dl.breach_basis, state)
        if is_breached(value, floor_size[0], dl.breach_at_floor):
            state = _act(
                state,
                Breach(
                    RuleCode.DAILY_LOSS.value,
                    at,
                    value,
                    floor_size[0],
                    dl.outcome,
                    f"{dl.breach_basis.value} {value} reached today's floor {floor_size[0]}",
                ),
            )
            if state.outcome is not Outcome.ACTIVE:
                return state
    if trade_result is not None:
        state = _streak(pack, state, trade_result, at)
        if state.outcome is not Outcome.ACTIVE:
            return state
    rule, figures = pack.consistency, consistency_figures(pack, state)
    if (
        rule is not None
        and figures is not None
        and rule.outcome is not RuleOutcome.EXTEND_TARGET
        and figures.today_is_best
        and not figures.compliant
        and not state.day_locked
    ):
        state = _act(
            state,
            Breach(
                RuleCode.CONSISTENCY.value,
                at,
                figures.today_pnl,
                figures.percent * figures.denominator / 100,
                rule.outcome,
                f"today's {figures.today_pnl} exceeds {figures.percent}% of {figures.denominator}",
            ),
        )
        if state.outcome is not Outcome.ACTIVE:
            return state
    if pack.profit_target is not None and pack.profit_target.check is TargetCheck.IMMEDIATE:
        state = _maybe_pass(pack, state, at)
    return state


def _maybe_pass(pack: RulePack, state: RuleState, at: datetime) -> RuleState:
    if state.outcome is Outcome.ACTIVE and pass_ready(pack, state):
        return replace(
            state, outcome=Outcome.PASSED, outcome_rule=RuleCode.PROFIT_TARGET.value, outcome_at=at
        )
    return state


def _streak(pack: RulePack, state: RuleState, result: Decimal, at: datetime) -> RuleState:
    if result > 0:
        return replace(state, consecutive_losses=0)
    if result == 0:
        return state  # a scratch neither extends nor breaks a streak
    streak = state.consecutive_losses + 1
    state = replace(state, consecutive_losses=streak)
    rule = pack.max_consecutive_losses
    if (
        rule is not None
        and streak >= rule.max
        and rule.outcome is not RuleOutcome.WARN
        and not state.day_locked
    ):
        state = _act(
            state,
            Breach(
                RuleCode.MAX_CONSECUTIVE_LOSSES.value,
                at,
                Decimal(streak),
                Decimal(rule.max),
                rule.outcome,
                f"{streak} consecutive losing trades (max {rule.max})",
            ),
        )
    return state


def _roll(pack: RulePack, state: RuleState, new_day: date) -> RuleState:
    clock = clock_of(pack)
    boundary = clock.session_end(state.trading_day)
    record = DayRecord(
        day=state.trading_day,
        start_balance=state.day_start_balance,
        end_balance=state.balance,
        end_equity=state.equity,
        pnl=state.today_pnl,
        traded=state.day_traded,
        opened=state.day_opened,
        locked_by=state.day_locked_by,
        max_loss_floor=state.max_loss_floor,
        min_equity=state.day_min_equity,
    )
    eod_high = max(state.eod_balance_high, state.balance)
    floor = state.max_loss_floor
    ml = pack.max_loss
    if ml is not None and floor is not None and ml.reference is MaxLossReference.EOD_BALANCE_TRAILING:
        floor = _ratchet(floor, eod_high - ml.size_of(state.starting_balance), lock_level(pack, state))
    active_or_recorded = state.day_traded or state.has_positions
    days = (*state.days, replace(record, max_loss_floor=floor)) if active_or_recorded else state.days
    tier_limit = None
    if pack.scaling is not None:
        _, tier = pack.scaling.tier_for(state.balance - state.starting_balance)
        tier_limit = tier.max_contracts
    streak = state.consecutive_losses
    if state.day_locked_by == RuleCode.MAX_CONSECUTIVE_LOSSES.value:
        streak = 0  # a lockout ends the streak; the next session starts fresh
    rolled = replace(
        state,
        trading_day=new_day,
        days=days,
        eod_balance_high=eod_high,
        max_loss_floor=floor,
        day_start_equity=state.equity,
        day_start_balance=state.balance,
        day_peak_equity=state.equity,
        day_peak_balance=state.balance,
        day_min_equity=state.equity,
        day_traded=False,
        day_opened=False,
        day_locked_by=None,
        day_locked_at=None,
        consecutive_losses=streak,
        max_contracts_today=_contracts_limit(pack, tier_limit),
    )
    if pack.profit_target is not None and pack.profit_target.check is TargetCheck.END_OF_DAY:
        rolled = _maybe_pass(pack, rolled, boundary)
    return _checked(pack, rolled, boundary)


def advance_to(pack: RulePack, state: RuleState, at: datetime) -> RuleState:
    """Roll the state over every day boundary up to ``at`` (no-op within the same trading day)."""
    _check_pack(pack, state)
    if at < state.last_at:
        raise ValueError(f"observations must arrive in time order: {at} is before {state.last_at}")
    day = clock_of(pack).trading_day(at)
    if day <= state.trading_day:
        return state
    return _roll(pack, state, day)


def observe(pack: RulePack, state: RuleState, obs: Observation) -> RuleState:
    """Fold one observation: roll days if needed, update peaks and floors, apply every rule."""
    state = advance_to(pack, state, obs.at)
    drift = state.hwm_drift
    last_hwm = state.last_hwm
    if obs.high_watermark is not None:
        if last_hwm is not None and obs.high_watermark < last_hwm:
            drift = max(drift, last_hwm - obs.high_watermark)
        last_hwm = obs.high_watermark if last_hwm is None else max(last_hwm, obs.high_watermark)
    state = replace(
        state,
        last_at=obs.at,
        equity=obs.equity,
        balance=obs.balance,
        open_lots=obs.open_lots,
        has_positions=obs.has_positions,
        peak_equity=max(state.peak_equity, obs.equity),
        peak_balance=max(state.peak_balance, obs.balance),
        day_peak_equity=max(state.day_peak_equity, obs.equity),
        day_peak_balance=max(state.day_peak_balance, obs.balance),
        day_min_equity=min(state.day_min_equity, obs.equity),
        last_hwm=last_hwm,
        hwm_drift=drift,
        observations=state.observations + 1,
    )
    if state.outcome is not Outcome.ACTIVE:
        return state
    ml = pack.max_loss
    floor = state.max_loss_floor
    if ml is not None and floor is not None:
        amount = ml.size_of(state.starting_balance)
        cap = lock_level(pack, state)
        if ml.reference is MaxLossReference.INTRADAY_EQUITY_TRAILING:
            state = replace(state, max_loss_floor=_ratchet(floor, state.peak_equity - amount, cap))
        elif ml.reference is MaxLossReference.INTRADAY_BALANCE_TRAILING:
            state = replace(state, max_loss_floor=_ratchet(floor, state.peak_balance - amount, cap))
    fill = obs.fill
    trade_result: Decimal | None = None
    if fill is not None:
        trades = dict(state.open_trades)
        running = trades.get(fill.symbol, ZERO) + fill.realized_pnl - fill.fee
        if fill.closes:
            trade_result = running
            if fill.qty_after == 0:
                trades.pop(fill.symbol, None)
            else:
                trades[fill.symbol] = ZERO
        elif fill.qty_after == 0:
            trades.pop(fill.symbol, None)
        else:
            trades[fill.symbol] = running
        state = replace(
            state,
            open_trades=MappingProxyType(trades),
            day_traded=True,
            day_opened=state.day_opened or fill.opened,
        )
    return _checked(pack, state, obs.at, trade_result)


def record_payout(
    pack: RulePack,
    state: RuleState,
    *,
    amount: Decimal,
    at: datetime,
) -> RuleState:
    """A payout of ``amount`` leaves the account at ``at`` (the kernel records the cash movement).

    Today's PnL, peaks and the consistency window are re-based so that the withdrawal is not a
    trading loss; the max-loss floor is a ratchet and does not move down. With
    ``floor_on_first_payout`` the first payout lifts the floor to the lock level (Topstep XFA).
    """
    if amount <= 0:
        raise ValueError("a payout must be positive")
    state = advance_to(pack, state, at)
    floor = state.max_loss_floor
    payouts = state.payouts + 1
    if (
        pack.max_loss is not None
        and pack.max_loss.floor_on_first_payout
        and payouts == 1
        and floor is not None
    ):
        level = lock_level(pack, state)
        if level is not None:
            floor = max(floor, level)
    state = replace(
        state,
        last_at=at,
        equity=state.equity - amount,
        balance=state.balance - amount,
        peak_equity=state.peak_equity - amount,
        peak_balance=state.peak_balance - amount,
        eod_balance_high=state.eod_balance_high - amount,
        day_start_equity=state.day_start_equity - amount,
        day_start_balance=state.day_start_balance - amount,
        day_peak_equity=state.day_peak_equity - amount,
        day_peak_balance=state.day_peak_balance - amount,
        day_min_equity=state.day_min_equity - amount,
        max_loss_floor=floor,
        payouts=payouts,
        paid_out=state.paid_out + amount,
        window_start=len(state.days),
    )
    return _checked(pack, state, at)
