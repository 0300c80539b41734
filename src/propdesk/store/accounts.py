"""Repositories for users, accounts, their ledger and their projections.

The ledger (``ledger_events``) is the truth; balances, positions, reservations and fills are
projections written in the same transaction by :meth:`AccountRepository.save`. A repository
works on the caller's connection and never commits: the unit of work decides.

:meth:`AccountRepository.load_state` and ``save`` are exact inverses on every field of
:class:`~propdesk.accounting.state.AccountState`, which is what lets ``recompute`` compare a fold
of the ledger with the stored projections field by field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Never

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from propdesk.accounting.events import (
    AccountCreated,
    AccountLiquidated,
    AccountReset,
    AccountStarted,
    CashAdjusted,
    Event,
    FillApplied,
    FillVoided,
    FundsReserved,
    IncidentRecorded,
    PositionsMarked,
    ReservationReleased,
    StatusChanged,
    TradingDayStarted,
    decode_event,
    event_payload,
)
from propdesk.accounting.positions import Position
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId
from propdesk.model.instruments import AssetClass, InstrumentSpec
from propdesk.model.numbers import ZERO
from propdesk.model.orders import OrderStatus, OrderUpdate
from propdesk.store._sql import insert_on_conflict
from propdesk.store.errors import (
    AccountNotFound,
    ProjectionConflict,
    StaleStateError,
    UserNotFound,
)
from propdesk.store.orders import OPEN_ORDER_STATUSES, order_of, order_of_fill, update_row
from propdesk.store.tables import (
    accounts,
    balances,
    fills,
    ledger_events,
    order_updates,
    orders,
    positions,
    reservations,
    rule_states,
    users,
)

# --- rows ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    name: str
    email: str | None
    created_at: datetime


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


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One stored ledger event with its bookkeeping columns."""

    seq: int
    type: str
    at: datetime
    cash_delta: Decimal
    cash_after: Decimal
    payload: Mapping[str, Any]
    correlation_id: str | None
    causation_id: str | None
    recorded_at: datetime

    def to_event(self) -> Event:
        return decode_event(self.type, self.at, self.cash_delta, self.payload)


# --- users ---------------------------------------------------------------------------------------


