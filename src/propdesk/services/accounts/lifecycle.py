"""Account lifecycle: create, start, complete, liquidate, pause, resume, lock.

Each function is one transaction with the account locked. Kernel refusals
(:class:`~propdesk.accounting.kernel.CommandRejected`) propagate unchanged; the API maps them to
409 with the kernel's code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_snake
from sqlalchemy.exc import IntegrityError

from propdesk.accounting.kernel import ChangeStatus, CommandRejected, handle
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.model.numbers import NotExactError, parse_decimal
from propdesk.model.policy import ExecutionPolicy, preset
from propdesk.risk.rules.pack import RulePack
from propdesk.services.access import ownership
from propdesk.services.access.tokens import Principal
from propdesk.services.accounts import rules
from propdesk.services.accounts.closeouts import liquidation
from propdesk.services.accounts.commands import IdempotencyConflict, open_account_in
from propdesk.services.accounts.commands import start_in as start_account_in
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Conflict, Invalid
from propdesk.services.transactions import AccountTx, account_tx, open_tx
from propdesk.store.accounts import AccountRow
from propdesk.store.uow import UnitOfWork


@dataclass(frozen=True)
class NewAccount:
    """What a client asks for when it creates an account."""

    preset: str = "audition"
    overrides: Mapping[str, Any] | None = None
    owner_user_id: str | None = None
    clone_id: str | None = None
    parent_account_id: str | None = None
    mode: str = "audition"
    idempotency_key: str | None = None
    rule_pack: str | None = None


# The policy fields that hold decimals: an override of one is read by the strict number grammar.
_DECIMAL_FIELDS = frozenset(
    name
    for name, info in ExecutionPolicy.model_fields.items()
    if info.annotation in (Decimal, Decimal | None)
)


def _exact_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides by snake_case name, every decimal field parsed by :func:`parse_decimal` (a 422
    naming the field if one is not in the grammar or beyond 10^12), so ``"1e309"``,
    ``"1_000"`` or ``"+5"`` never reach the policy."""
    exact: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for key, value in overrides.items():
        name = to_snake(key)
        if name in _DECIMAL_FIELDS and value is not None:
            try:
                value = parse_decimal(value, field=f"policy.{name}")
            except NotExactError as exc:
                problems.append({"field": f"policy.{name}", "message": str(exc)})
        exact[name] = value
    if problems:
        raise Invalid("invalid_policy", problems[0]["message"], {"errors": problems})
    return exact


def check_starting_balance(ctx: ServiceContext, amount: Decimal, field: str = "startingBalance") -> Decimal:
    """``amount`` if it is a starting balance a caller may set: above 0 and at most
    ``PROPDESK_MAX_STARTING_CASH``; else a 422 ``invalid_amount`` naming ``field``."""
    limit = ctx.settings.max_starting_cash
    if not amount.is_finite() or not 0 < amount <= limit:
        raise Invalid(
            "invalid_amount",
            f"{field} must be greater than 0 and at most {limit:,} (PROPDESK_MAX_STARTING_CASH)",
            {"field": field, "limit": str(limit)},
        )
    return amount


def build_policy(name: str, overrides: Mapping[str, Any] | None) -> ExecutionPolicy:
    """A preset with overrides (snake_case or camelCase keys), validated whole; a bad field is a 422."""
    fields = _exact_overrides(overrides or {})
    try:
        return preset(name, **fields)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in ("policy", *err["loc"])), "message": err["msg"]}
            for err in exc.errors()
        ]
        raise Invalid("invalid_policy", "the policy overrides are not valid", {"errors": problems}) from exc
    except ValueError as exc:
        raise Invalid("unknown_preset", str(exc), {"field": "preset"}) from exc


