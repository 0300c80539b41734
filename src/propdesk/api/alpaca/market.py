"""/v2 clock and calendar (Alpaca-compatible), from the NYSE calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends

from propdesk.api.alpaca.auth import authenticated
from propdesk.api.alpaca.errors import ERROR_RESPONSES, INVALID_PARAMETER, AlpacaError
from propdesk.api.auth import context
from propdesk.api.routing import api_router
from propdesk.services.access.api_keys import KeyPrincipal
from propdesk.services.alpaca import market_hours
from propdesk.services.context import ServiceContext

router = api_router(prefix="/v2", tags=["alpaca"], responses=ERROR_RESPONSES)
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


def _day(name: str, value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` date, or the date written in an RFC 3339 timestamp (Alpaca takes both)."""
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise AlpacaError(
            422, INVALID_PARAMETER, f"{name} must be a date (YYYY-MM-DD), not {value!r}"
        ) from None


def _date_type(value: str | None) -> market_hours.DateType:
    if value is None or value == "":
        return market_hours.DateType.TRADING
    try:
        return market_hours.DateType(value.strip().upper())
    except ValueError:
        raise AlpacaError(
            422, INVALID_PARAMETER, f"date_type must be TRADING or SETTLEMENT, not {value!r}"
        ) from None


def _hhmm(moment: datetime, separator: str) -> str:
    return moment.strftime(f"%H{separator}%M")


@router.get("/calendar")
def calendar(
    ctx: Ctx,
    _: Caller,
    start: str | None = None,
    end: str | None = None,
    date_type: str | None = None,
) -> list[dict[str, Any]]:
    """NYSE market days with their hours in New York time (``open``/``close`` exactly ``HH:MM``:
    alpaca-py parses them with strptime). Without ``start``/``end``, last year to next year."""
    today = ctx.clock().astimezone(market_hours.nyse().zone).date()
    days = market_hours.calendar(
        _day("start", start), _day("end", end), today=today, date_type=_date_type(date_type)
    )
    return [
        {
            "date": day.day.isoformat(),
            "open": _hhmm(day.open, ":"),
            "close": _hhmm(day.close, ":"),
            "session_open": _hhmm(day.session_open, ""),
            "session_close": _hhmm(day.session_close, ""),
            "settlement_date": day.settlement_date.isoformat(),
        }
        for day in days
    ]
