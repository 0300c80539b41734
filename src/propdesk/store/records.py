"""Records around the ledger: orders, decision actions, fills read back, audit log, tokens, heartbeats.

These are written in the same unit of work as the events they describe, so a decision action,
its order, its fill and its ledger rows commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from propdesk.model.fills import Fill
from propdesk.model.instruments import AssetClass, InstrumentSpec
from propdesk.model.orders import Side
from propdesk.store._sql import insert_on_conflict
from propdesk.store.tables import (
    account_configurations,
    admin_audit_log,
    alpaca_watchlists,
    api_keys,
    api_tokens,
    decision_actions,
    fills,
    worker_heartbeats,
)

PENDING_APPROVAL = "pending_approval"


@dataclass(frozen=True, slots=True)
class Page:
    """A window of a time-ordered list: ``limit`` rows after skipping ``offset``."""

    limit: int = 100
    offset: int = 0


# --- orders ------------------------------------------------------------------------------------


# --- fills -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FillRecord:
    fill: Fill
    account_id: str
    voided_at: datetime | None


def _fill(row: RowMapping) -> Fill:
    return Fill(
        fill_id=row["id"],
        order_id=row["order_id"],
        instrument=InstrumentSpec(row["symbol"], AssetClass(row["asset_class"]), row["multiplier"]),
        side=Side(row["side"]),
        qty=row["qty"],
        price=row["price"],
        fee=row["fee"],
        time=row["time"],
        bid=row["bid"],
        ask=row["ask"],
        mark=row["mark"],
        slippage=row["slippage"],
        liquidity=row["liquidity"],
    )


class FillRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def page(self, account_id: str, page: Page) -> list[FillRecord]:
        stmt = (
            sa.select(fills)
            .where(fills.c.account_id == account_id)
            .order_by(fills.c.time, fills.c.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return [
            FillRecord(_fill(r), r["account_id"], r["voided_at"]) for r in self._conn.execute(stmt).mappings()
        ]

    def recent(self, account_id: str, count: int) -> list[FillRecord]:
        """The ``count`` latest fills, oldest first."""
        stmt = (
            sa.select(fills)
            .where(fills.c.account_id == account_id)
            .order_by(fills.c.time.desc(), fills.c.id.desc())
            .limit(count)
        )
        rows = [
            FillRecord(_fill(r), r["account_id"], r["voided_at"]) for r in self._conn.execute(stmt).mappings()
        ]
        return rows[::-1]

    def find(self, account_id: str, fill_id: str) -> FillRecord | None:
        row = (
            self._conn.execute(
                sa.select(fills).where(fills.c.account_id == account_id, fills.c.id == fill_id)
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else FillRecord(_fill(row), row["account_id"], row["voided_at"])

    def for_order(self, account_id: str, order_id: str) -> list[FillRecord]:
        stmt = (
            sa.select(fills)
            .where(fills.c.account_id == account_id, fills.c.order_id == order_id)
            .order_by(fills.c.time, fills.c.id)
        )
        return [
            FillRecord(_fill(r), r["account_id"], r["voided_at"]) for r in self._conn.execute(stmt).mappings()
        ]

    def live_page(
        self,
        account_id: str,
        *,
        since: datetime | None = None,
        before: datetime | None = None,
        newest_first: bool = False,
        limit: int = 100,
    ) -> list[Fill]:
        """Fills not voided with ``since <= time < before``, in time order (then id), at most
        ``limit`` (account activities page through these)."""
        stmt = sa.select(fills).where(fills.c.account_id == account_id, fills.c.voided_at.is_(None))
        if since is not None:
            stmt = stmt.where(fills.c.time >= since)
        if before is not None:
            stmt = stmt.where(fills.c.time < before)
        order = (fills.c.time.desc(), fills.c.id.desc()) if newest_first else (fills.c.time, fills.c.id)
        stmt = stmt.order_by(*order).limit(limit)
        return [_fill(r) for r in self._conn.execute(stmt).mappings()]

    def live_for_orders(self, account_id: str, order_ids: Sequence[str]) -> list[Fill]:
        """Every fill not voided of the given orders, in time order (then id)."""
        if not order_ids:
            return []
        stmt = (
            sa.select(fills)
            .where(
                fills.c.account_id == account_id,
                fills.c.order_id.in_(list(order_ids)),
                fills.c.voided_at.is_(None),
            )
            .order_by(fills.c.time, fills.c.id)
        )
        return [_fill(r) for r in self._conn.execute(stmt).mappings()]


# --- decision actions --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionActionRecord:
    id: str
    account_id: str
    decision_run_id: str
    decision_action_id: str
    action: str
    symbol: str | None
    payload: Mapping[str, Any]
    payload_hash: str
    status: str
    gate_results: Sequence[Mapping[str, Any]] | None
    order_id: str | None
    fill_id: str | None
    created_at: datetime
    updated_at: datetime | None = None
    review: Mapping[str, Any] | None = None


class DecisionActionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, record: DecisionActionRecord) -> None:
        values = asdict(record)
        values["payload"] = dict(record.payload)
        values["gate_results"] = [dict(g) for g in record.gate_results] if record.gate_results else None
        values["review"] = dict(record.review) if record.review else None
        self._conn.execute(sa.insert(decision_actions).values(**values))

    def update(
        self,
        record_id: str,
        *,
        status: str,
        at: datetime,
        gate_results: Sequence[Mapping[str, Any]] | None = None,
        order_id: str | None = None,
        fill_id: str | None = None,
        review: Mapping[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "updated_at": at}
        if gate_results is not None:
            values["gate_results"] = [dict(g) for g in gate_results]
        if order_id is not None:
            values["order_id"] = order_id
        if fill_id is not None:
            values["fill_id"] = fill_id
        if review is not None:
            values["review"] = dict(review)
        self._conn.execute(
            sa.update(decision_actions).where(decision_actions.c.id == record_id).values(**values)
        )

    def find_many(
        self, account_id: str, run_id: str, action_ids: Sequence[str]
    ) -> dict[str, DecisionActionRecord]:
        """Stored actions of one run by their decision action id."""
        if not action_ids:
            return {}
        stmt = sa.select(decision_actions).where(
            decision_actions.c.account_id == account_id,
            decision_actions.c.decision_run_id == run_id,
            decision_actions.c.decision_action_id.in_(list(action_ids)),
        )
        found = (DecisionActionRecord(**dict(r)) for r in self._conn.execute(stmt).mappings())
        return {r.decision_action_id: r for r in found}

    def find(self, record_id: str) -> DecisionActionRecord | None:
        row = (
            self._conn.execute(sa.select(decision_actions).where(decision_actions.c.id == record_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else DecisionActionRecord(**dict(row))


# --- admin audit log ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    account_id: str | None
    actor: str
    action: str
    reason: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    at: datetime


class AuditRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record(
        self,
        *,
        account_id: str | None,
        actor: str,
        action: str,
        reason: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        at: datetime,
    ) -> None:
        self._conn.execute(
            sa.insert(admin_audit_log).values(
                account_id=account_id,
                actor=actor,
                action=action,
                reason=reason,
                before=None if before is None else dict(before),
                after=None if after is None else dict(after),
                at=at,
            )
        )

    def page(self, account_id: str, page: Page) -> list[AuditRecord]:
        stmt = (
            sa.select(admin_audit_log)
            .where(admin_audit_log.c.account_id == account_id)
            .order_by(admin_audit_log.c.at, admin_audit_log.c.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return [AuditRecord(**dict(r)) for r in self._conn.execute(stmt).mappings()]


# --- API tokens and worker heartbeats ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: str
    name: str
    role: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


class TokenRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, token: TokenRecord) -> None:
        self._conn.execute(sa.insert(api_tokens).values(**asdict(token)))

    def find(self, token_id: str) -> TokenRecord | None:
        row = (
            self._conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else TokenRecord(**dict(row))

    def all(self) -> list[TokenRecord]:
        rows = self._conn.execute(sa.select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id))
        return [TokenRecord(**dict(row)) for row in rows.mappings()]

    def revoke(self, token_id: str, at: datetime) -> bool:
        result = self._conn.execute(
            sa.update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    account_id: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


class ApiKeyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, key: ApiKeyRecord) -> None:
        self._conn.execute(sa.insert(api_keys).values(**asdict(key)))

    def find(self, key_id: str) -> ApiKeyRecord | None:
        row = self._conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().one_or_none()
        return None if row is None else ApiKeyRecord(**dict(row))

    def of_account(self, account_id: str) -> list[ApiKeyRecord]:
        rows = self._conn.execute(
            sa.select(api_keys).where(api_keys.c.account_id == account_id).order_by(api_keys.c.created_at)
        ).mappings()
        return [ApiKeyRecord(**dict(row)) for row in rows]

    def revoke(self, key_id: str, at: datetime) -> bool:
        result = self._conn.execute(
            sa.update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    name: str
    beat_at: datetime
    details: Mapping[str, Any]


class HeartbeatRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def beat(self, name: str, at: datetime, details: Mapping[str, Any]) -> None:
        insert_on_conflict(
            self._conn,
            worker_heartbeats,
            [{"name": name, "beat_at": at, "details": dict(details)}],
            keys=("name",),
            update=("beat_at", "details"),
        )

    def find(self, name: str) -> Heartbeat | None:
        row = (
            self._conn.execute(sa.select(worker_heartbeats).where(worker_heartbeats.c.name == name))
            .mappings()
            .one_or_none()
        )
        return None if row is None else Heartbeat(row["name"], row["beat_at"], row["details"])


@dataclass(frozen=True, slots=True)
class AccountConfigurationRecord:
    """An account's Alpaca configuration as stored (``services.trading_account`` owns the defaults)."""

    account_id: str
    fractional_trading: bool
    no_shorting: bool
    suspend_trade: bool
    ptp_no_exception_entry: bool
    dtbp_check: str
    pdt_check: str
    trade_confirm_email: str
    max_options_trading_level: int | None
    updated_at: datetime


class AccountConfigurationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def find(self, account_id: str) -> AccountConfigurationRecord | None:
        stmt = sa.select(account_configurations).where(account_configurations.c.account_id == account_id)
        row = self._conn.execute(stmt).mappings().one_or_none()
        return None if row is None else AccountConfigurationRecord(**dict(row))

    def put(self, record: AccountConfigurationRecord) -> None:
        values = asdict(record)
        insert_on_conflict(
            self._conn,
            account_configurations,
            [values],
            keys=("account_id",),
            update=[name for name in values if name != "account_id"],
        )


# --- Alpaca watchlists -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlpacaWatchlistRecord:
    """One account's named, ordered list of symbols (``/v2/watchlists``)."""

    id: str
    account_id: str
    name: str
    symbols: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


def _watchlist(row: RowMapping) -> AlpacaWatchlistRecord:
    return AlpacaWatchlistRecord(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        symbols=tuple(row["symbols"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class AlpacaWatchlistRepository:
    """Every query names the account: one account's watchlist id never finds another's row."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def of_account(self, account_id: str) -> list[AlpacaWatchlistRecord]:
        rows = self._conn.execute(
            sa.select(alpaca_watchlists)
            .where(alpaca_watchlists.c.account_id == account_id)
            .order_by(alpaca_watchlists.c.created_at, alpaca_watchlists.c.name)
        ).mappings()
        return [_watchlist(row) for row in rows]

    def find(self, account_id: str, watchlist_id: str) -> AlpacaWatchlistRecord | None:
        stmt = sa.select(alpaca_watchlists).where(
            alpaca_watchlists.c.account_id == account_id, alpaca_watchlists.c.id == watchlist_id
        )
        row = self._conn.execute(stmt).mappings().one_or_none()
        return None if row is None else _watchlist(row)

    def find_by_name(self, account_id: str, name: str) -> AlpacaWatchlistRecord | None:
        stmt = sa.select(alpaca_watchlists).where(
            alpaca_watchlists.c.account_id == account_id, alpaca_watchlists.c.name == name
        )
        row = self._conn.execute(stmt).mappings().one_or_none()
        return None if row is None else _watchlist(row)

    def insert(self, record: AlpacaWatchlistRecord) -> None:
        self._conn.execute(
            sa.insert(alpaca_watchlists).values(**{**asdict(record), "symbols": list(record.symbols)})
        )

    def update(self, record: AlpacaWatchlistRecord) -> None:
        """Store the record's name, symbols and ``updated_at`` (id and account never change)."""
        self._conn.execute(
            sa.update(alpaca_watchlists)
            .where(alpaca_watchlists.c.account_id == record.account_id, alpaca_watchlists.c.id == record.id)
            .values(name=record.name, symbols=list(record.symbols), updated_at=record.updated_at)
        )

    def delete(self, account_id: str, watchlist_id: str) -> bool:
        result = self._conn.execute(
            sa.delete(alpaca_watchlists).where(
                alpaca_watchlists.c.account_id == account_id, alpaca_watchlists.c.id == watchlist_id
            )
        )
        return bool(result.rowcount)
