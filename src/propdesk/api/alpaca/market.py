"""/v2 clock and calendar (Alpaca-compatible), from the NYSE calendar."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from propdesk.api.alpaca.auth import authenticated
from propdesk.api.auth import context
from propdesk.services import market_hours
from propdesk.services.api_keys import KeyPrincipal
from propdesk.services.context import ServiceContext

router = APIRouter(prefix="/v2", tags=["alpaca"])
Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[KeyPrincipal, Depends(authenticated)]


@router.get("/clock")
def clock(ctx: Ctx, _: Caller) -> dict[str, Any]:
    """Now, whether the NYSE is open, and its next open and close (in New York time, as Alpaca)."""
    now = market_hours.market_clock(ctx)
    zone = market_hours.nyse().zone
    return {
        "timestamp": now.timestamp.astimezone(zone).isoformat(),
        "is_open": now.is_open,
        "next_open": now.next_open.astimezone(zone).isoformat(),
        "next_close": now.next_close.astimezone(zone).isoformat(),
    }
