"""Small portable SQL helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


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
    name = conn.dialect.name
    if name == "postgresql":
        pg = postgresql.insert(table)
        stmt: sa.Insert = (
            pg.on_conflict_do_update(index_elements=list(keys), set_={c: pg.excluded[c] for c in update})
            if update
            else pg.on_conflict_do_nothing(index_elements=list(keys))
        )
    elif name == "sqlite":
        lite = sqlite.insert(table)
        stmt = (
            lite.on_conflict_do_update(index_elements=list(keys), set_={c: lite.excluded[c] for c in update})
            if update
            else lite.on_conflict_do_nothing(index_elements=list(keys))
        )
    else:
        raise NotImplementedError(f"ON CONFLICT is not implemented for {name}")
    conn.execute(stmt, [dict(row) for row in rows])