def create_account(
    ctx: ServiceContext, request: NewAccount, *, principal: Principal | None = None
) -> AccountRow:
    """Create a pending account; with a rule pack the policy's starting balance defaults to the pack's.

    ``principal`` (the calling token, None for the CLI and jobs) becomes the account's owning
    token; a parent account it may not use is reported missing, and an idempotency key only ever
    returns an account it may use.
    """
    pack = None if request.rule_pack is None else rules.resolve_pack(request.rule_pack)
    overrides = dict(request.overrides or {})
    if pack is not None and not {"startingBalance", "starting_balance"} & set(overrides):
        overrides["starting_balance"] = pack.starting_balance
    policy = build_policy(request.preset, overrides)
    check_starting_balance(ctx, policy.starting_balance, "policy.starting_balance")
    owner_token_id = ownership.owner_token_of(principal)
    for attempt in (1, 2):
        try:
            with open_tx(ctx.engine) as uow:
                return create_in(ctx, uow, request, policy, pack, owner_token_id, principal)
        except IntegrityError:
            # A lost race on the idempotency key surfaces here; the retry finds the winner.
            if request.idempotency_key is None or attempt == 2:
                raise
    raise AssertionError("unreachable")


def create_in(
    ctx: ServiceContext,
    uow: UnitOfWork,
    request: NewAccount,
    policy: ExecutionPolicy,
    pack: RulePack | None,
    owner_token_id: str | None,
    principal: Principal | None,
) -> AccountRow:
    """:func:`create_account` inside the caller's transaction (which commits it)."""
    if request.parent_account_id is not None:
        ownership.check(uow, principal, request.parent_account_id)
        uow.accounts.get(request.parent_account_id)
    if request.owner_user_id is not None:
        ensure_user(ctx, uow, request.owner_user_id)
    try:
        account_id = open_account_in(
            uow,
            policy=policy,
            owner=request.owner_user_id,
            idempotency_key=request.idempotency_key,
            clock=ctx.clock,
            ids=ctx.ids,
            mode=request.mode,
            parent_account_id=request.parent_account_id,
            clone_id=request.clone_id,
            rule_pack=pack,
            owner_token_id=owner_token_id,
            principal=principal,
        )
    except IdempotencyConflict as exc:
        details = {"idempotencyKey": exc.key}
        if exc.account_id is not None:
            details["accountId"] = exc.account_id
        raise Conflict("idempotency_conflict", str(exc), details) from exc
    return uow.accounts.get(account_id)


def ensure_user(ctx: ServiceContext, uow: UnitOfWork, user_id: str, name: str | None = None) -> None:
    """Platforms own their user ids; the first account of a user records the user."""
    if uow.users.find(user_id) is None:
        uow.users.insert(user_id=user_id, name=(name or user_id)[:200], created_at=ctx.clock())


def start(ctx: ServiceContext, account_id: str) -> AccountState:
    """Fund and activate a pending account; starting an active account again changes nothing.

    One transaction under the account lock: the state read there is current, so a concurrent
    start either went first (and this one changes nothing) or waits for this one.
    """
    with account_tx(ctx.engine, account_id) as tx:
        return start_in(ctx, tx)


def start_in(ctx: ServiceContext, tx: AccountTx) -> AccountState:
    """:func:`start` inside the caller's transaction on the locked account."""
    if tx.state.status is AccountStatus.ACTIVE:
        return tx.state
    started = start_account_in(tx, ctx.clock)
    rules.start(tx.uow, tx.account, ctx.clock())
    return started


def change_status(ctx: ServiceContext, account_id: str, to: AccountStatus, reason: str) -> AccountState:
    """Pause, resume, lock or complete (the kernel refuses transitions out of terminal states)."""
    with account_tx(ctx.engine, account_id) as tx:
        decision = handle(tx.state, ChangeStatus(at=ctx.clock(), to=to, reason=reason))
        return tx.save(decision.state, decision.events, recorded_at=ctx.clock())


def liquidate(ctx: ServiceContext, account_id: str, reason: str) -> AccountState:
    """Close everything at market and end the account (from active, paused or locked)."""
    with account_tx(ctx.engine, account_id) as tx:
        if tx.state.status.is_terminal or tx.state.status is AccountStatus.PENDING:
            raise CommandRejected(
                "invalid_transition", f"account cannot go from {tx.state.status.value} to liquidated"
            )
        decision = liquidation(ctx, tx.uow, tx.state, reason)
        return tx.save(decision.state, decision.events, recorded_at=ctx.clock())
