"""Accounts: the record, the kernel state loaded from the projections, and ``save``.

The ledger (``ledger_events``) is the truth; balances, positions, reservations and fills are
projections written in the same transaction by :meth:`AccountRepository.save`. A repository
works on the caller's connection and never commits: the unit of work decides.

:meth:`AccountRepository.load_state` and ``save`` are exact inverses on every field of
:class:`~propdesk.accounting.state.AccountState`, which is what lets ``recompute`` compare a fold
of the ledger with the stored projections field by field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from propdesk.accounting.events import (
    AccountLiquidated,
    Event,
    FillApplied,
    FillVoided,
)
from propdesk.accounting.positions import Position
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.model.instruments import AssetClass, InstrumentSpec
from propdesk.model.numbers import ZERO
from propdesk.model.orders import OrderStatus, OrderUpdate
from propdesk.store.balances import balance_values
from propdesk.store.errors import (
    AccountNotFound,
    StaleStateError,
)
from propdesk.store.fills import fill_values
from propdesk.store.ledger import LedgerStore
from propdesk.store.order_updates import order_of_fill, update_row
from propdesk.store.orders import OPEN_ORDER_STATUSES, order_of
from propdesk.store.position_history import PositionHistoryStore
from propdesk.store.positions import PositionStore, touched_symbols
from propdesk.store.reservations import ReservationStore
from propdesk.store.rule_states import RuleStateStore
from propdesk.store.tables import (
    accounts,
    balances,
    fills,
    order_updates,
    orders,
    positions,
    reservations,
)


@dataclass(frozen=True, slots=True)
class AccountRow:
    """The account record: identity, ownership, immutable policy snapshot and ledger position."""

    id: str
    owner_user_id: str | None
    clone_id: str | None
    parent_account_id: str | None
    mode: str
    status: AccountStatus
    currency: str
    idempotency_key: str | None
    policy: Mapping[str, Any]
    starting_balance: Decimal
    last_seq: int
    created_at: datetime
    updated_at: datetime
    rule_pack: Mapping[str, Any] | None = None
    rule_pack_key: str | None = None
    rule_pack_fingerprint: str | None = None
    outcome: str | None = None
    owner_token_id: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> AccountRow:
        return cls(
            id=row["id"],
            owner_user_id=row["owner_user_id"],
            clone_id=row["clone_id"],
            parent_account_id=row["parent_account_id"],
            mode=row["mode"],
            status=AccountStatus(row["status"]),
            currency=row["currency"],
            idempotency_key=row["idempotency_key"],
            policy=MappingProxyType(dict(row["policy"])),
            starting_balance=row["starting_balance"],
            last_seq=row["last_seq"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            rule_pack=None if row.get("rule_pack") is None else MappingProxyType(dict(row["rule_pack"])),
            rule_pack_key=row.get("rule_pack_key"),
            rule_pack_fingerprint=row.get("rule_pack_fingerprint"),
            outcome=row.get("outcome"),
            owner_token_id=row.get("owner_token_id"),
        )


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """One line of an account listing: who owns it and where it stands (from its projections)."""

    id: str
    owner_user_id: str | None
    mode: str
    status: AccountStatus
    currency: str
    starting_cash: Decimal
    cash: Decimal
    equity: Decimal
    created_at: datetime


class AccountRepository(LedgerStore, RuleStateStore, PositionStore, PositionHistoryStore, ReservationStore):
    """Accounts, their gapless ledger and the projections kept in step with it."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # --- the account record ----------------------------------------------------------------------

    def insert(
        self,
        *,
        account_id: str,
        mode: str,
        currency: str,
        policy: Mapping[str, Any],
        starting_balance: Decimal,
        created_at: datetime,
        owner_user_id: str | None = None,
        clone_id: str | None = None,
        parent_account_id: str | None = None,
        idempotency_key: str | None = None,
        rule_pack: Mapping[str, Any] | None = None,
        rule_pack_key: str | None = None,
        rule_pack_fingerprint: str | None = None,
        owner_token_id: str | None = None,
    ) -> AccountRow:
        """Insert a pending account and its empty balances row (the state of a fresh account)."""
        values: dict[str, Any] = {
            "id": account_id,
            "owner_user_id": owner_user_id,
            "clone_id": clone_id,
            "parent_account_id": parent_account_id,
            "mode": mode,
            "status": AccountStatus.PENDING.value,
            "currency": currency,
            "idempotency_key": idempotency_key,
            "policy": dict(policy),
            "starting_balance": starting_balance,
            "last_seq": 0,
            "created_at": created_at,
            "updated_at": created_at,
            "rule_pack": None if rule_pack is None else dict(rule_pack),
            "rule_pack_key": rule_pack_key,
            "rule_pack_fingerprint": rule_pack_fingerprint,
            "outcome": None,
            "owner_token_id": owner_token_id,
        }
        self._conn.execute(sa.insert(accounts).values(**values))
        self._conn.execute(
            sa.insert(balances).values(account_id=account_id, **balance_values(AccountState(account_id)))
        )
        return AccountRow.from_row(values)

    def find(self, account_id: str, *, lock: bool = False) -> AccountRow | None:
        """The account row; with ``lock`` read by ``SELECT … FOR UPDATE``.

        SQLite has no row locks and ignores the clause; there the unit of work's BEGIN IMMEDIATE
        already holds the database write lock.
        """
        stmt = sa.select(accounts).where(accounts.c.id == account_id)
        if lock:
            stmt = stmt.with_for_update()
        row = self._conn.execute(stmt).mappings().one_or_none()
        return None if row is None else AccountRow.from_row(row)

    def get(self, account_id: str) -> AccountRow:
        found = self.find(account_id)
        if found is None:
            raise AccountNotFound(account_id)
        return found

    def find_by_idempotency_key(self, key: str) -> AccountRow | None:
        stmt = sa.select(accounts).where(accounts.c.idempotency_key == key)
        row = self._conn.execute(stmt).mappings().one_or_none()
        return None if row is None else AccountRow.from_row(row)

    def set_outcome(self, account_id: str, outcome: str, at: datetime) -> None:
        """Record a prop evaluation's outcome (``passed`` or ``failed``); the first one stays."""
        self._conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id, accounts.c.outcome.is_(None))
            .values(outcome=outcome, updated_at=at)
        )

    def restart(
        self, account_id: str, *, starting_balance: Decimal, policy: Mapping[str, Any], at: datetime
    ) -> None:
        """A reset's change to the account record: the (possibly new) starting balance, in the
        column and in the policy snapshot alike (the auto-liquidation level and the rule pack's
        floors derive from it), and no evaluation outcome yet."""
        self._conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id)
            .values(starting_balance=starting_balance, policy=dict(policy), outcome=None, updated_at=at)
        )

    def summaries(self, owner_user_id: str | None = None) -> list[AccountSummary]:
        """Every account (or one owner's) with its current figures, oldest first."""
        stmt = (
            sa.select(
                accounts.c.id,
                accounts.c.owner_user_id,
                accounts.c.mode,
                accounts.c.status,
                accounts.c.created_at,
                accounts.c.currency,
                balances.c.starting_cash,
                balances.c.cash,
                balances.c.equity,
            )
            .join(balances, balances.c.account_id == accounts.c.id)
            .order_by(accounts.c.created_at, accounts.c.id)
        )
        if owner_user_id is not None:
            stmt = stmt.where(accounts.c.owner_user_id == owner_user_id)
        return [
            AccountSummary(
                id=r["id"],
                owner_user_id=r["owner_user_id"],
                mode=r["mode"],
                status=AccountStatus(r["status"]),
                currency=r["currency"],
                starting_cash=r["starting_cash"],
                cash=r["cash"],
                equity=r["equity"],
                created_at=r["created_at"],
            )
            for r in self._conn.execute(stmt).mappings()
        ]

    # --- state ---------------------------------------------------------------------------------

    def load_state(self, account_id: str) -> AccountState:
        """The kernel state of an account from its projections (exact on every field)."""
        head = self._conn.execute(
            sa.select(accounts.c.status, balances)
            .join(balances, balances.c.account_id == accounts.c.id)
            .where(accounts.c.id == account_id)
        ).mappings()
        row = head.one_or_none()
        if row is None:
            raise AccountNotFound(account_id)
        held = {
            p.symbol: p
            for p in (
                Position(
                    instrument=InstrumentSpec(r["symbol"], AssetClass(r["asset_class"]), r["multiplier"]),
                    qty=r["qty"],
                    cost=r["cost"],
                    mark=r["mark"],
                    opened_at=r["opened_at"],
                )
                for r in self._conn.execute(
                    sa.select(positions).where(positions.c.account_id == account_id)
                ).mappings()
            )
        }
        open_reservations = sa.select(reservations.c.order_id, reservations.c.amount).where(
            reservations.c.account_id == account_id, reservations.c.status == "open"
        )
        reserved: dict[str, Decimal] = dict(self._conn.execute(open_reservations).all())
        return AccountState(
            account_id=account_id,
            status=AccountStatus(row["status"]),
            currency=row["currency"],
            leverage=row["leverage"],
            starting_cash=row["starting_cash"],
            cash=row["cash"],
            positions=MappingProxyType(held),
            reservations=MappingProxyType(reserved),
            realized_pnl=row["realized_pnl"],
            fees=row["fees"],
            adjustments=row["adjustments"],
            high_watermark=row["high_watermark"],
            trading_day=row["trading_day"],
            day_start_equity=row["day_start_equity"],
            day_start_balance=row["day_start_balance"],
            seq=row["seq"],
            updated_at=row["updated_at"],
        )

    def balance_row(self, account_id: str) -> RowMapping:
        """The stored balances row as is, derived figures included (for recompute and reports)."""
        row = (
            self._conn.execute(sa.select(balances).where(balances.c.account_id == account_id))
            .mappings()
            .one_or_none()
        )
        if row is None:
            raise AccountNotFound(account_id)
        return row

    def save(
        self,
        account_id: str,
        state: AccountState,
        events: Sequence[Event],
        correlation_id: str | None = None,
        causation_id: str | None = None,
        *,
        recorded_at: datetime | None = None,
    ) -> None:
        """Append ``events`` to the ledger and bring every projection to ``state``.

        ``state`` must be the result of applying ``events`` to the account's current stored state
        (what the kernel's ``handle`` returns after ``load_state``). The ledger seq advances from
        ``accounts.last_seq`` without gaps; the update of ``last_seq`` doubles as an optimistic
        check, so a save from a stale state raises :class:`StaleStateError` instead of forking
        the ledger. ``recorded_at`` defaults to the database's transaction time.
        """
        if state.account_id != account_id:
            raise ValueError(f"state of {state.account_id!r} saved to account {account_id!r}")
        if not events:
            return
        previous_seq = state.seq - len(events)
        self._advance_account(account_id, state, previous_seq)
        self._append_ledger(
            account_id, state, events, previous_seq, correlation_id, causation_id, recorded_at
        )
        fill_rows = [fill_values(account_id, e.fill) for e in events if isinstance(e, FillApplied)]
        if fill_rows:
            self._conn.execute(sa.insert(fills), fill_rows)
        # A fill no order placed (a liquidation, a flatten) is a trade update too, of an order that
        # stands for it; fills of orders get theirs from the order's own door.
        orderless = [
            update_row(
                account_id,
                OrderUpdate.FILL,
                order_of_fill(account_id, e.fill),
                e.at,
                e.fill,
                e.position_qty_after,
            )
            for e in events
            if isinstance(e, FillApplied) and e.fill.order_id is None
        ]
        if orderless:
            self._conn.execute(sa.insert(order_updates), orderless)
        for event in events:
            if isinstance(event, FillVoided):
                self._conn.execute(
                    sa.update(fills)
                    .where(fills.c.account_id == account_id, fills.c.id == event.fill_id)
                    .values(voided_at=event.at)
                )
        self._apply_reservations(account_id, events)
        self._record_position_history(account_id, events)
        self._write_positions(account_id, state, touched_symbols(events))
        for event in events:
            if isinstance(event, AccountLiquidated):
                self._cancel_open_orders(account_id, event.at, f"account liquidated: {event.reason}")
        self._conn.execute(
            sa.update(balances).where(balances.c.account_id == account_id).values(**balance_values(state))
        )

    def _advance_account(self, account_id: str, state: AccountState, previous_seq: int) -> None:
        values: dict[str, Any] = {"last_seq": state.seq, "status": state.status.value}
        if state.updated_at is not None:
            values["updated_at"] = state.updated_at
        result = self._conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id, accounts.c.last_seq == previous_seq)
            .values(**values)
        )
        if result.rowcount != 1:
            current = self.find(account_id)
            if current is None:
                raise AccountNotFound(account_id)
            raise StaleStateError(
                f"account {account_id} is at seq {current.last_seq}, "
                f"but the state being saved follows seq {previous_seq}"
            )

    def _cancel_open_orders(self, account_id: str, at: datetime, reason: str) -> None:
        """A liquidation released every reservation; the open orders that held them end with it,
        each with a ``canceled`` trade update."""
        where = (orders.c.account_id == account_id, orders.c.status.in_(OPEN_ORDER_STATUSES))
        open_orders = [
            order_of(r)
            for r in self._conn.execute(
                sa.select(orders).where(*where).order_by(orders.c.created_at, orders.c.id)
            )
            .mappings()
            .all()
        ]
        if not open_orders:
            return
        self._conn.execute(
            sa.update(orders)
            .where(*where)
            .values(status="canceled", reserved_amount=ZERO, canceled_at=at, updated_at=at, reason=reason)
        )
        self._conn.execute(
            sa.insert(order_updates),
            [
                update_row(
                    account_id,
                    OrderUpdate.CANCELED,
                    o.changed(
                        status=OrderStatus.CANCELED,
                        reserved=ZERO,
                        canceled_at=at,
                        updated_at=at,
                        reason=reason,
                    ),
                    at,
                )
                for o in open_orders
            ],
        )

    def by_clone(self, clone_id: str) -> list[AccountRow]:
        stmt = (
            sa.select(accounts)
            .where(accounts.c.clone_id == clone_id)
            .order_by(accounts.c.created_at, accounts.c.id)
        )
        return [AccountRow.from_row(r) for r in self._conn.execute(stmt).mappings()]

    def open_ids_with_positions(self) -> list[str]:
        """Started, non-terminal accounts that hold a position: the mark-to-market sweep's work."""
        stmt = (
            sa.select(accounts.c.id)
            .where(
                accounts.c.status.in_(["active", "paused", "locked"]),
                sa.exists().where(positions.c.account_id == accounts.c.id),
            )
            .order_by(accounts.c.id)
        )
        return list(self._conn.execute(stmt).scalars())

    def overwrite_projections(self, account_id: str, state: AccountState) -> None:
        """Make balances and positions exactly ``state`` (recompute's correction; ledger untouched)."""
        self._write_positions(account_id, state, None)
        self._conn.execute(
            sa.update(balances).where(balances.c.account_id == account_id).values(**balance_values(state))
        )

    def fill_ids(self, account_id: str) -> set[str]:
        """Ids of the fills recorded for the account (recompute checks them against the ledger)."""
        stmt = sa.select(fills.c.id).where(fills.c.account_id == account_id)
        return set(self._conn.execute(stmt).scalars())
