"""Rule status: every floor and its cushion, effective capital, severities, progress, actions.

:func:`evaluate` is a pure report over a folded :class:`~propdesk.risk.rules.state.RuleState` at an
instant; it rolls day boundaries up to that instant (so a status read just after 17:00 Chicago
already shows the new session's floors) but changes nothing else. The outcome a service must
apply is in :attr:`~propdesk.risk.rules.status.RuleStatus.required_action`:

* ``liquidate``: a fail rule breached; close every position and end the account (failed);
* ``lock_day``: a soft breach; flatten and refuse new exposure until ``locked_until``;
* ``flatten``: positions are open inside the flat-by window;
* ``reduce``: open contracts exceed today's limit (the scaling tier can fall at a session start);
* ``complete``: every objective is met; the account is completed with outcome passed.

Effective capital is the smallest cushion over the active floors (``equity − binding floor``
when every floor is checked against equity): the money that can actually be lost before a
rule acts, which is what sizing should use.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from propdesk.accounting.state import AccountState
from propdesk.risk.rules.floors import basis_value, daily_floor, is_breached, lock_level, max_loss_amount
from propdesk.risk.rules.fold import advance_to, observe
from propdesk.risk.rules.levels import BreachLevel, Severity, breach_level, severity_for_utilization, worst
from propdesk.risk.rules.objectives import (
    ConsistencyFigures,
    consistency_figures,
    effective_target,
    objectives,
    trading_days_done,
    winning_days_done,
)
from propdesk.risk.rules.observations import observation_from_account
from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.pack_enums import RuleOutcome
from propdesk.risk.rules.sessions import clock_of
from propdesk.risk.rules.state import Outcome, RuleCode, RuleState
from propdesk.risk.rules.status import (
    FloorStatus,
    RequiredAction,
    RuleCheck,
    RuleStatus,
    ScalingStatus,
    TargetProgress,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def _floors(pack: RulePack, state: RuleState) -> list[FloorStatus]:
    floors: list[FloorStatus] = []
    ml = pack.max_loss
    amount = max_loss_amount(pack, state)
    if ml is not None and state.max_loss_floor is not None and amount is not None:
        value = basis_value(ml.breach_basis, state)
        cushion = value - state.max_loss_floor
        level = lock_level(pack, state)
        floors.append(
            FloorStatus(
                rule=RuleCode.MAX_LOSS,
                reference=ml.reference.value,
                floor=state.max_loss_floor,
                basis=ml.breach_basis,
                value=value,
                cushion=cushion,
                allowance=amount,
                remaining_fraction=cushion / amount,
                level=breach_level(cushion, amount),
                locked=level is not None and state.max_loss_floor >= level,
                outcome=RuleOutcome.FAIL,
                breached=is_breached(value, state.max_loss_floor, ml.breach_at_floor),
            )
        )
    dl = pack.daily_loss
    daily = daily_floor(pack, state)
    if dl is not None and daily is not None:
        floor, size = daily
        value = basis_value(dl.breach_basis, state)
        cushion = value - floor
        floors.append(
            FloorStatus(
                rule=RuleCode.DAILY_LOSS,
                reference=dl.anchor.value,
                floor=floor,
                basis=dl.breach_basis,
                value=value,
                cushion=cushion,
                allowance=size,
                remaining_fraction=cushion / size,
                level=breach_level(cushion, size),
                locked=False,
                outcome=dl.outcome,
                breached=is_breached(value, floor, dl.breach_at_floor) or state.day_locked_by == "daily_loss",
            )
        )
    return floors


def _floor_check(item: FloorStatus) -> RuleCheck:
    used = item.allowance - item.cushion
    severity = Severity.CRITICAL if item.breached else severity_for_utilization(used, item.allowance)
    what = "max loss" if item.rule is RuleCode.MAX_LOSS else "daily loss"
    message = (
        f"{what}: {item.basis.value} {item.value} vs floor {item.floor} "
        f"(cushion {item.cushion} of {item.allowance}{', locked' if item.locked else ''})"
    )
    return RuleCheck(item.rule, severity, used, item.allowance, message)


def _pct(value: Decimal) -> str:
    return f"{(value * HUNDRED).quantize(Decimal('0.01'))}%"


def _consistency_check(pack: RulePack, state: RuleState, figures: ConsistencyFigures) -> RuleCheck:
    rule = pack.consistency
    assert rule is not None
    limit = figures.percent / HUNDRED * figures.denominator
    if figures.best_day <= 0:
        severity = Severity.INFO
    elif not figures.compliant:
        severity = Severity.CRITICAL
    else:
        severity = severity_for_utilization(figures.best_day, limit)
    ratio = "n/a" if figures.ratio is None else _pct(figures.ratio)
    sign = "<" if figures.strict else "≤"
    message = (
        f"best day {figures.best_day} is {ratio} of {figures.denominator} (must be {sign} {figures.percent}%)"
    )
    if not figures.compliant:
        if figures.required_total is not None:
            message += f"; profit still needed {figures.profit_still_needed}"
        else:
            message += "; more profitable days needed"
    if figures.max_today_pnl is not None:
        message += f"; max PnL today {figures.max_today_pnl}"
    blocks = state.day_locked_by == RuleCode.CONSISTENCY.value
    return RuleCheck(RuleCode.CONSISTENCY, severity, figures.best_day, limit, message, blocks_trading=blocks)


def _in_flat_window(pack: RulePack, state: RuleState, now: datetime) -> bool:
    if pack.flat_by is None:
        return False
    clock = clock_of(pack)
    return (
        clock.flat_by_instant(state.trading_day, pack.flat_by.time)
        <= now
        < clock.session_end(state.trading_day)
    )


def _scaling(pack: RulePack, state: RuleState) -> ScalingStatus | None:
    if pack.scaling is None and pack.position_limits is None:
        return None
    if pack.scaling is None:
        return ScalingStatus(state.max_contracts_today, None, None, None)
    last_eod = state.days[-1].end_balance if state.days else state.day_start_balance
    index, _ = pack.scaling.tier_for(last_eod - state.starting_balance)
    nxt = pack.scaling.tiers[index + 1] if index + 1 < len(pack.scaling.tiers) else None
    return ScalingStatus(
        state.max_contracts_today,
        index,
        nxt.min_profit if nxt else None,
        nxt.max_contracts if nxt else None,
    )


def _target(pack: RulePack, state: RuleState) -> TargetProgress | None:
    if pack.profit_target is None:
        return None
    target = pack.profit_target.size_of(state.starting_balance)
    eff = effective_target(pack, state)
    assert eff is not None
    goals = tuple(objectives(pack, state))
    return TargetProgress(
        target=target,
        effective_target=eff,
        profit=state.profit,
        remaining=max(ZERO, eff - state.profit),
        progress=max(ZERO, state.profit) / eff,
        trading_days=trading_days_done(pack, state),
        min_trading_days=pack.min_trading_days.days if pack.min_trading_days else None,
        winning_days=winning_days_done(pack, state),
        winning_days_required=pack.winning_days.count if pack.winning_days else None,
        objectives=goals,
        ready=bool(goals) and all(g.met for g in goals),
    )


def evaluate(pack: RulePack, state: RuleState, now: datetime) -> RuleStatus:
    """The full rule status of an account at ``now`` (day boundaries up to ``now`` applied).

    A ``now`` slightly before the last observation (clock skew between processes) reports as of
    that observation rather than failing a read.
    """
    now = max(now, state.last_at)
    state = advance_to(pack, state, now)
    clock = clock_of(pack)
    floors = _floors(pack, state)
    checks: list[RuleCheck] = []
    if state.outcome is Outcome.FAILED:
        checks.append(
            RuleCheck(
                RuleCode.ACCOUNT_OUTCOME,
                Severity.BLOCKING,
                state.outcome.value,
                Outcome.ACTIVE.value,
                f"failed by {state.outcome_rule} at {state.outcome_at}",
                blocks_trading=True,
            )
        )
    elif state.outcome is Outcome.PASSED:
        checks.append(
            RuleCheck(
                RuleCode.ACCOUNT_OUTCOME,
                Severity.INFO,
                state.outcome.value,
                Outcome.ACTIVE.value,
                f"passed at {state.outcome_at}",
                blocks_trading=True,
            )
        )
    if state.day_locked:
        checks.append(
            RuleCheck(
                RuleCode.DAY_LOCKED,
                Severity.BLOCKING,
                state.day_locked_by,
                None,
                f"day locked by {state.day_locked_by} until {clock.session_end(state.trading_day)}",
                blocks_trading=True,
            )
        )
    checks.extend(_floor_check(item) for item in floors)
    figures = consistency_figures(pack, state)
    if figures is not None:
        checks.append(_consistency_check(pack, state, figures))
    streak_rule = pack.max_consecutive_losses
    if streak_rule is not None:
        streak = state.consecutive_losses
        checks.append(
            RuleCheck(
                RuleCode.MAX_CONSECUTIVE_LOSSES,
                severity_for_utilization(Decimal(streak), Decimal(streak_rule.max)),
                streak,
                streak_rule.max,
                f"{streak} consecutive losing trades of {streak_rule.max} allowed",
                blocks_trading=state.day_locked_by == RuleCode.MAX_CONSECUTIVE_LOSSES.value,
            )
        )
    over_contracts = False
    if state.max_contracts_today is not None:
        limit = Decimal(state.max_contracts_today)
        over_contracts = state.open_lots > limit
        if over_contracts:
            lots_severity = Severity.CRITICAL
        elif state.open_lots == limit:
            lots_severity = Severity.WARNING  # at the limit is allowed; one more is not
        else:
            lots_severity = severity_for_utilization(state.open_lots, limit)
        checks.append(
            RuleCheck(
                RuleCode.MAX_CONTRACTS,
                lots_severity,
                state.open_lots,
                state.max_contracts_today,
                f"{state.open_lots} contracts open of {state.max_contracts_today} allowed today",
            )
        )
    in_flat_window = _in_flat_window(pack, state, now)
    if pack.flat_by is not None:
        flat_at = clock.flat_by_instant(state.trading_day, pack.flat_by.time)
        if in_flat_window and state.has_positions:
            severity, message = Severity.CRITICAL, f"positions must be flat since {flat_at}"
        elif in_flat_window:
            severity, message = (
                Severity.INFO,
                f"no new positions until {clock.session_end(state.trading_day)}",
            )
        else:
            severity, message = Severity.INFO, f"flat by {flat_at}"
        checks.append(
            RuleCheck(
                RuleCode.FLAT_BY,
                severity,
                "open" if state.has_positions else "flat",
                flat_at.isoformat(),
                message,
                blocks_trading=in_flat_window,
            )
        )
    target = _target(pack, state)
    if target is not None:
        checks.append(
            RuleCheck(
                RuleCode.PROFIT_TARGET,
                Severity.INFO,
                target.profit,
                target.effective_target,
                f"profit {target.profit} of {target.effective_target} ({_pct(target.progress)})",
            )
        )
        if target.min_trading_days is not None:
            checks.append(
                RuleCheck(
                    RuleCode.MIN_TRADING_DAYS,
                    Severity.INFO,
                    target.trading_days,
                    target.min_trading_days,
                    f"{target.trading_days} of {target.min_trading_days} trading days",
                )
            )
    if pack.winning_days is not None:
        won = winning_days_done(pack, state)
        checks.append(
            RuleCheck(
                RuleCode.WINNING_DAYS,
                Severity.INFO,
                won,
                pack.winning_days.count,
                f"{won} of {pack.winning_days.count} winning days "
                f"(≥ {pack.winning_days.size_of(state.starting_balance)}, for {pack.winning_days.required_for.value})",
            )
        )
    if state.hwm_drift > 0:
        checks.append(
            RuleCheck(
                RuleCode.HWM_DRIFT,
                Severity.CRITICAL,
                state.hwm_drift,
                ZERO,
                f"the account's high watermark fell by {state.hwm_drift}; a watermark never decreases",
            )
        )

    binding = min(floors, key=lambda f: f.cushion, default=None)
    effective = binding.cushion if binding is not None else state.equity
    if state.outcome is Outcome.FAILED:
        level = BreachLevel.CRITICAL
    else:
        level = max((f.level for f in floors), key=lambda lv: lv.rank, default=BreachLevel.SAFE)

    if state.outcome is Outcome.FAILED:
        action = RequiredAction.LIQUIDATE
    elif state.outcome is Outcome.PASSED:
        action = RequiredAction.COMPLETE
    elif state.day_locked:
        action = RequiredAction.LOCK_DAY
    elif in_flat_window and state.has_positions:
        action = RequiredAction.FLATTEN
    elif over_contracts:
        action = RequiredAction.REDUCE
    else:
        action = RequiredAction.NONE
    can_trade = state.outcome is Outcome.ACTIVE and not state.day_locked and not in_flat_window
    return RuleStatus(
        pack_key=state.pack_key,
        pack_fingerprint=state.pack_fingerprint,
        as_of=now,
        trading_day=state.trading_day,
        session_start=clock.session_start(state.trading_day),
        session_end=clock.session_end(state.trading_day),
        outcome=state.outcome,
        outcome_rule=state.outcome_rule,
        outcome_at=state.outcome_at,
        day_locked=state.day_locked,
        day_locked_by=state.day_locked_by,
        locked_until=clock.session_end(state.trading_day) if state.day_locked else None,
        can_trade=can_trade,
        required_action=action,
        starting_balance=state.starting_balance,
        equity=state.equity,
        balance=state.balance,
        open_pnl=state.equity - state.balance,
        profit=state.profit,
        today_pnl=state.today_pnl,
        today_net_pnl=state.today_net_pnl,
        high_watermark=state.peak_equity,
        peak_balance=state.peak_balance,
        eod_balance_high=state.eod_balance_high,
        floors=tuple(floors),
        binding_floor=binding.rule if binding is not None else None,
        effective_capital=effective,
        breach_level=level,
        checks=tuple(checks),
        worst_severity=worst([c.severity for c in checks]),
        consistency=figures,
        target=target,
        scaling=_scaling(pack, state),
        open_lots=state.open_lots,
        consecutive_losses=state.consecutive_losses,
        payouts=state.payouts,
        breaches=state.breaches,
    )


def evaluate_account(
    pack: RulePack, state: RuleState, account: AccountState, now: datetime
) -> tuple[RuleState, RuleStatus]:
    """Observe ``account`` as it is at ``now`` (a mark) and report: the service's usual read path."""
    new_state = observe(pack, state, observation_from_account(pack, account, now))
    return new_state, evaluate(pack, new_state, now)
