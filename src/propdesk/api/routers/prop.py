"""``/api/v1/prop/*``: the service API (service or admin token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from propdesk.accounting.state import AccountStatus
from propdesk.api import presenters as present
from propdesk.api import schemas as s
from propdesk.api.auth import context, service_or_admin
from propdesk.api.routing import api_router
from propdesk.services.access.tokens import Principal
from propdesk.services.accounts import lifecycle, rules
from propdesk.services.context import ServiceContext
from propdesk.services.prop import decisions, marking, views
from propdesk.services.prop.decisions import ActionRequest
from propdesk.store.pages import Page

router = api_router(prefix="/api/v1/prop", tags=["prop"])
Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[Principal, Depends(service_or_admin)]
Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip")]


def _account_out(ctx: ServiceContext, account_id: str) -> s.AccountOut:
    snap = views.snapshot(ctx, account_id)
    return present.account(snap.account, snap.state)


@router.post("/accounts", response_model=s.AccountOut, status_code=201)
def create_account(body: s.CreateAccountIn, ctx: Ctx, caller: Caller) -> s.AccountOut:
    """Create a pending account owned by the calling token; the same ``idempotencyKey`` and body
    returns the same account (a key that opened an account the token may not use is a 409 that
    names no account)."""
    row = lifecycle.create_account(
        ctx,
        lifecycle.NewAccount(
            preset=body.preset,
            overrides=body.policy,
            owner_user_id=body.owner_user_id,
            clone_id=body.clone_id,
            parent_account_id=body.parent_account_id,
            mode=body.mode,
            idempotency_key=body.idempotency_key,
            rule_pack=body.rule_pack,
        ),
        principal=caller,
    )
    return _account_out(ctx, row.id)


@router.get("/accounts/{account_id}", response_model=s.AccountOut)
def get_account(account_id: str, ctx: Ctx, _: Caller) -> s.AccountOut:
    return _account_out(ctx, account_id)


@router.get("/clones/{clone_id}/accounts", response_model=s.AccountListOut)
def clone_accounts(clone_id: str, ctx: Ctx, caller: Caller) -> s.AccountListOut:
    """The clone's accounts that the token may use."""
    rows = views.clone_accounts(ctx, clone_id, caller)
    return s.AccountListOut(items=[_account_out(ctx, row.id) for row in rows])


@router.post("/accounts/{account_id}/start", response_model=s.AccountOut)
def start(account_id: str, ctx: Ctx, _: Caller) -> s.AccountOut:
    """Fund the account with its starting balance; idempotent on an active account."""
    lifecycle.start(ctx, account_id)
    return _account_out(ctx, account_id)


@router.post("/accounts/{account_id}/complete", response_model=s.AccountOut)
def complete(account_id: str, body: s.ReasonIn, ctx: Ctx, _: Caller) -> s.AccountOut:
    lifecycle.change_status(ctx, account_id, AccountStatus.COMPLETED, body.reason or "completed")
    return _account_out(ctx, account_id)


@router.post("/accounts/{account_id}/liquidate", response_model=s.AccountOut)
def liquidate(account_id: str, body: s.ReasonIn, ctx: Ctx, _: Caller) -> s.AccountOut:
    """Close every position at the latest fresh quotes and end the account."""
    lifecycle.liquidate(ctx, account_id, body.reason or "liquidated by request")
    return _account_out(ctx, account_id)


@router.get("/accounts/{account_id}/snapshot", response_model=s.SnapshotOut)
def snapshot(account_id: str, ctx: Ctx, _: Caller) -> s.SnapshotOut:
    return present.snapshot(views.snapshot(ctx, account_id))


@router.get("/accounts/{account_id}/decision-context", response_model=s.DecisionContextOut)
def decision_context(
    account_id: str,
    ctx: Ctx,
    _: Caller,
    symbols: Annotated[str, Query(max_length=2000, description="comma-separated symbols to quote")] = "",
) -> s.DecisionContextOut:
    wanted = [x.strip() for x in symbols.split(",") if x.strip()]
    return present.decision_context(views.decision_context(ctx, account_id, wanted))


