"""Account use cases: each function is one transaction over the store, with the kernel deciding.

The pattern of every state change is the one in docs/architecture.md: begin a unit of work, lock the
account, load its state, let the pure kernel decide, append the events and update the
projections, commit. A :class:`~propdesk.accounting.kernel.CommandRejected` raised by the kernel
propagates out of the ``with`` block, so the transaction rolls back and nothing is stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from propdesk.accounting.events import FillApplied
from propdesk.accounting.kernel import Command, CreateAccount, Start, handle, replay
from propdesk.accounting.state import AccountState
from propdesk.model.ids import AccountId, IdFactory
from propdesk.model.numbers import ZERO
from propdesk.model.policy import ExecutionPolicy
from propdesk.risk.rules.pack import RulePack, pack_snapshot
from propdesk.services.access import ownership
from propdesk.services.access.tokens import Principal
from propdesk.services.clock import Clock, system_clock
from propdesk.services.transactions import AccountTx, account_tx, open_tx
from propdesk.store.accounts import AccountRow
from propdesk.store.balances import DERIVED_BALANCE_FIGURES
from propdesk.store.uow import UnitOfWork

CommandFactory = Callable[[AccountState], Command]


class IdempotencyConflict(Exception):
    """An idempotency key reused for a different request (an API maps this to 409).

    ``account_id`` is None when the key opened an account the caller may not see: the conflict
    then names no account, so the key reveals nothing about it.
    """

    def __init__(self, key: str, account_id: str | None, message: str) -> None:
        if account_id is None:
            super().__init__(f"idempotency key {key!r} is already used: {message}")
        else:
            super().__init__(f"idempotency key {key!r} already opened account {account_id}: {message}")
        self.key = key
        self.account_id = account_id


def policy_snapshot(policy: ExecutionPolicy) -> dict[str, Any]:
    """The JSON snapshot of a policy stored on the account: decimals as strings, sets sorted.

    Sorting makes the snapshot of equal policies byte-identical whatever the process's hash seed.
    """
    data = policy.model_dump(mode="json")
    return {key: sorted(value) if isinstance(value, list) else value for key, value in data.items()}


def policy_of(account: AccountRow) -> ExecutionPolicy:
    """The policy snapshotted on an account, as a validated model again."""
    return ExecutionPolicy.model_validate(dict(account.policy))


def open_account(
    engine: Engine,
    *,
    policy: ExecutionPolicy,
    owner: str | None = None,
    idempotency_key: str | None = None,
    clock: Clock,
    ids: IdFactory,
    mode: str = "paper",
    parent_account_id: str | None = None,
    clone_id: str | None = None,
    rule_pack: RulePack | None = None,
    owner_token_id: str | None = None,
    principal: Principal | None = None,
) -> AccountId:
    """Create a pending account under ``policy``; a retry with the same key returns the same account.

    The key check runs first, in the same transaction as the insert. If two requests with one
    key race, the unique constraint lets one insert win and the other's retry finds it. Reusing
    a key with another policy, owner, mode or rule pack raises :class:`IdempotencyConflict`.
    ``rule_pack`` is snapshotted on the account with its key and fingerprint. ``owner_token_id``
    records the token that created the account; a key that opened an account ``principal`` may not
    see is a conflict that names no account (see :mod:`propdesk.services.access.ownership`).
    """
    for attempt in (1, 2):
        try:
            with open_tx(engine) as uow:
                return open_account_in(
                    uow,
                    policy=policy,
                    owner=owner,
                    idempotency_key=idempotency_key,
                    clock=clock,
                    ids=ids,
                    mode=mode,
                    parent_account_id=parent_account_id,
                    clone_id=clone_id,
                    rule_pack=rule_pack,
                    owner_token_id=owner_token_id,
                    principal=principal,
                )
        except IntegrityError:
            # A lost race on the key surfaces here; the retry finds the winner. Any other integrity
            # error fails the same way again and is raised from the second attempt.
            if idempotency_key is None or attempt == 2:
                raise
    raise AssertionError("unreachable")


def open_account_in(
    uow: UnitOfWork,
    *,
    policy: ExecutionPolicy,
    owner: str | None = None,
    idempotency_key: str | None = None,
    clock: Clock,
    ids: IdFactory,
    mode: str = "paper",
    parent_account_id: str | None = None,
    clone_id: str | None = None,
    rule_pack: RulePack | None = None,
    owner_token_id: str | None = None,
    principal: Principal | None = None,
) -> AccountId:
    """:func:`open_account` inside the caller's transaction (which commits it)."""
    if idempotency_key is not None:
        existing = uow.accounts.find_by_idempotency_key(idempotency_key)
        if existing is not None:
            if not ownership.visible(uow, principal, [existing.id]):
                raise IdempotencyConflict(idempotency_key, None, "choose another key")
            requested = {
                "owner": owner,
                "mode": mode,
                "parent account": parent_account_id,
                "clone id": clone_id,
                "rule pack": None if rule_pack is None else rule_pack.key,
            }
            _check_same_request(existing, idempotency_key, policy, requested)
            return AccountId(existing.id)
    if owner is not None:
        uow.users.get(owner)
    account_id = AccountId(ids())
    created_at = clock()
    uow.accounts.insert(
        account_id=account_id,
        mode=mode,
        currency=policy.currency,
        policy=policy_snapshot(policy),
        starting_balance=policy.starting_balance,
        created_at=created_at,
        owner_user_id=owner,
        clone_id=clone_id,
        parent_account_id=parent_account_id,
        idempotency_key=idempotency_key,
        rule_pack=None if rule_pack is None else pack_snapshot(rule_pack),
        rule_pack_key=None if rule_pack is None else rule_pack.key,
        rule_pack_fingerprint=None if rule_pack is None else rule_pack.fingerprint,
        owner_token_id=owner_token_id,
    )
    created = handle(
        AccountState(account_id=account_id),
        CreateAccount(
            at=created_at,
            mode=mode,
            currency=policy.currency,
            starting_balance=policy.starting_balance,
        ),
    )
    uow.accounts.save(account_id, created.state, created.events, recorded_at=created_at)
    return account_id


