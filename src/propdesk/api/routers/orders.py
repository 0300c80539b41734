"""``/api/v1/prop/accounts/{account_id}/orders…``: the order engine over HTTP (service or admin token).

Submit, read, replace and cancel orders, and run or inspect the resting-order evaluator. An
order is only reachable through its own account: another account's id answers 404
``order_not_found``. The paged list ``GET …/orders`` lives in :mod:`.prop`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from propdesk.api import order_schemas as o
from propdesk.api import presenters as present
from propdesk.api import schemas as s
from propdesk.api.auth import context, service_or_admin
from propdesk.api.routing import api_router
from propdesk.execution.order_book.requests import OrderRequest, ReplaceRequest, StopLoss, TakeProfit
from propdesk.model.ids import AccountId, OrderId
from propdesk.model.orders import Order, OrderClass
from propdesk.services.access.tokens import Principal
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Invalid
from propdesk.services.orders import commands as orders
from propdesk.services.orders import evaluation as order_evaluation

router = api_router(prefix="/api/v1/prop", tags=["orders"])
Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[Principal, Depends(service_or_admin)]
ORDERS = "/accounts/{account_id}/orders"


def _request(ctx: ServiceContext, body: o.OrderIn) -> OrderRequest:
    take_profit = None if body.take_profit is None else TakeProfit(limit_price=body.take_profit.limit_price)
    stop_loss = (
        None
        if body.stop_loss is None
        else StopLoss(stop_price=body.stop_loss.stop_price, limit_price=body.stop_loss.limit_price)
    )
    return OrderRequest(
        client_order_id=body.client_order_id or ctx.ids(),
        symbol=body.symbol,
        side=body.side,
        type=body.type,
        time_in_force=body.time_in_force,
        qty=body.qty,
        notional=body.notional,
        limit_price=body.limit_price,
        stop_price=body.stop_price,
        trail_price=body.trail_price,
        trail_percent=body.trail_percent,
        order_class=OrderClass(body.order_class),
        take_profit=take_profit,
        stop_loss=stop_loss,
        asset_class=body.asset_class,
        extended_hours=body.extended_hours,
    )


def _with_legs(ctx: ServiceContext, account_id: AccountId, order: Order) -> s.OrderOut:
    """``order`` with its legs as stored now (a cancel or replace may have moved them)."""
    stored, legs = orders.get_order(ctx, account_id, OrderId(order.id))
    return present.order(stored, legs)


@router.post(
    ORDERS,
    response_model=s.OrderOut,
    status_code=201,
    responses={200: {"model": s.OrderOut, "description": "a resend of a stored order (same clientOrderId)"}},
)
def submit(account_id: AccountId, body: o.OrderIn, response: Response, ctx: Ctx, _: Caller) -> s.OrderOut:
    """Place an order (201); the same ``clientOrderId`` and order again returns the stored order
    (200), the same id with a different order is a 422 ``duplicate_client_order_id``."""
    result = orders.submit_order(ctx, account_id, _request(ctx, body))
    if result.replayed:
        response.status_code = 200
    return present.order(result.order, result.legs)


# Static paths before ``/orders/{order_id}``, so that they are not read as order ids.
@router.post(f"{ORDERS}/evaluate", response_model=o.EvaluationOut)
def evaluate(account_id: AccountId, ctx: Ctx, _: Caller) -> o.EvaluationOut:
    """Run the resting-order evaluator for this account up to now (what the job does each sweep)."""
    return present.evaluation(order_evaluation.evaluate_account(ctx, account_id))


@router.get(f"{ORDERS}/evaluation", response_model=o.EvaluationCursorOut)
def evaluation(account_id: AccountId, ctx: Ctx, _: Caller) -> o.EvaluationCursorOut:
    """How far the evaluator got; ``delayed`` when its last run caught up on more market events
    than ``PROPDESK_ORDERS_CATCH_UP_NOTICE`` (some fills may have been delayed)."""
    cursor = order_evaluation.cursor_of(ctx, account_id)
    return present.evaluation_cursor(cursor, catch_up_notice=ctx.settings.orders_catch_up_notice)


@router.get("/accounts/{account_id}/orders:by-client-id", response_model=s.OrderOut)
def by_client_id(
    account_id: AccountId,
    ctx: Ctx,
    _: Caller,
    client_order_id: Annotated[
        str, Query(alias="clientOrderId", min_length=1, max_length=128, description="the client's order id")
    ],
) -> s.OrderOut:
    order, legs = orders.get_by_client_id(ctx, account_id, client_order_id)
    return present.order(order, legs)


@router.delete(ORDERS, response_model=o.OrderListOut)
def cancel_all(account_id: AccountId, ctx: Ctx, _: Caller) -> o.OrderListOut:
    """Cancel every open order (exit legs first, then their entries); returns what was canceled."""
    return present.order_list(orders.cancel_all(ctx, account_id))


@router.get(f"{ORDERS}/{{order_id}}", response_model=s.OrderOut)
def get_order(account_id: AccountId, order_id: OrderId, ctx: Ctx, _: Caller) -> s.OrderOut:
    order, legs = orders.get_order(ctx, account_id, order_id)
    return present.order(order, legs)


@router.patch(f"{ORDERS}/{{order_id}}", response_model=s.OrderOut)
def replace(account_id: AccountId, order_id: OrderId, body: o.ReplaceIn, ctx: Ctx, _: Caller) -> s.OrderOut:
    """Replace an open order: the new order (``replaces`` = the old id) is returned; the old one
    goes ``replaced``. Absent fields keep the old order's values."""
    changes = (body.qty, body.time_in_force, body.limit_price, body.stop_price, body.trail)
    if all(value is None for value in changes):
        raise Invalid(
            "invalid_replace",
            "give at least one of qty, timeInForce, limitPrice, stopPrice, trail",
        )
    change = ReplaceRequest(
        qty=body.qty,
        time_in_force=body.time_in_force,
        limit_price=body.limit_price,
        stop_price=body.stop_price,
        trail=body.trail,
        client_order_id=body.client_order_id,
    )
    return _with_legs(ctx, account_id, orders.replace_order(ctx, account_id, order_id, change))


@router.delete(f"{ORDERS}/{{order_id}}", response_model=s.OrderOut)
def cancel(account_id: AccountId, order_id: OrderId, ctx: Ctx, _: Caller) -> s.OrderOut:
    """Cancel an open order (and the exits held for it); 422 ``order_not_open`` if it has ended."""
    return _with_legs(ctx, account_id, orders.cancel_order(ctx, account_id, order_id))