@router.get("/accounts/{account_id}/rules", response_model=dict[str, Any])
def rule_status(account_id: str, ctx: Ctx, _: Caller) -> dict[str, Any]:
    """The rule pack's status now: floors and cushions, effective capital, breach level, checks,
    consistency figures, scaling and progress (404 ``no_rule_pack`` for an account without one)."""
    return present.result_json(rules.status(ctx, account_id))


@router.get("/accounts/{account_id}/ledger", response_model=s.LedgerPageOut)
def ledger(account_id: str, ctx: Ctx, _: Caller, limit: Limit = 100, offset: Offset = 0) -> s.LedgerPageOut:
    page = Page(limit, offset)
    rows = views.ledger(ctx, account_id, page)
    return s.LedgerPageOut(items=[present.ledger_event(r) for r in rows], page=present.page(page, len(rows)))


@router.get("/accounts/{account_id}/orders", response_model=s.OrderPageOut)
def orders(account_id: str, ctx: Ctx, _: Caller, limit: Limit = 100, offset: Offset = 0) -> s.OrderPageOut:
    page = Page(limit, offset)
    rows = views.orders(ctx, account_id, page)
    return s.OrderPageOut(items=[present.order(o) for o in rows], page=present.page(page, len(rows)))


@router.get("/accounts/{account_id}/fills", response_model=s.FillPageOut)
def fills(account_id: str, ctx: Ctx, _: Caller, limit: Limit = 100, offset: Offset = 0) -> s.FillPageOut:
    page = Page(limit, offset)
    rows = views.fills(ctx, account_id, page)
    return s.FillPageOut(items=[present.fill(f) for f in rows], page=present.page(page, len(rows)))


@router.get("/accounts/{account_id}/positions", response_model=s.PositionListOut)
def positions(account_id: str, ctx: Ctx, _: Caller) -> s.PositionListOut:
    state = views.snapshot(ctx, account_id).state
    return s.PositionListOut(items=[present.position(p) for _, p in sorted(state.positions.items())])


@router.post("/accounts/{account_id}/decision-actions", response_model=s.DecisionBatchOut)
def submit_decisions(account_id: str, body: s.DecisionBatchIn, ctx: Ctx, _: Caller) -> s.DecisionBatchOut:
    """Submit a batch of AI-proposed actions (idempotent per account, run and action id)."""
    requests = [
        ActionRequest(
            decision_action_id=a.decision_action_id,
            action=a.action,
            symbol=a.symbol,
            qty=a.qty,
            notional=a.notional,
            side=a.side,
            asset_class=a.asset_class,
            note=a.note,
        )
        for a in body.actions
    ]
    results = decisions.submit_batch(ctx, account_id, body.decision_run_id, requests)
    return s.DecisionBatchOut(
        account_id=account_id,
        decision_run_id=body.decision_run_id,
        actions=[present.action_result(r) for r in results],
    )


@router.get("/decision-actions/{action_id}", response_model=s.DecisionActionOut)
def get_decision_action(action_id: str, ctx: Ctx, caller: Caller) -> s.DecisionActionOut:
    return present.decision_action(decisions.get_action(ctx, action_id, caller))


@router.post("/accounts/{account_id}/mark-to-market", response_model=s.MarkOut)
def mark_to_market(account_id: str, ctx: Ctx, _: Caller) -> s.MarkOut:
    """Reprice now (the mark row is always written) and auto-liquidate on a breach."""
    result = marking.mark_account(ctx, account_id, force=True)
    return s.MarkOut(
        account_id=result.account_id,
        equity=result.equity,
        marked=result.marked,
        unpriced=result.unpriced,
        persisted=result.persisted,
        liquidated=result.liquidated,
    )


@router.post("/mark-to-market-all", response_model=s.SweepOut)
def mark_to_market_all(ctx: Ctx, caller: Caller) -> s.SweepOut:
    """Mark every open account with positions that the token may use (all of them for an admin)."""
    sweep = marking.mark_all(ctx, caller)
    return s.SweepOut(
        accounts=sweep.accounts, persisted=sweep.persisted, liquidated=sweep.liquidated, failed=sweep.failed
    )
