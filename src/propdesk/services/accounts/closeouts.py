"""Closing every position of an account at fresh quotes, inside the caller's locked transaction:
``liquidation`` (and end the account) and ``flatten`` (keep it open).

Used by the lifecycle's and the admin's liquidate, by auto-liquidation in marking and by the
rule packs' hard and soft breaches; its own module so that none of them imports another.
"""

from __future__ import annotations

from propdesk.accounting.events import Event
from propdesk.accounting.kernel import ApplyFill, CommandRejected, Decision, Liquidate, handle
from propdesk.accounting.state import AccountState
from propdesk.execution.pipeline import liquidation_fills
from propdesk.model.fills import Fill
from propdesk.model.instruments import Instrument, parse_instrument
from propdesk.services.accounts.commands import policy_of
from propdesk.services.context import ServiceContext
from propdesk.services.market.quotes import latest_quotes
from propdesk.store.uow import UnitOfWork


def instruments_for(state: AccountState) -> dict[str, Instrument]:
    """Instruments of the positions held, rebuilt from the specs stored with them."""
    return {
        symbol: parse_instrument(symbol, position.instrument.asset_class)
        for symbol, position in state.positions.items()
    }


def _closing_fills(ctx: ServiceContext, uow: UnitOfWork, state: AccountState, verb: str) -> list[Fill]:
    """Fills that close every position at fresh quotes by the account's fill model.

    A missing or stale quote for any held symbol refuses the whole close: the engine never
    closes at a guessed price.
    """
    policy = policy_of(uow.accounts.get(state.account_id))
    quotes = latest_quotes(
        uow, state.positions, now=ctx.clock(), max_age_seconds=policy.max_quote_age_seconds
    )
    if quotes.unusable:
        raise CommandRejected(
            "price_missing", f"no fresh quote to {verb} {', '.join(quotes.unusable)}; nothing was closed"
        )
    return liquidation_fills(
        state,
        policy=policy,
        instruments=instruments_for(state),
        quotes=quotes.fresh,
        now=ctx.clock(),
        new_id=ctx.ids,
    )


def liquidation(ctx: ServiceContext, uow: UnitOfWork, state: AccountState, reason: str) -> Decision:
    """Close every position and end the account as liquidated (inside ``uow``'s lock)."""
    fills = _closing_fills(ctx, uow, state, "liquidate")
    return handle(state, Liquidate(at=ctx.clock(), fills=fills, reason=reason))


def flatten(ctx: ServiceContext, uow: UnitOfWork, state: AccountState) -> Decision:
    """Close every position and keep the account open (inside ``uow``'s lock)."""
    events: list[Event] = []
    for fill in _closing_fills(ctx, uow, state, "flatten"):
        step = handle(state, ApplyFill(at=ctx.clock(), fill=fill))
        state = step.state
        events += step.events
    return Decision(state, events)