def _check_same_request(
    existing: AccountRow, key: str, policy: ExecutionPolicy, requested: Mapping[str, str | None]
) -> None:
    """Raise :class:`IdempotencyConflict` unless ``existing`` is what this request would create."""
    stored = {
        "owner": existing.owner_user_id,
        "mode": existing.mode,
        "parent account": existing.parent_account_id,
        "clone id": existing.clone_id,
        "rule pack": existing.rule_pack_key,
    }
    differences = [] if policy_of(existing) == policy else ["policy"]
    differences += [name for name, value in requested.items() if stored[name] != value]
    if differences:
        raise IdempotencyConflict(key, existing.id, f"different {', '.join(differences)}")


def _apply(
    engine: Engine,
    account_id: str,
    build: Callable[[AccountRow, AccountState], Command],
    *,
    clock: Clock,
    correlation_id: str | None,
    causation_id: str | None,
) -> AccountState:
    """Lock, load, decide, save, commit: the one path by which an account's state changes."""
    with account_tx(engine, account_id) as tx:
        decision = handle(tx.state, build(tx.account, tx.state))
        return tx.save(decision.state, decision.events, correlation_id, causation_id, recorded_at=clock())


def start_account(
    engine: Engine,
    account_id: str,
    clock: Clock,
    *,
    correlation_id: str | None = None,
) -> AccountState:
    """Fund and activate a pending account from its policy snapshot (balance, currency, leverage)."""

    with account_tx(engine, account_id) as tx:
        return start_in(tx, clock, correlation_id=correlation_id)


def start_in(tx: AccountTx, clock: Clock, *, correlation_id: str | None = None) -> AccountState:
    """:func:`start_account` inside the caller's transaction on the locked account."""
    policy = policy_of(tx.account)
    command = Start(
        at=clock(),
        starting_cash=policy.starting_balance,
        currency=policy.currency,
        leverage=policy.max_leverage,
    )
    decision = handle(tx.state, command)
    return tx.save(decision.state, decision.events, correlation_id, recorded_at=clock())


