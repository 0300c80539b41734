"""Small portable SQL helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def _dialect_insert(conn: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """The dialect's ``INSERT`` construct, which has ``ON CONFLICT`` on both supported backends."""
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"ON CONFLICT is not implemented for {name}")


def upsert(
    conn: Connection,
    table: sa.Table,
    values: Mapping[str, Any],
    *,
    keys: Sequence[str],
    set_: Mapping[str, Any],
) -> sa.Insert:
    """``INSERT values ON CONFLICT (keys) DO UPDATE SET set_``; ``set_`` may use the stored row
    (``table.c.hits + 1``), so concurrent writers count without a lost update. Not executed:
    the caller may add ``RETURNING``."""
    return (
        _dialect_insert(conn, table)
        .values(**values)
        .on_conflict_do_update(index_elements=list(keys), set_=dict(set_))
    )


def insert_on_conflict(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str] = (),
) -> None:
    """Insert ``rows``; on a clash of ``keys`` update the ``update`` columns, or skip if none.

    Both supported backends have ``INSERT … ON CONFLICT``; SQLAlchemy exposes it per dialect, so
    this picks the dialect's construct. Used for idempotent writes (re-ingesting a quote adds
    nothing) and for projection upserts under the account lock.
    """
    if not rows:
        return
    insert = _dialect_insert(conn, table)
    stmt: sa.Insert = (
        insert.on_conflict_do_update(index_elements=list(keys), set_={c: insert.excluded[c] for c in update})
        if update
        else insert.on_conflict_do_nothing(index_elements=list(keys))
    )
    conn.execute(stmt, [dict(row) for row in rows])
