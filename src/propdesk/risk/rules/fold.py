"""The fold of a rule state: start it, roll it over day boundaries, observe, record payouts.

Each function checks the state against the pack it was started with and applies every rule that
acts (:func:`~propdesk.risk.rules.breaches.apply_rules`) at the instant it folds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType

from propdesk.model.numbers import ZERO
from propdesk.risk.rules.breaches import apply_rules, maybe_pass
from propdesk.risk.rules.floors import lock_level, ratchet
from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.pack_enums import MaxLossReference, TargetCheck
from propdesk.risk.rules.sessions import clock_of
from propdesk.risk.rules.state import (
    Bootstrap,
    DayRecord,
    Observation,
    Outcome,
    PackMismatchError,
    RuleCode,
    RuleState,
)


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
    return apply_rules(pack, state, at)


def _contracts_limit(pack: RulePack, tier_limit: int | None) -> int | None:
    base = pack.position_limits.max_contracts if pack.position_limits is not None else None
    if tier_limit is None:
        return base
    return tier_limit if base is None else min(base, tier_limit)


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
        floor = ratchet(floor, eod_high - ml.size_of(state.starting_balance), lock_level(pack, state))
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
        rolled = maybe_pass(pack, rolled, boundary)
    return apply_rules(pack, rolled, boundary)


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
            state = replace(state, max_loss_floor=ratchet(floor, state.peak_equity - amount, cap))
        elif ml.reference is MaxLossReference.INTRADAY_BALANCE_TRAILING:
            state = replace(state, max_loss_floor=ratchet(floor, state.peak_balance - amount, cap))
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
    return apply_rules(pack, state, obs.at, trade_result)


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
    return apply_rules(pack, state, at)
