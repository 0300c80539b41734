"""``POST /v2/account/reset``: start the caller's paper account over, keeping its keys and history.

Alpaca resets paper accounts only from its dashboard (and a reset there rotates the keys, which
breaks running bots); propdesk offers the reset on the API, with the same key pair working
afterwards. The optional body ``{"starting_cash": "..."}`` resets "with an arbitrary amount", as
Alpaca's dashboard does; it becomes the account's starting balance. What a reset does is
:func:`propdesk.services.alpaca.paper_accounts.reset_account`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends

from propdesk.api.alpaca.auth import authenticated
from propdesk.api.alpaca.errors import CONFLICT, ERROR_RESPONSES, AlpacaError, AlpacaErrorOut
from propdesk.api.alpaca.requests import AlpacaBody, Positive
from propdesk.api.alpaca.wire import dec, ts
from propdesk.api.auth import context
from propdesk.api.routing import api_router
from propdesk.services.access.api_keys import KeyPrincipal
from propdesk.services.alpaca import paper_accounts
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Conflict

router = api_router(prefix="/v2", tags=["alpaca"], responses=ERROR_RESPONSES)
Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[KeyPrincipal, Depends(authenticated)]

REASON = "reset through POST /v2/account/reset"


class AlpacaResetIn(AlpacaBody):
    """``starting_cash``: a positive decimal (at most ``PROPDESK_MAX_STARTING_CASH``), as a JSON
    number or a string."""

    starting_cash: Positive | None = None


@router.post("/account/reset", responses={409: {"model": AlpacaErrorOut}})
def reset(ctx: Ctx, caller: Caller, body: Annotated[AlpacaResetIn | None, Body()] = None) -> dict[str, Any]:
    """Cancel every open order, archive every open position (no quote needed) and start over at
    the starting balance (or ``starting_cash``, at most ``PROPDESK_MAX_STARTING_CASH``, else 422).
    409 while an operator has the account paused, locked, liquidated or completed (only an admin
    resets it then); 403 for a prop evaluation, which only an operator may reset."""
    try:
        done = paper_accounts.reset_account(
            ctx,
            caller.account_id,
            actor=caller.key_id,
            reason=REASON,
            starting_cash=None if body is None else body.starting_cash,
            by_owner=True,
        )
    except Conflict as exc:
        # Alpaca has no 409 (its errors turn one into a 422); a reset refused for the operator's
        # state is our own route's conflict and keeps its status.
        raise AlpacaError(409, CONFLICT, exc.message, {"reason": exc.code}) from None
    return {
        "id": done.state.account_id,
        "status": "ACTIVE",  # a reset always leaves the account active
        "cash": dec(done.state.cash),
        "equity": dec(done.state.equity),
        "starting_cash": dec(done.starting_cash),
        "reset_at": ts(done.reset_at),
    }
