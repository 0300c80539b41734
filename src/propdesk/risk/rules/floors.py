"""The floors of a rule state: the max-loss floor's size and lock, today's daily floor, breaches."""

from __future__ import annotations

from decimal import Decimal

from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.pack_enums import BreachBasis, DailyAnchor
from propdesk.risk.rules.state import RuleState


def lock_level(pack: RulePack, state: RuleState) -> Decimal | None:
    return pack.lock_level(state.starting_balance)


def max_loss_amount(pack: RulePack, state: RuleState) -> Decimal | None:
    return None if pack.max_loss is None else pack.max_loss.size_of(state.starting_balance)


def ratchet(floor: Decimal, candidate: Decimal, cap: Decimal | None) -> Decimal:
    """A trailing floor moved toward ``candidate`` but never down, and never above ``cap``."""
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