def execute(
    engine: Engine,
    account_id: str,
    command: Command | CommandFactory,
    *,
    clock: Clock = system_clock,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> AccountState:
    """Run one kernel command against the account in one transaction; returns the new state.

    ``command`` may be a factory called with the state loaded under the lock, for commands that
    depend on it (e.g. a liquidation priced from the positions held). ``clock`` stamps the
    ledger rows' ``recorded_at``; the command carries its own event time.
    """

    def build(account: AccountRow, state: AccountState) -> Command:
        return command if isinstance(command, Command) else command(state)

    return _apply(
        engine,
        account_id,
        build,
        clock=clock,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )


def get_state(engine: Engine, account_id: str) -> AccountState:
    """The account's current state from its projections (a read-only snapshot, no lock)."""
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.accounts.load_state(account_id)


@dataclass(frozen=True, slots=True)
class FieldDrift:
    """A stored figure that differs from the one the ledger implies."""

    stored: object
    recomputed: object


def recompute(engine: Engine, account_id: str) -> dict[str, FieldDrift]:
    """What the stored projections get wrong compared with a fold of the ledger; empty if nothing.

    Compares every field of the state, the derived balance figures, ``accounts.last_seq``, the
    ledger's seq (gapless from 1) and ``cash_after`` chain, and the fills recorded. Drift is
    reported, never repaired here. Everything is read from one snapshot without a lock, so a
    writer committing meanwhile neither waits for recompute nor makes it compare a ledger and
    projections of different moments.
    """
    with UnitOfWork(engine, read_only=True) as uow:
        return recompute_in(uow, account_id)


def recompute_in(uow: UnitOfWork, account_id: str) -> dict[str, FieldDrift]:
    """:func:`recompute` inside the caller's transaction (a read-only snapshot or a locked one)."""
    account = uow.accounts.get(account_id)
    stored = uow.accounts.load_state(account_id)
    balance = uow.accounts.balance_row(account_id)
    ledger = uow.accounts.ledger(account_id)
    recorded_fills = uow.accounts.fill_ids(account_id)
    held_by_orders = uow.orders.open_reserved(account_id)
    order_ids = uow.orders.ids(account_id, list(stored.reservations))
    events = [row.to_event() for row in ledger]
    replayed = replay(account_id, events)

    drift: dict[str, FieldDrift] = {}

    def compare(name: str, stored_value: object, recomputed_value: object) -> None:
        if isinstance(stored_value, Mapping) and isinstance(recomputed_value, Mapping):
            stored_value, recomputed_value = dict(stored_value), dict(recomputed_value)
        if stored_value != recomputed_value:
            drift[name] = FieldDrift(stored_value, recomputed_value)

    for field in dataclasses.fields(AccountState):
        compare(field.name, getattr(stored, field.name), getattr(replayed, field.name))
    for figure in DERIVED_BALANCE_FIGURES:
        compare(f"balances.{figure}", balance[figure], getattr(replayed, figure))
    compare("accounts.last_seq", account.last_seq, replayed.seq)
    # Ledger bookkeeping: report the first row that breaks the seq or the cash_after chain.
    cash = ZERO
    for expected_seq, row in enumerate(ledger, start=1):
        cash += row.cash_delta
        if row.seq != expected_seq:
            drift["ledger.seq"] = FieldDrift(row.seq, expected_seq)
            break
        if row.cash_after != cash:
            drift[f"ledger.cash_after@{row.seq}"] = FieldDrift(row.cash_after, cash)
            break
    # Reservations are rebuilt from open orders: each open order holds what the ledger says it does.
    # (Reservations taken outside the order engine, with no order row, are checked by the ledger fold.)
    compare(
        "orders.reserved",
        held_by_orders,
        {k: v for k, v in replayed.reservations.items() if k in held_by_orders or k in order_ids},
    )
    compare(
        "fills",
        recorded_fills,
        {event.fill.fill_id for event in events if isinstance(event, FillApplied)},
    )
    return drift
