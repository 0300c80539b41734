"""Admin controls: status changes, voids, recompute. Every call writes an audit row.

The audit row names the actor (the admin token's name), the reason, and the account's figures
before and after, in the same transaction as the change, so there is never a change without its
audit row or an audit row for a change that rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from propdesk.accounting.events import FillApplied, FillVoided
from propdesk.accounting.kernel import ChangeStatus, Decision, VoidFill, handle, replay
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.services.accounts import rules
from propdesk.services.accounts.closeouts import liquidation
from propdesk.services.accounts.commands import FieldDrift, recompute_in
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Conflict, Invalid, NotFound
from propdesk.services.transactions import account_tx
from propdesk.store.uow import UnitOfWork

ADMIN_STATUS = {"pause": AccountStatus.PAUSED, "resume": AccountStatus.ACTIVE, "lock": AccountStatus.LOCKED}


def figures(state: AccountState) -> dict[str, Any]:
    """The account's money at a glance, for audit rows (decimals as strings)."""
    return {
        "status": state.status.value,
        "seq": state.seq,
        "cash": str(state.cash),
        "equity": str(state.equity),
        "realizedPnl": str(state.realized_pnl),
        "fees": str(state.fees),
        "positions": {s: str(p.qty) for s, p in sorted(state.positions.items())},
    }


def _require_reason(reason: str) -> str:
    if not reason.strip():
        raise Invalid("reason_required", "admin actions need a reason", {"field": "reason"})
    return reason


def _audited(
    ctx: ServiceContext,
    account_id: str,
    *,
    actor: str,
    action: str,
    reason: str,
    change: Any,
    rebuild_rules: bool = False,
) -> AccountState:
    """Lock, apply ``change(uow, state) -> Decision``, save, audit, commit; with ``rebuild_rules``
    the rule state is rebuilt from the ledger after the save (a void rewrites history)."""
    _require_reason(reason)
    with account_tx(ctx.engine, account_id) as tx:
        uow, before = tx.uow, tx.state
        decision: Decision = change(uow, before)
        now = ctx.clock()
        uow.accounts.save(
            account_id, decision.state, decision.events, correlation_id=f"admin:{action}", recorded_at=now
        )
        if rebuild_rules:
            rules.rebuild(ctx, uow, account_id)
        uow.audit.record(
            account_id=account_id,
            actor=actor,
            action=action,
            reason=reason,
            before=figures(before),
            after=figures(decision.state),
            at=now,
        )
    return decision.state


def set_status(ctx: ServiceContext, account_id: str, verb: str, *, actor: str, reason: str) -> AccountState:
    to = ADMIN_STATUS[verb]
    return _audited(
        ctx,
        account_id,
        actor=actor,
        action=verb,
        reason=reason,
        change=lambda uow, state: handle(state, ChangeStatus(at=ctx.clock(), to=to, reason=reason)),
    )


def liquidate(ctx: ServiceContext, account_id: str, *, actor: str, reason: str) -> AccountState:
    def change(uow: UnitOfWork, state: AccountState) -> Decision:
        if state.status.is_terminal or state.status is AccountStatus.PENDING:
            raise Conflict("invalid_transition", f"account cannot go from {state.status.value} to liquidated")
        return liquidation(ctx, uow, state, f"admin: {reason}")

    return _audited(ctx, account_id, actor=actor, action="liquidate", reason=reason, change=change)


def _void(uow: UnitOfWork, state: AccountState, fill_id: str, reason: str, ctx: ServiceContext) -> Decision:
    events = uow.accounts.load_events(state.account_id)
    voided = {e.fill_id for e in events if isinstance(e, FillVoided)}
    applied = [e.fill for e in events if isinstance(e, FillApplied)]
    target = next((f for f in applied if f.fill_id == fill_id), None)
    if target is None:
        raise NotFound("fill_not_found", f"account {state.account_id} has no fill {fill_id}")
    if fill_id in voided:
        raise Conflict("fill_already_voided", f"fill {fill_id} is already voided")
    history = [f for f in applied if f.symbol == target.symbol and f.fill_id not in voided]
    return handle(state, VoidFill(at=ctx.clock(), fill_id=fill_id, history=history, reason=reason))


def void_fill(ctx: ServiceContext, account_id: str, fill_id: str, *, actor: str, reason: str) -> AccountState:
    """Reverse a fill with a correcting ledger event; the fill row stays, marked voided."""
    return _audited(
        ctx,
        account_id,
        actor=actor,
        action="void_fill",
        reason=reason,
        change=lambda uow, state: _void(uow, state, fill_id, reason, ctx),
        rebuild_rules=True,
    )


def void_order(
    ctx: ServiceContext, account_id: str, order_id: str, *, actor: str, reason: str
) -> AccountState:
    """Void an order: each of its live fills is reversed and the order is marked voided."""

    def change(uow: UnitOfWork, state: AccountState) -> Decision:
        order = uow.orders.get(account_id, order_id)
        if order is None:
            raise NotFound("order_not_found", f"account {account_id} has no order {order_id}")
        if order.voided_at is not None:
            raise Conflict("order_already_voided", f"order {order_id} is already voided")
        current = state
        for record in uow.fills.for_order(account_id, order_id):
            if record.voided_at is None:
                # Each void is saved before the next so that it reads the ledger including it.
                decision = _void(uow, current, record.fill.fill_id, reason, ctx)
                current = decision.state
                uow.accounts.save(account_id, current, decision.events, correlation_id="admin:void_order")
        uow.orders.void(order_id, ctx.clock())
        return Decision(current, [])

    return _audited(
        ctx, account_id, actor=actor, action="void_order", reason=reason, change=change, rebuild_rules=True
    )


@dataclass(frozen=True)
class RecomputeReport:
    drift: dict[str, FieldDrift]
    applied: bool


def recompute_account(
    ctx: ServiceContext, account_id: str, *, actor: str, reason: str, apply: bool
) -> RecomputeReport:
    """Fold the ledger from zero and report drift; with ``apply`` rewrite the projections from it."""
    with account_tx(ctx.engine, account_id) as tx:
        uow = tx.uow
        drift = recompute_in(uow, account_id)
        if not apply or not drift:
            uow.audit.record(
                account_id=account_id,
                actor=actor,
                action="recompute",
                reason=reason or "check",
                before=None,
                after={"drift": sorted(drift)},
                at=ctx.clock(),
            )
            return RecomputeReport(drift, applied=False)
        _require_reason(reason)
        before = tx.state
        rebuilt = replay(account_id, uow.accounts.load_events(account_id))
        uow.accounts.overwrite_projections(account_id, rebuilt)
        rules.rebuild(ctx, uow, account_id)
        uow.audit.record(
            account_id=account_id,
            actor=actor,
            action="recompute_apply",
            reason=reason,
            before=figures(before),
            after={**figures(rebuilt), "drift": sorted(drift)},
            at=ctx.clock(),
        )
    return RecomputeReport(drift, applied=True)
