"""The retention job's deletes: an account's closed history older than a cutoff.

Only projections and records are touched: closed orders and their order updates, closed
position-history records, and account snapshots (compacted to the last of each month). The
ledger (``ledger_events``) is never touched here, nor are fills (recompute checks the fills
rows against the ledger's fill events).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store.tables import account_snapshots, accounts, order_updates, orders, position_history

CLOSED_ORDER_STATUSES = ("filled", "canceled", "expired", "rejected", "replaced")


def owned_accounts(conn: Connection) -> dict[str, str]:
    """Every account that has an owner, mapped to the owner's user id."""
    stmt = sa.select(accounts.c.id, accounts.c.owner_user_id).where(accounts.c.owner_user_id.is_not(None))
    return {row.id: row.owner_user_id for row in conn.execute(stmt)}


def purge_closed_orders(conn: Connection, account_id: str, cutoff: datetime) -> tuple[int, int]:
    """Delete the account's closed orders last updated before ``cutoff`` and their order updates
    (children first); an order that is the parent of an order still open is kept. Returns
    (orders, updates) deleted."""
    open_parents = (
        sa.select(orders.c.parent_id)
        .where(
            orders.c.account_id == account_id,
            orders.c.parent_id.is_not(None),
            orders.c.status.not_in(CLOSED_ORDER_STATUSES),
        )
        .scalar_subquery()
    )
    stmt = sa.select(orders.c.id).where(
        orders.c.account_id == account_id,
        orders.c.status.in_(CLOSED_ORDER_STATUSES),
        orders.c.updated_at < cutoff,
        orders.c.id.not_in(open_parents),
    )
    ids = list(conn.execute(stmt).scalars())
    deleted_orders = deleted_updates = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        deleted_updates += conn.execute(
            sa.delete(order_updates).where(
                order_updates.c.account_id == account_id, order_updates.c.order_id.in_(chunk)
            )
        ).rowcount
        deleted_orders += conn.execute(
            sa.delete(orders).where(orders.c.account_id == account_id, orders.c.id.in_(chunk))
        ).rowcount
    return deleted_orders, deleted_updates


def purge_closed_positions(conn: Connection, account_id: str, cutoff: datetime) -> int:
    """Delete the account's position-history records closed before ``cutoff``."""
    stmt = sa.delete(position_history).where(
        position_history.c.account_id == account_id,
        position_history.c.closed_at.is_not(None),
        position_history.c.closed_at < cutoff,
    )
    return int(conn.execute(stmt).rowcount)


def compact_snapshots(conn: Connection, account_id: str, before: date) -> int:
    """Keep only the last snapshot of each month among the account's snapshots dated before
    ``before``; returns how many were deleted."""
    stmt = sa.select(account_snapshots.c.trading_date).where(
        account_snapshots.c.account_id == account_id, account_snapshots.c.trading_date < before
    )
    last_of_month: dict[tuple[int, int], date] = {}
    days = list(conn.execute(stmt).scalars())
    for day in days:
        key = (day.year, day.month)
        last_of_month[key] = max(day, last_of_month.get(key, day))
    drop = sorted(set(days) - set(last_of_month.values()))
    deleted = 0
    for start in range(0, len(drop), 500):
        deleted += conn.execute(
            sa.delete(account_snapshots).where(
                account_snapshots.c.account_id == account_id,
                account_snapshots.c.trading_date.in_(drop[start : start + 500]),
            )
        ).rowcount
    return deleted
