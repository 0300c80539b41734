"""The rules that act while the state is folded: fail, lock the day, record a warning, or pass.

:func:`apply_rules` runs every rule that acts on the current values, in a fixed order; the
Monte Carlo engine (:mod:`propdesk.risk.quant.challenge_engine`) applies the same order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from propdesk.risk.rules.floors import basis_value, daily_floor, is_breached
from propdesk.risk.rules.objectives import consistency_figures, pass_ready
from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.pack_enums import RuleOutcome, TargetCheck
from propdesk.risk.rules.state import Breach, Outcome, RuleCode, RuleState


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


def apply_rules(
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
        state = maybe_pass(pack, state, at)
    return state


def maybe_pass(pack: RulePack, state: RuleState, at: datetime) -> RuleState:
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
