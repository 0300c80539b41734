"""/v2 portfolio history and account activities (Alpaca-compatible), read from the ledger.

The routes pass Alpaca's query strings to :mod:`propdesk.services.alpaca.history`, which validates
them (a bad value is a 422 ``40010001``), and present the result in Alpaca's shapes. Portfolio
history is the one place where money leaves as JSON numbers (alpaca-py types those arrays
``float``): the exact decimals become floats only here, at the edge.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Query

from propdesk.api.alpaca.auth import authenticated
from propdesk.api.alpaca.errors import ERROR_RESPONSES
from propdesk.api.alpaca.wire import dec, parse_bool, ts
from propdesk.api.auth import context
from propdesk.api.routing import api_router
from propdesk.services.access.api_keys import KeyPrincipal
from propdesk.services.alpaca import activities as activity_log
from propdesk.services.alpaca import history
from propdesk.services.alpaca.history_plan import HistoryQuery
from propdesk.services.alpaca.market_hours import nyse
from propdesk.services.context import ServiceContext

router = api_router(prefix="/v2", tags=["alpaca"], responses=ERROR_RESPONSES)
Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[KeyPrincipal, Depends(authenticated)]
Text = Annotated[str | None, Query()]


def _number(value: Decimal) -> float:
    return float(value)


@router.get("/account/portfolio/history")
def portfolio_history(
    ctx: Ctx,
    caller: Caller,
    period: Text = None,
    timeframe: Text = None,
    start: Text = None,
    end: Text = None,
    date_end: Text = None,
    intraday_reporting: Text = None,
    pnl_reset: Text = None,
    extended_hours: Text = None,
    cashflow_types: Text = None,
) -> dict[str, Any]:
    """The account's equity and P/L over time, sampled from its ledger."""
    query = HistoryQuery(
        period=period,
        timeframe=timeframe,
        start=start,
        end=end,
        date_end=date_end,
        intraday_reporting=intraday_reporting,
        pnl_reset=pnl_reset,
        extended_hours=None if extended_hours is None else parse_bool("extended_hours", extended_hours),
        cashflow_types=cashflow_types,
    )
    result = history.portfolio_history(ctx, caller.account_id, query)
    body: dict[str, Any] = {
        "timestamp": [int(moment.timestamp()) for moment in result.timestamps],
        "equity": [_number(value) for value in result.equity],
        "profit_loss": [_number(value) for value in result.profit_loss],
        "profit_loss_pct": [None if value is None else _number(value) for value in result.profit_loss_pct],
        "base_value": _number(result.base_value),
        "timeframe": result.timeframe.value,
        "cashflow": {kind: [_number(v) for v in values] for kind, values in sorted(result.cashflow.items())},
    }
    if result.base_value_asof is not None:
        body["base_value_asof"] = result.base_value_asof.isoformat()
    return body


def _activity(account_id: str, item: activity_log.Activity) -> dict[str, Any]:
    if isinstance(item, activity_log.TradeActivity):
        fill = item.fill
        return {
            "id": item.id,
            "account_id": account_id,
            "activity_type": item.activity_type,
            "transaction_time": ts(item.at),
            "type": "partial_fill" if item.partial else "fill",
            "price": dec(fill.price),
            "qty": dec(fill.qty),
            "side": fill.side.value,
            "symbol": fill.symbol,
            "leaves_qty": dec(item.leaves_qty),
            "cum_qty": dec(item.cum_qty),
            "order_id": item.order_id,
            "order_status": item.order_status.value,
        }
    body: dict[str, Any] = {
        "id": item.id,
        "account_id": account_id,
        "activity_type": item.activity_type,
        "date": item.at.astimezone(nyse().zone).date().isoformat(),
        "net_amount": dec(item.net_amount),
        "status": "executed",
        "description": item.description,
    }
    if item.symbol is not None:
        body["symbol"] = item.symbol
    if item.qty is not None:
        body["qty"] = dec(item.qty)
    if item.per_share_amount is not None:
        body["per_share_amount"] = dec(item.per_share_amount)
    return body


def _activities(
    ctx: ServiceContext, caller: KeyPrincipal, activity_type: str | None, **params: str | None
) -> list[dict[str, Any]]:
    query = activity_log.activity_query(activity_type=activity_type, **params)
    items = activity_log.account_activities(ctx, caller.account_id, query)
    return [_activity(caller.account_id, item) for item in items]


@router.get("/account/activities")
def activities(
    ctx: Ctx,
    caller: Caller,
    activity_types: Text = None,
    category: Text = None,
    date: Text = None,
    after: Text = None,
    until: Text = None,
    direction: Text = None,
    page_size: Text = None,
    page_token: Text = None,
) -> list[dict[str, Any]]:
    """Fills, fees, deposits and cash journals, newest first; page with ``page_token`` = the
    last id of the previous page."""
    return _activities(
        ctx,
        caller,
        None,
        activity_types=activity_types,
        category=category,
        day=date,
        after=after,
        until=until,
        direction=direction,
        page_size=page_size,
        page_token=page_token,
    )


@router.get("/account/activities/{activity_type}")
def activities_of_type(
    ctx: Ctx,
    caller: Caller,
    activity_type: str,
    date: Text = None,
    after: Text = None,
    until: Text = None,
    direction: Text = None,
    page_size: Text = None,
    page_token: Text = None,
) -> list[dict[str, Any]]:
    """The activities of one type (``FILL``, ``FEE``, ``CSD``, ``JNLC``, ...)."""
    return _activities(
        ctx,
        caller,
        activity_type,
        day=date,
        after=after,
        until=until,
        direction=direction,
        page_size=page_size,
        page_token=page_token,
    )
