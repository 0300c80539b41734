"""``/api/v1/admin/prices``: operators write quotes by hand (audited), e.g. to correct a bad feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from propdesk.api import schemas as s
from propdesk.api.auth import admin_only, context
from propdesk.api.routing import api_router
from propdesk.model.market import Quote
from propdesk.services.access.tokens import Principal
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Conflict, Invalid
from propdesk.services.market.prices import QuoteConflict, write_manual_quote

router = api_router(prefix="/api/v1/admin/prices", tags=["admin"])


@router.post("/quotes", response_model=s.ManualQuoteOut)
def manual_quote(
    body: s.ManualQuoteIn,
    ctx: Annotated[ServiceContext, Depends(context)],
    who: Annotated[Principal, Depends(admin_only)],
) -> s.ManualQuoteOut:
    """Store a quote in the price store; the same quote again changes nothing."""
    when = body.time or ctx.clock()
    if when.tzinfo is None:
        raise Invalid(
            "invalid_request", "time: must carry a time zone (e.g. 2026-01-05T15:00:00Z)", {"field": "time"}
        )
    try:
        quote = Quote(symbol=body.symbol.upper(), time=when, bid=body.bid, ask=body.ask, last=body.last)
    except ValueError as exc:
        raise Invalid("invalid_quote", str(exc), {"field": "bid"}) from exc
    try:
        result = write_manual_quote(ctx.engine, quote, actor=who.name, reason=body.reason, clock=ctx.clock)
    except QuoteConflict as exc:
        raise Conflict("quote_conflict", str(exc)) from exc
    q = result.quote
    return s.ManualQuoteOut(
        symbol=q.symbol, time=q.time, bid=q.bid, ask=q.ask, last=q.last, written=result.written
    )
