"""Shared state of authentication: the revocation version and the rate-limit counters.

Both are written with one ``INSERT … ON CONFLICT DO UPDATE`` (atomic on PostgreSQL and on SQLite),
so several server processes can count and bump concurrently without a lost update.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store._sql import upsert
from propdesk.store.tables import auth_version, rate_limit_windows

_VERSION_ROW = 1


class AuthVersionRepository:
    """The one counter every revocation bumps."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def read(self) -> int:
        value = self._conn.execute(
            sa.select(auth_version.c.version).where(auth_version.c.id == _VERSION_ROW)
        ).scalar_one_or_none()
        return 0 if value is None else int(value)

    def bump(self) -> int:
        stmt = upsert(
            self._conn,
            auth_version,
            {"id": _VERSION_ROW, "version": 1},
            keys=["id"],
            set_={"version": auth_version.c.version + 1},
        ).returning(auth_version.c.version)
        return int(self._conn.execute(stmt).scalar_one())


class RateWindowRepository:
    """Request counts per key and fixed window."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def hit(self, key: str, window_start: int) -> int:
        """Count one request in the window and return the window's count, in one statement.

        On PostgreSQL the transaction commits without waiting for its WAL flush
        (``synchronous_commit`` off for this transaction only): a count lost in a crash is
        harmless, and the flush would otherwise be most of the cost of every request.
        """
        if self._conn.dialect.name == "postgresql":
            self._conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        stmt = upsert(
            self._conn,
            rate_limit_windows,
            {"key": key, "window_start": window_start, "hits": 1},
            keys=["key", "window_start"],
            set_={"hits": rate_limit_windows.c.hits + 1},
        ).returning(rate_limit_windows.c.hits)
        return int(self._conn.execute(stmt).scalar_one())

    def prune(self, before: int) -> int:
        """Delete the windows that started before ``before``; returns how many."""
        result = self._conn.execute(
            sa.delete(rate_limit_windows).where(rate_limit_windows.c.window_start < before)
        )
        return int(result.rowcount)
