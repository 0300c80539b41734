"""``/api/v1/admin/prop/*``: operational controls (admin token); each call writes an audit row."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from propdesk.api import order_schemas as o
from propdesk.api import presenters as present
from propdesk.api import schemas as s
from propdesk.api.auth import admin_only, context
from propdesk.api.routers.prop import Limit, Offset, _account_out
from propdesk.api.routing import api_router
from propdesk.services.access.tokens import Principal
from propdesk.services.accounts import admin, lifecycle
from propdesk.services.alpaca import paper_accounts
from propdesk.services.context import ServiceContext
from propdesk.services.prop import decisions, views
from propdesk.store.pages import Page

router = api_router(prefix="/api/v1/admin/prop", tags=["admin"])
Ctx = Annotated[ServiceContext, Depends(context)]
Admin = Annotated[Principal, Depends(admin_only)]


@router.post("/accounts/{account_id}/pause", response_model=s.AccountOut)
def pause(account_id: str, body: s.AdminReasonIn, ctx: Ctx, who: Admin) -> s.AccountOut:
    """Stop intake; positions stay and are still marked."""
    admin.set_status(ctx, account_id, "pause", actor=who.name, reason=body.reason)
    return _account_out(ctx, account_id)


@router.post("/accounts/{account_id}/resume", response_model=s.AccountOut)
def resume(account_id: str, body: s.AdminReasonIn, ctx: Ctx, who: Admin) -> s.AccountOut:
    admin.set_status(ctx, account_id, "resume", actor=who.name, reason=body.reason)
    return _account_out(ctx, account_id)


@router.post("/accounts/{account_id}/lock", response_model=s.AccountOut)
def lock(account_id: str, body: s.AdminReasonIn, ctx: Ctx, who: Admin) -> s.AccountOut:
    """Lock the account for review (resume or liquidate it afterwards)."""
    admin.set_status(ctx, account_id, "lock", actor=who.name, reason=body.reason)
    return _account_out(ctx, account_id)


@router.post("/accounts/{account_id}/liquidate", response_model=s.AccountOut)
def liquidate(account_id: str, body: s.AdminReasonIn, ctx: Ctx, who: Admin) -> s.AccountOut:
    admin.liquidate(ctx, account_id, actor=who.name, reason=body.reason)
    return _account_out(ctx, account_id)


class AdminResetIn(s.AdminReasonIn):
    starting_cash: o.PositiveExact | None = None


@router.post("/accounts/{account_id}/reset", response_model=s.AccountOut)
def reset(account_id: str, body: AdminResetIn, ctx: Ctx, who: Admin) -> s.AccountOut:
    """Start the account over: open orders canceled, positions closed at the latest quotes, cash and
    equity back to the starting balance (``startingCash`` sets a new one), active again from any
    started status; key pairs, orders, fills and the ledger stay. A prop evaluation's rule state
    and outcome start afresh. Without a fresh quote for a held symbol nothing changes (422)."""
    if body.starting_cash is not None:
        lifecycle.check_starting_balance(ctx, body.starting_cash, "startingCash")
    paper_accounts.reset_account(
        ctx, account_id, actor=who.name, reason=body.reason, starting_cash=body.starting_cash
    )
    return _account_out(ctx, account_id)


@router.post("/accounts/{account_id}/void-fill/{fill_id}", response_model=s.AccountOut)
def void_fill(account_id: str, fill_id: str, body: s.AdminReasonIn, ctx: Ctx, who: Admin) -> s.AccountOut:
    admin.void_fill(ctx, account_id, fill_id, actor=who.name, reason=body.reason)
    return _account_out(ctx, account_id)


@router.post("/accounts/{account_id}/void-order/{order_id}", response_model=s.AccountOut)
def void_order(account_id: str, order_id: str, body: s.AdminReasonIn, ctx: Ctx, who: Admin) -> s.AccountOut:
    admin.void_order(ctx, account_id, order_id, actor=who.name, reason=body.reason)
    return _account_out(ctx, account_id)


@router.post("/accounts/{account_id}/recompute", response_model=s.RecomputeOut)
def recompute(account_id: str, body: s.RecomputeIn, ctx: Ctx, who: Admin) -> s.RecomputeOut:
    """Fold the ledger from zero and report drift field by field; ``apply`` corrects the projections."""
    report = admin.recompute_account(ctx, account_id, actor=who.name, reason=body.reason, apply=body.apply)
    drift = [
        s.DriftOut(field=name, stored=_plain(d.stored), recomputed=_plain(d.recomputed))
        for name, d in sorted(report.drift.items())
    ]
    return s.RecomputeOut(account_id=account_id, drift=drift, applied=report.applied)


def _plain(value: object) -> object:
    return value if isinstance(value, int | bool | type(None)) else str(value)


@router.get("/accounts/{account_id}/audit-log", response_model=s.AuditPageOut)
def audit_log(account_id: str, ctx: Ctx, _: Admin, limit: Limit = 100, offset: Offset = 0) -> s.AuditPageOut:
    page = Page(limit, offset)
    rows = views.audit_log(ctx, account_id, page)
    return s.AuditPageOut(items=[present.audit(a) for a in rows], page=present.page(page, len(rows)))


@router.post("/decision-actions/{action_id}/review", response_model=s.DecisionActionOut)
def review(action_id: str, body: s.ReviewIn, ctx: Ctx, who: Admin) -> s.DecisionActionOut:
    """Approve (execute now at the latest price) or reject an action held for manual approval."""
    record = decisions.review(ctx, action_id, approve=body.approve, actor=who.name, reason=body.reason)
    return present.decision_action(record)
