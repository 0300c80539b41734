"""What passing needs: trading and winning days, consistency figures, the effective target, objectives."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from propdesk.model.numbers import CENT, ONE, ZERO
from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.pack_enums import (
    Comparison,
    ConsistencyDenominator,
    ConsistencyWindow,
    DayCounts,
    RequiredFor,
    RuleOutcome,
)
from propdesk.risk.rules.state import DayRecord, RuleCode, RuleState


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
