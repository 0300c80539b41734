"""Mark-to-market: reprice positions from the latest quotes, persist marks, auto-liquidate.

Ledger cadence. A sweep reprices every account that holds positions, but a ``positions_marked``
row is written only when it matters: when the last event of the account is older than
``mtm_ledger_interval_seconds`` (300 s by default), when equity moved by more than
``mtm_ledger_equity_move`` (0.5%) since the stored state, or when the mark breaches and
liquidates. For 100,000 accounts marked every minute through a 6.5-hour session that is at most
100,000 × 78 ≈ 7.8 million rows a day instead of 39 million, while every liquidation and every
material move is still in the ledger with the prices that caused it. Marks in between are
computed (breaches are checked on every sweep) but not stored, so the snapshot's equity may lag
the market by at most the interval or the move threshold; the heartbeat row says when the last
sweep ran.

A failure on one account is recorded as an ``incident_recorded`` ledger event (in its own
transaction) and logged; the sweep goes on with the next account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from propdesk.accounting.kernel import CommandRejected, Decision, MarkToPrices, RecordIncident, handle
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.execution.pipeline import breaches_drawdown
from propdesk.risk.rules.status import RequiredAction
from propdesk.services.access import ownership
from propdesk.services.access.tokens import Principal
from propdesk.services.accounts import rules
from propdesk.services.accounts.closeouts import liquidation
from propdesk.services.accounts.commands import policy_of
from propdesk.services.context import ServiceContext
from propdesk.services.market.quotes import latest_quotes
from propdesk.services.transactions import account_tx
from propdesk.store.uow import UnitOfWork

log = logging.getLogger(__name__)

HEARTBEAT = "mark_to_market"


@dataclass(frozen=True)
class MarkResult:
    account_id: str
    equity: Decimal
    marked: list[str] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    persisted: bool = False
    liquidated: bool = False


@dataclass(frozen=True)
class SweepResult:
    accounts: int
    persisted: int
    liquidated: int
    failed: list[str]


def _material(ctx: ServiceContext, before: AccountState, after: Decision) -> bool:
    if not after.events:
        return False
    if before.updated_at is None:
        return True
    interval = timedelta(seconds=ctx.settings.mtm_ledger_interval_seconds)
    if after.events[0].at - before.updated_at >= interval:
        return True
    threshold = Decimal(ctx.settings.mtm_ledger_equity_move)
    base = abs(before.equity) or Decimal(1)
    return abs(after.state.equity - before.equity) / base >= threshold


def mark_account(ctx: ServiceContext, account_id: str, *, force: bool = False) -> MarkResult:
    """Mark one account; ``force`` writes the mark row whatever the cadence (the API's explicit call)."""
    with account_tx(ctx.engine, account_id) as tx:
        uow, account, state = tx.uow, tx.account, tx.state
        if not state.status.is_open:
            return MarkResult(account_id, state.equity)
        policy = policy_of(account)
        now = ctx.clock()
        quotes = latest_quotes(uow, state.positions, now=now, max_age_seconds=policy.max_quote_age_seconds)
        prices = {s: q.mark for s, q in quotes.fresh.items()}
        marked = handle(state, MarkToPrices(at=now, prices=prices))
        unpriced = quotes.unusable
        events = list(marked.events)
        result_state = marked.state
        liquidated = False
        if breaches_drawdown(marked.state, policy):
            reason = (
                f"auto-liquidation: equity {marked.state.equity} at or below {policy.liquidation_equity} "
                f"({policy.liquidation_drawdown:%} drawdown from the starting balance)"
            )
            try:
                closing = liquidation(ctx, uow, marked.state, reason)
                liquidated = True
            except CommandRejected as exc:
                # Without a fresh price for every position nothing is closed; say so in the ledger
                # and try again on the next sweep.
                log.warning("account %s breached but cannot be liquidated: %s", account_id, exc.message)
                closing = handle(
                    marked.state, RecordIncident(at=now, kind="liquidation_blocked", message=exc.message)
                )
            events += closing.events
            result_state = closing.state
        persist = liquidated or force or len(events) > len(marked.events) or _material(ctx, state, marked)
        if persist and events:
            uow.accounts.save(account_id, result_state, events, recorded_at=now)
        # A rule pack sees every mark (intraday trailing floors move on unstored marks too).
        status = rules.fold(ctx, uow, account, result_state)
        if status is not None and not liquidated:
            acts = status.required_action in (RequiredAction.LIQUIDATE, RequiredAction.COMPLETE) or (
                status.required_action in (RequiredAction.LOCK_DAY, RequiredAction.FLATTEN)
                and bool(result_state.positions)
            )
            if not persist and events and acts:
                # A mark the service acts on goes to the ledger with its prices.
                uow.accounts.save(account_id, result_state, events, recorded_at=now)
                persist = True
            after = rules.apply_required_action(ctx, uow, account, result_state, status)
            liquidated = after.status is AccountStatus.LIQUIDATED
            result_state = after
        return MarkResult(
            account_id,
            result_state.equity,
            marked=sorted(prices),
            unpriced=unpriced,
            persisted=persist and bool(events),
            liquidated=liquidated,
        )


def record_incident(ctx: ServiceContext, account_id: str, kind: str, message: str) -> None:
    """Append an incident to the account's ledger in a transaction of its own."""
    with account_tx(ctx.engine, account_id) as tx:
        uow, state = tx.uow, tx.state
        decision = handle(state, RecordIncident(at=ctx.clock(), kind=kind, message=message[:2000]))
        uow.accounts.save(account_id, decision.state, decision.events, recorded_at=ctx.clock())


def mark_all(ctx: ServiceContext, principal: Principal | None = None) -> SweepResult:
    """Mark every open account holding positions; one account's failure never stops the sweep.

    With a service token's ``principal`` only the accounts it may use are marked, and the sweep
    heartbeat (which tells operators the job runs) is left alone.
    """
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        account_ids = ownership.visible(uow, principal, uow.accounts.open_ids_with_positions())
    persisted = liquidated = 0
    failed: list[str] = []
    for account_id in account_ids:
        try:
            result = mark_account(ctx, account_id)
        except Exception as exc:
            failed.append(account_id)
            log.exception("mark-to-market failed for account %s", account_id)
            try:
                record_incident(ctx, account_id, "mark_to_market_failed", f"{type(exc).__name__}: {exc}")
            except Exception:
                log.exception("could not record the incident for account %s", account_id)
            continue
        persisted += result.persisted
        liquidated += result.liquidated
    sweep = SweepResult(len(account_ids), persisted, liquidated, failed)
    if not ownership.sees_all(principal):
        return sweep
    beat(
        ctx,
        {"accounts": sweep.accounts, "persisted": persisted, "liquidated": liquidated, "failed": len(failed)},
    )
    return sweep


def beat(ctx: ServiceContext, details: dict[str, Any]) -> None:
    with UnitOfWork(ctx.engine) as uow:
        uow.heartbeats.beat(HEARTBEAT, ctx.clock(), details)
        uow.commit()
