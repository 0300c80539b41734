"""End-of-day snapshots (``account_snapshots``): one row per account per trading day, never rewritten.

Written by the ``eod-snapshot`` job with ``INSERT … ON CONFLICT DO NOTHING`` on (account_id,
trading_date): the first row of a day stands, so a rerun (or a repeat by a second worker) adds
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store._sql import insert_on_conflict
from propdesk.store.tables import account_snapshots, accounts


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """An account as it stood after the close of ``trading_date``."""

    account_id: str
    trading_date: date
    as_of: datetime
    status: str
    equity: Decimal
    cash: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    positions: Mapping[str, Any]
    rules: Mapping[str, Any] | None
    created_at: datetime


class SnapshotRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, snapshot: AccountSnapshot) -> bool:
        """Insert ``snapshot`` unless the account already has one for that day; True if inserted."""
        if self.find(snapshot.account_id, snapshot.trading_date) is not None:
            return False
        row = {
            "account_id": snapshot.account_id,
            "trading_date": snapshot.trading_date,
            "as_of": snapshot.as_of,
            "status": snapshot.status,
            "equity": snapshot.equity,
            "cash": snapshot.cash,
            "realized_pnl": snapshot.realized_pnl,
            "unrealized_pnl": snapshot.unrealized_pnl,
            "positions": dict(snapshot.positions),
            "rules": None if snapshot.rules is None else dict(snapshot.rules),
            "created_at": snapshot.created_at,
        }
        insert_on_conflict(self._conn, account_snapshots, [row], keys=("account_id", "trading_date"))
        return True

    def find(self, account_id: str, trading_date: date) -> AccountSnapshot | None:
        row = (
            self._conn.execute(
                sa.select(account_snapshots).where(
                    account_snapshots.c.account_id == account_id,
                    account_snapshots.c.trading_date == trading_date,
                )
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else AccountSnapshot(**dict(row))

    def between(self, account_id: str, start: date, end: date) -> list[AccountSnapshot]:
        """The account's snapshots with ``start <= trading_date <= end``, oldest first."""
        stmt = (
            sa.select(account_snapshots)
            .where(
                account_snapshots.c.account_id == account_id,
                account_snapshots.c.trading_date >= start,
                account_snapshots.c.trading_date <= end,
            )
            .order_by(account_snapshots.c.trading_date)
        )
        return [AccountSnapshot(**dict(r)) for r in self._conn.execute(stmt).mappings()]

    def count(self, trading_date: date | None = None) -> int:
        stmt = sa.select(sa.func.count()).select_from(account_snapshots)
        if trading_date is not None:
            stmt = stmt.where(account_snapshots.c.trading_date == trading_date)
        return int(self._conn.execute(stmt).scalar_one())

    def accounts_due(self) -> list[str]:
        """Started accounts that have not ended (active, paused, locked): whose day is snapshotted."""
        stmt = (
            sa.select(accounts.c.id)
            .where(accounts.c.status.in_(["active", "paused", "locked"]))
            .order_by(accounts.c.id)
        )
        return list(self._conn.execute(stmt).scalars())
