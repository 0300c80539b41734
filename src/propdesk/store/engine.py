"""Engine factory: the one place that knows how each backend must be configured.

SQLite serializes writers per database file. To make "lock the account, read, decide, write" safe,
every transaction starts with ``BEGIN IMMEDIATE``, which takes the write lock up front; a plain
``BEGIN`` would take it only at the first write, after two transactions had both read the same
balance. This follows SQLAlchemy's documented pysqlite recipe: the driver's own transaction
handling is switched off (``isolation_level = None``) and a ``begin`` listener emits the BEGIN.
WAL lets readers proceed while a writer holds the lock; ``busy_timeout`` makes a blocked writer
wait instead of failing with "database is locked".

PostgreSQL uses psycopg 3 with ``pool_pre_ping`` so that connections dropped by a server restart
are replaced transparently; account serialization there is ``SELECT … FOR UPDATE`` (see
:mod:`propdesk.store.uow`).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A new database file (and the -wal/-shm files SQLite derives from its mode) is readable by its owner only.
SQLITE_FILE_MODE = 0o600

log = logging.getLogger(__name__)


def ensure_private_sqlite_file(database: str) -> None:
    """Create the SQLite file ``database`` with mode 0600 if it does not exist yet.

    SQLite creates its ``-wal`` and ``-shm`` files with the database file's permissions, so a
    database created here never becomes readable by other users. An existing file keeps its mode;
    if others may read it a warning says so (propdesk does not change a file it did not create).
    URI filenames (``file:…``) are left to SQLite.
    """
    if database.startswith("file:"):
        return
    path = Path(database)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SQLITE_FILE_MODE)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("database file %s has mode %o: other users may read it (chmod 600)", path, mode)
        return
    except FileNotFoundError:
        return  # the directory is missing: sqlite3 reports that itself on connect
    try:
        os.fchmod(fd, SQLITE_FILE_MODE)  # the umask may have removed bits, never added any
    finally:
        os.close(fd)


def _sqlite_on_connect(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    """Configure a new SQLite connection: our own BEGIN, WAL, busy timeout, foreign keys."""
    # Stop the sqlite3 driver from issuing (deferred) BEGINs itself; _sqlite_begin_immediate does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # In WAL mode NORMAL is durable across application crashes and much faster than FULL.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


# Execution option marking a connection whose transactions only read (see UnitOfWork(read_only=True)).
READ_ONLY_OPTION = "propdesk_read_only"


def _sqlite_begin_immediate(conn: Connection) -> None:
    """Begin every transaction holding the database write lock, so reads under it are current.

    A connection marked read-only begins DEFERRED instead: in WAL mode it reads a consistent
    snapshot without taking the write lock, so reports never hold up writers.
    """
    if conn.get_execution_options().get(READ_ONLY_OPTION):
        conn.exec_driver_sql("BEGIN DEFERRED")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_serializing_sqlite_engine(engine: Engine) -> bool:
    """Whether ``engine`` is a SQLite engine built by :func:`create_engine_for` (BEGIN IMMEDIATE)."""
    return engine.dialect.name == "sqlite" and event.contains(engine, "begin", _sqlite_begin_immediate)


def create_engine_for(url: str, echo: bool = False, *, pool_size: int | None = None) -> Engine:
    """An engine configured for propdesk's locking model on SQLite or PostgreSQL.

    ``pool_size`` raises the number of pooled connections for callers that run many threads
    against one engine (each thread then holds its own connection instead of queueing).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo}
    if pool_size is not None:
        kwargs["pool_size"] = pool_size
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or "mode=memory" in str(parsed):
            raise ValueError(
                "an in-memory SQLite database cannot be shared between connections; use a file path"
            )
        ensure_private_sqlite_file(database)
        # The driver's own busy handler, in seconds, matches the PRAGMA set on connect.
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = sa.create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, pool_pre_ping=True, **kwargs)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:///path or postgresql+psycopg://…")