class UserRepository:
    """Users own accounts; authentication lives elsewhere, this is just the record."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, *, user_id: str, name: str, created_at: datetime, email: str | None = None) -> UserRow:
        row = UserRow(id=user_id, name=name, email=email, created_at=created_at)
        self._conn.execute(sa.insert(users).values(id=user_id, name=name, email=email, created_at=created_at))
        return row

    def find(self, user_id: str) -> UserRow | None:
        row = self._conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().one_or_none()
        return None if row is None else UserRow(row["id"], row["name"], row["email"], row["created_at"])

    def get(self, user_id: str) -> UserRow:
        found = self.find(user_id)
        if found is None:
            raise UserNotFound(user_id)
        return found


# --- accounts ------------------------------------------------------------------------------------


def _balance_values(state: AccountState) -> dict[str, Any]:
    """The balances row of ``state``: its scalars and the derived figures stored for readers."""
    return {
        "currency": state.currency,
        "starting_cash": state.starting_cash,
        "cash": state.cash,
        "equity": state.equity,
        "realized_pnl": state.realized_pnl,
        "unrealized_pnl": state.unrealized_pnl,
        "fees": state.fees,
        "adjustments": state.adjustments,
        "high_watermark": state.high_watermark,
        "day_start_equity": state.day_start_equity,
        "day_start_balance": state.day_start_balance,
        "trading_day": state.trading_day,
        "reserved_for_orders": state.reserved_for_orders,
        "margin_used": state.margin_used,
        "leverage": state.leverage,
        "seq": state.seq,
        "updated_at": state.updated_at,
    }


# Balance columns that are derived from the state rather than part of it.
DERIVED_BALANCE_FIGURES = ("equity", "unrealized_pnl", "reserved_for_orders", "margin_used")


def _position_values(account_id: str, position: Position) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "symbol": position.symbol,
        "asset_class": position.instrument.asset_class.value,
        "multiplier": position.instrument.multiplier,
        "qty": position.qty,
        "cost": position.cost,
        "mark": position.mark,
        "opened_at": position.opened_at,
    }


def _fill_values(account_id: str, fill: Fill) -> dict[str, Any]:
    return {
        "id": fill.fill_id,
        "account_id": account_id,
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "asset_class": fill.instrument.asset_class.value,
        "multiplier": fill.instrument.multiplier,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": fill.price,
        "fee": fill.fee,
        "bid": fill.bid,
        "ask": fill.ask,
        "mark": fill.mark,
        "slippage": fill.slippage,
        "liquidity": fill.liquidity,
        "time": fill.time,
    }


def _touched_symbols(events: Iterable[Event]) -> list[str] | None:
    """Symbols whose position rows the events may change (first-touched order); None for all."""
    seen: dict[str, None] = {}
    for event in events:
        match event:
            case FillApplied():
                seen[event.fill.symbol] = None
            case PositionsMarked():
                seen.update(dict.fromkeys(event.prices))
            case FillVoided():
                seen[event.instrument.symbol] = None
            case AccountReset():
                return None  # it archives every position held
            case (
                AccountCreated()
                | IncidentRecorded()
                | AccountStarted()
                | FundsReserved()
                | ReservationReleased()
                | CashAdjusted()
                | StatusChanged()
                | TradingDayStarted()
                | AccountLiquidated()
            ):
                pass  # these leave positions alone (a liquidation's closes are its fills)
            case _:
                return _every_position(event)
    return list(seen)


def _every_position(event: Never) -> None:
    """A kind not in the union (mypy refuses the call for any member, so each is handled above).

    At run time it can only be a ledger written by newer code: save then rewrites every position
    row from the state, slower and never wrong.
    """
    return


def _ledger_select(account_id: str) -> sa.Select[Any]:
    return (
        sa.select(
            ledger_events.c.seq,
            ledger_events.c.type,
            ledger_events.c.at,
            ledger_events.c.cash_delta,
            ledger_events.c.cash_after,
            ledger_events.c.payload,
            ledger_events.c.correlation_id,
            ledger_events.c.causation_id,
            ledger_events.c.recorded_at,
        )
        .where(ledger_events.c.account_id == account_id)
        .order_by(ledger_events.c.seq)
    )


class AccountRepository:
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
            sa.insert(balances).values(
                account_id=account_id, **_balance_values(AccountState(AccountId(account_id)))
            )
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

    # --- rule state (accounts with a rule pack) ---------------------------------------------------

    def rule_state(self, account_id: str) -> Mapping[str, Any] | None:
        """The stored rule-state payload, or None before the account starts or without a pack."""
        stmt = sa.select(rule_states.c.payload).where(rule_states.c.account_id == account_id)
        payload = self._conn.execute(stmt).scalar_one_or_none()
        return None if payload is None else dict(payload)

    def save_rule_state(
        self, account_id: str, payload: Mapping[str, Any], *, locked_until: datetime | None, at: datetime
    ) -> None:
        """Upsert the rule-state projection (call under the account lock)."""
        row = {
            "account_id": account_id,
            "payload": dict(payload),
            "locked_until": locked_until,
            "updated_at": at,
        }
        insert_on_conflict(
            self._conn,
            rule_states,
            [row],
            keys=["account_id"],
            update=["payload", "locked_until", "updated_at"],
        )

    def rule_tracked_ids(self) -> list[str]:
        """Accounts with a stored rule state that have not ended (for the day-boundary job)."""
        ended = [AccountStatus.COMPLETED.value, AccountStatus.LIQUIDATED.value]
        stmt = (
            sa.select(rule_states.c.account_id)
            .join(accounts, accounts.c.id == rule_states.c.account_id)
            .where(accounts.c.status.not_in(ended))
            .order_by(rule_states.c.account_id)
        )
        return list(self._conn.execute(stmt).scalars())

    def locked_until(self, account_id: str) -> datetime | None:
        stmt = sa.select(rule_states.c.locked_until).where(rule_states.c.account_id == account_id)
        value: datetime | None = self._conn.execute(stmt).scalar_one_or_none()
        return value

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
            account_id=AccountId(account_id),
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
        fill_rows = [_fill_values(account_id, e.fill) for e in events if isinstance(e, FillApplied)]
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
        self._write_positions(account_id, state, _touched_symbols(events))
        for event in events:
            if isinstance(event, AccountLiquidated):
                self._cancel_open_orders(account_id, event.at, f"account liquidated: {event.reason}")
        self._conn.execute(
            sa.update(balances).where(balances.c.account_id == account_id).values(**_balance_values(state))
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

    def _append_ledger(
        self,
        account_id: str,
        state: AccountState,
        events: Sequence[Event],
        previous_seq: int,
        correlation_id: str | None,
        causation_id: str | None,
        recorded_at: datetime | None,
    ) -> None:
        cash = state.cash - sum((e.cash_delta for e in events), ZERO)
        rows: list[dict[str, Any]] = []
        for offset, event in enumerate(events, start=1):
            cash += event.cash_delta
            row: dict[str, Any] = {
                "account_id": account_id,
                "seq": previous_seq + offset,
                "type": event.type,
                "at": event.at,
                "cash_delta": event.cash_delta,
                "cash_after": cash,
                "payload": event_payload(event),
                "correlation_id": correlation_id,
                "causation_id": causation_id,
            }
            if recorded_at is not None:
                row["recorded_at"] = recorded_at
            rows.append(row)
        self._conn.execute(sa.insert(ledger_events), rows)

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

    def _apply_reservations(self, account_id: str, events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, FundsReserved):
                self._open_reservation(account_id, event)
            elif isinstance(event, ReservationReleased):
                self._release_reservation(account_id, event)

    def _open_reservation(self, account_id: str, event: FundsReserved) -> None:
        existing = self._conn.execute(
            sa.select(reservations.c.status).where(
                reservations.c.account_id == account_id, reservations.c.order_id == event.order_id
            )
        ).scalar_one_or_none()
        if existing is not None:
            # The key is (account, order): an order's reservation is opened once and resolved once.
            raise ProjectionConflict(
                f"order {event.order_id} of account {account_id} already had a reservation ({existing})"
            )
        self._conn.execute(
            sa.insert(reservations).values(
                account_id=account_id,
                order_id=event.order_id,
                amount=event.amount,
                status="open",
                created_at=event.at,
                resolved_at=None,
            )
        )

    def _release_reservation(self, account_id: str, event: ReservationReleased) -> None:
        key = (reservations.c.account_id == account_id, reservations.c.order_id == event.order_id)
        held = self._conn.execute(
            sa.select(reservations.c.amount).where(*key, reservations.c.status == "open")
        ).scalar_one_or_none()
        if held is None:
            raise ProjectionConflict(
                f"order {event.order_id} of account {account_id} has no open reservation to release"
            )
        left = held - event.amount
        if left < 0:
            raise ProjectionConflict(f"release of {event.amount} exceeds the {held} held by {event.order_id}")
        values: dict[str, Any] = (
            {"status": "released", "resolved_at": event.at} if left == 0 else {"amount": left}
        )
        # "status = 'open'" makes resolution at-most-once even if the check above were bypassed.
        result = self._conn.execute(
            sa.update(reservations).where(*key, reservations.c.status == "open").values(**values)
        )
        if result.rowcount != 1:
            raise ProjectionConflict(f"reservation of order {event.order_id} was resolved concurrently")

    def _write_positions(self, account_id: str, state: AccountState, symbols: Sequence[str] | None) -> None:
        if symbols is None:
            stored = self._conn.execute(
                sa.select(positions.c.symbol).where(positions.c.account_id == account_id)
            ).scalars()
            symbols = sorted(set(stored) | set(state.positions))
        held = [state.positions[s] for s in symbols if s in state.positions]
        gone = [s for s in symbols if s not in state.positions]
        insert_on_conflict(
            self._conn,
            positions,
            [_position_values(account_id, p) for p in held],
            keys=("account_id", "symbol"),
            update=("asset_class", "multiplier", "qty", "cost", "mark", "opened_at"),
        )
        if gone:
            self._conn.execute(
                sa.delete(positions).where(positions.c.account_id == account_id, positions.c.symbol.in_(gone))
            )

    # --- ledger --------------------------------------------------------------------------------

    def ledger(self, account_id: str) -> list[LedgerRow]:
        """The account's ledger rows in seq order."""
        return [LedgerRow(**row) for row in self._conn.execute(_ledger_select(account_id)).mappings()]

    def ledger_page(self, account_id: str, *, limit: int, offset: int) -> list[LedgerRow]:
        """A window of the account's ledger rows in seq order (what the API pages through)."""
        stmt = _ledger_select(account_id).limit(limit).offset(offset)
        return [LedgerRow(**row) for row in self._conn.execute(stmt).mappings()]

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
            sa.update(balances).where(balances.c.account_id == account_id).values(**_balance_values(state))
        )

    def load_events(self, account_id: str) -> list[Event]:
        """The account's events in seq order, decoded for the kernel (``replay``/``fold``)."""
        return [row.to_event() for row in self.ledger(account_id)]

    def fill_ids(self, account_id: str) -> set[str]:
        """Ids of the fills recorded for the account (recompute checks them against the ledger)."""
        stmt = sa.select(fills.c.id).where(fills.c.account_id == account_id)
        return set(self._conn.execute(stmt).scalars())

    def ledger_through(self, account_id: str, until: datetime) -> list[LedgerRow]:
        """The ledger rows up to the first one recorded after ``until`` (seq order): what a fold
        as of ``until`` needs. Rows are selected by time and cut at the first seq gap, so a
        later row back-dated before ``until`` is not folded ahead of the rows before it."""
        stmt = _ledger_select(account_id).where(ledger_events.c.at <= until)
        rows: list[LedgerRow] = []
        for row in self._conn.execute(stmt).mappings():
            if row["seq"] != len(rows) + 1:
                break
            rows.append(LedgerRow(**row))
        return rows

    def ledger_of_types(
        self,
        account_id: str,
        types: Sequence[str],
        *,
        since: datetime | None = None,
        before: datetime | None = None,
        newest_first: bool = False,
        limit: int = 100,
    ) -> list[LedgerRow]:
        """Ledger rows of the given types with ``since <= at < before``, in time order (then seq),
        at most ``limit`` (account activities page through these)."""
        stmt = _ledger_select(account_id).where(ledger_events.c.type.in_(list(types))).order_by(None)
        if since is not None:
            stmt = stmt.where(ledger_events.c.at >= since)
        if before is not None:
            stmt = stmt.where(ledger_events.c.at < before)
        order = (
            (ledger_events.c.at.desc(), ledger_events.c.seq.desc())
            if newest_first
            else (ledger_events.c.at, ledger_events.c.seq)
        )
        stmt = stmt.order_by(*order).limit(limit)
        return [LedgerRow(**row) for row in self._conn.execute(stmt).mappings()]
