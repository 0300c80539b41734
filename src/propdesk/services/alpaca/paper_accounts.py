"""Paper accounts as Alpaca users know them: made and funded in one step, several per user, and a
reset that starts an account over while its key pairs and its history stay.

A reset is one transaction under the account lock: the open orders are canceled through the order
book (reservations released, ``canceled`` trade updates recorded, exactly like a client's cancel),
every open position is archived (it leaves the account with the reset, recorded with its last mark
in the ledger's ``account_reset`` event; no fill, so no quote is needed), and the kernel's
:class:`~propdesk.accounting.kernel.ResetAccount` brings cash and equity back to the starting
balance. Old orders, fills and ledger events stay readable: the reset is more ledger, not less.

An account holder (its own keys) may not undo an operator: while the account is paused, locked,
liquidated or completed its reset is refused (409 ``account_operator_state``) and only an admin
resets it. Starting balances are bounded by ``PROPDESK_MAX_STARTING_CASH``.

Prop evaluations may be reset too (firms sell resets): the rule state starts over from the new
starting balance and the evaluation's outcome is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from propdesk.accounting.kernel import ResetAccount, handle
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.execution.order_book.book import OrderBook
from propdesk.model.ids import AccountId, OrderId, UserId
from propdesk.model.policy import ExecutionPolicy
from propdesk.risk.rules.evaluate import evaluate
from propdesk.risk.rules.fold import start_rules
from propdesk.services.accounts import rules
from propdesk.services.accounts.admin import figures
from propdesk.services.accounts.commands import policy_of, policy_snapshot
from propdesk.services.accounts.lifecycle import (
    NewAccount,
    build_policy,
    check_starting_balance,
    create_in,
    ensure_user,
    start_in,
)
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Conflict, Disabled, Forbidden, Invalid
from propdesk.services.orders.book_runner import AssetResolver, store_book
from propdesk.services.orders.commands import is_multileg_leg
from propdesk.services.transactions import AccountTx, open_tx
from propdesk.store.accounts import AccountSummary
from propdesk.store.uow import UnitOfWork

DEFAULT_RESET_REASON = "account reset"
# Statuses an operator sets: while one holds, the account's own keys cannot reset it.
OPERATOR_STATES = frozenset(
    {AccountStatus.PAUSED, AccountStatus.LOCKED, AccountStatus.LIQUIDATED, AccountStatus.COMPLETED}
)


@dataclass(frozen=True, slots=True)
class PaperAccount:
    """A just created and started account, as the CLI reports it."""

    account_id: AccountId
    status: AccountStatus
    starting_cash: Decimal
    currency: str
    preset: str
    owner_user_id: UserId | None


@dataclass(frozen=True, slots=True)
class ResetDone:
    """What a reset did: the fresh state, when, and what it canceled and archived."""

    state: AccountState
    reset_at: datetime
    starting_cash: Decimal
    canceled_order_ids: list[OrderId]
    archived_symbols: list[str]


PAPER_TRADING_OFF = "paper trading is turned off on this server (PROPDESK_PAPER_TRADING)"


def create_paper_account(
    ctx: ServiceContext,
    *,
    preset: str = "paper",
    starting_cash: Decimal | None = None,
    owner_user_id: UserId | None = None,
    user_name: str | None = None,
) -> PaperAccount:
    """Create and start an account under ``preset`` (``starting_cash`` overrides its balance).

    Everything is validated before anything is written, so a bad preset or amount creates no user
    and no account. ``owner_user_id`` is created on first use (named ``user_name``, else its id);
    one user may own any number of accounts. Refused (403 ``paper_trading_disabled``) while the
    server's paper trading is turned off (``PROPDESK_PAPER_TRADING=false``).
    """
    if not ctx.settings.paper_trading:
        raise Disabled("paper_trading_disabled", PAPER_TRADING_OFF)
    overrides: dict[str, Any] = {}
    if starting_cash is not None:
        overrides["starting_balance"] = check_starting_balance(ctx, starting_cash, "starting_cash")
    policy = build_policy(preset, overrides)
    if starting_cash is None:  # the preset's own balance is bounded too
        check_starting_balance(ctx, policy.starting_balance, "policy.starting_balance")
    if owner_user_id is not None and (not owner_user_id.strip() or len(owner_user_id) > 64):
        raise Invalid("invalid_user", "a user id has 1 to 64 characters", {"field": "user"})
    request = NewAccount(preset=preset, overrides=overrides, owner_user_id=owner_user_id, mode=preset)
    with open_tx(ctx.engine) as uow:
        if owner_user_id is not None:
            ensure_user(ctx, uow, owner_user_id, user_name or owner_user_id)
        row = create_in(ctx, uow, request, policy, None, None, None)
        state = start_in(ctx, AccountTx(uow, uow.lock_account(row.id), uow.accounts.load_state(row.id)))
    return PaperAccount(
        AccountId(row.id), state.status, state.starting_cash, state.currency, preset, owner_user_id
    )


def list_accounts(ctx: ServiceContext, owner_user_id: UserId | None = None) -> list[AccountSummary]:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return uow.accounts.summaries(owner_user_id)


def _reset_policy(policy: ExecutionPolicy, starting_cash: Decimal) -> ExecutionPolicy:
    if policy.starting_balance == starting_cash:
        return policy
    return ExecutionPolicy.model_validate({**policy.model_dump(), "starting_balance": starting_cash})


def reset_account(
    ctx: ServiceContext,
    account_id: AccountId,
    *,
    actor: str,
    reason: str = DEFAULT_RESET_REASON,
    starting_cash: Decimal | None = None,
    by_owner: bool = False,
) -> ResetDone:
    """Start ``account_id`` over (see the module docstring); ``starting_cash`` sets a new balance.

    Allowed from any started status, the ended ones included: the account is active afterwards.
    The audit row names ``actor`` (a key id or an admin token's name) with the figures before and
    after and the archived positions. A pending account is refused (409 ``account_not_started``):
    start it instead.

    ``by_owner`` (the account's own keys, not an operator) may not undo an operator's decision:
    a paused, locked, liquidated or completed account is refused (409 ``account_operator_state``),
    a prop evaluation under a rule pack too (403 ``reset_needs_admin``); their resets go through
    the admin route.
    """
    if starting_cash is not None:
        check_starting_balance(ctx, starting_cash, "starting_cash")
    if not reason.strip():
        raise Invalid("reason_required", "a reset needs a reason", {"field": "reason"})
    with UnitOfWork(ctx.engine) as uow:
        account = uow.lock_account(account_id)
        before = uow.accounts.load_state(account_id)
        if before.status is AccountStatus.PENDING:
            raise Conflict("account_not_started", f"account {account_id} is pending: start it, not reset it")
        if by_owner and before.status in OPERATOR_STATES:
            raise Conflict(
                "account_operator_state",
                f"the account is {before.status.value} by an operator; only an admin can reset it",
                {"status": before.status.value},
            )
        if by_owner and account.rule_pack is not None:
            raise Forbidden(
                "reset_needs_admin",
                "a prop evaluation under a rule pack is reset by an operator (admin route)",
            )
        balance = account.starting_balance if starting_cash is None else starting_cash
        policy = policy_of(account)
        now = ctx.clock()

        loaded = uow.orders.open_orders(account_id)
        book = OrderBook.of(before, policy, loaded, resolve=AssetResolver(uow), new_id=ctx.ids)
        canceled: list[OrderId] = []
        # Exits before their entries, as a cancel-all does, so each order ends exactly once.
        for order in sorted(book.open_orders(), key=lambda o: (o.parent_id is None, o.created_at, o.id)):
            # A bracket's exits end with their entry, a multi-leg order's legs with their parent.
            if book.orders[order.id].is_open and not is_multileg_leg(order):
                canceled.append(OrderId(book.cancel(order.id, now=now, reason="account reset").id))
        store_book(ctx, uow, account, book, known={o.id for o in loaded})
        decision = handle(book.state, ResetAccount(at=now, starting_balance=balance, reason=reason))
        uow.accounts.save(
            account_id, decision.state, decision.events, correlation_id="reset", recorded_at=now
        )
        uow.accounts.restart(
            account_id,
            starting_balance=balance,
            policy=policy_snapshot(_reset_policy(policy, balance)),
            at=now,
        )
        pack = rules.pack_of(account)
        if pack is not None:
            fresh = start_rules(pack, now, starting_balance=balance)
            rules.save_state(uow, account_id, fresh, evaluate(pack, fresh, now), now)
        archived = [
            {"symbol": p.symbol, "qty": str(p.qty), "cost": str(p.cost), "mark": str(p.mark)}
            for _, p in sorted(before.positions.items())
        ]
        archived_symbols = sorted(before.positions)
        uow.audit.record(
            account_id=account_id,
            actor=actor,
            action="reset",
            reason=reason,
            before={
                **figures(before),
                "startingCash": str(before.starting_cash),
                "reservedForOrders": str(before.reserved_for_orders),
            },
            after={
                **figures(decision.state),
                "startingCash": str(balance),
                "canceledOrders": canceled,
                "archivedPositions": archived,
            },
            at=now,
        )
        uow.commit()
    return ResetDone(decision.state, now, balance, canceled, archived_symbols)
