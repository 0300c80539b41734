"""Every row propdesk holds about one user, found by walking the schema: read all, or delete all.

A user's rows are the ``users`` row, their accounts (see :func:`owned_accounts`), every row of any table with an
``account_id`` column naming one of those accounts, and every row of any table with a ``user_id``
column naming the user. Walking :data:`~propdesk.store.tables.TABLES_CHILD_FIRST` means a table
added later is covered without a change here, and deletes run children before parents so that no
foreign key is broken midway.

Ledger rows can only be deleted through :func:`delete_user_rows`: it lists the accounts in
``ledger_erasures`` (the permit the ledger's triggers check, revision 0018) for the length of the
delete and empties it again, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store.tables import TABLES_CHILD_FIRST, accounts, ledger_erasures, users


def owned_accounts(conn: Connection, user_id: str) -> list[str]:
    """The ids of the user's accounts, sorted: those they own, and the accounts made under one of
    those (``parent_account_id``, at any depth) that have no owner of their own."""
    stmt = sa.select(accounts.c.id).where(accounts.c.owner_user_id == user_id)
    found = {str(v) for v in conn.execute(stmt).scalars()}
    frontier = set(found)
    while frontier:
        children = sa.select(accounts.c.id).where(
            accounts.c.parent_account_id.in_(sorted(frontier)),
            sa.or_(accounts.c.owner_user_id.is_(None), accounts.c.owner_user_id == user_id),
        )
        frontier = {str(v) for v in conn.execute(children).scalars()} - found
        found |= frontier
    return sorted(found)


def foreign_children(conn: Connection, account_ids: Sequence[str]) -> list[str]:
    """Accounts of someone else made under one of ``account_ids`` (they block an erasure)."""
    stmt = sa.select(accounts.c.id).where(
        accounts.c.parent_account_id.in_(account_ids), accounts.c.id.not_in(account_ids)
    )
    return sorted(str(v) for v in conn.execute(stmt.order_by(accounts.c.id)).scalars())


def _condition(table: sa.Table, user_id: str, account_ids: Sequence[str]) -> sa.ColumnElement[bool] | None:
    """Which rows of ``table`` are the user's, or None when the table holds nothing of theirs."""
    if table is ledger_erasures:
        return None
    if table is users:
        return users.c.id == user_id
    if table is accounts:
        return accounts.c.id.in_(account_ids)
    if "account_id" in table.c:
        return table.c.account_id.in_(account_ids)
    if "user_id" in table.c:
        return table.c.user_id == user_id
    return None


def user_tables() -> list[sa.Table]:
    """The tables that can hold a user's rows, children first."""
    return [t for t in TABLES_CHILD_FIRST if _condition(t, "", ()) is not None]


def user_rows(
    conn: Connection, user_id: str, *, omit: frozenset[str] = frozenset()
) -> dict[str, list[dict[str, Any]]]:
    """The user's rows of every table, parents first, ``omit`` columns left out (e.g. secret hashes)."""
    account_ids = owned_accounts(conn, user_id)
    found: dict[str, list[dict[str, Any]]] = {}
    for table in reversed(user_tables()):
        condition = _condition(table, user_id, account_ids)
        assert condition is not None
        columns = [c for c in table.c if c.name not in omit]
        stmt = sa.select(*columns).where(condition).order_by(*table.primary_key.columns)
        found[table.name] = [dict(r) for r in conn.execute(stmt).mappings()]
    return found


def delete_user_rows(conn: Connection, user_id: str) -> dict[str, int]:
    """Delete every row of the user (their ledger rows included); the count deleted per table."""
    account_ids = owned_accounts(conn, user_id)
    if account_ids:
        conn.execute(sa.insert(ledger_erasures), [{"account_id": a} for a in account_ids])
    deleted: dict[str, int] = {}
    for table in user_tables():
        condition = _condition(table, user_id, account_ids)
        assert condition is not None
        deleted[table.name] = conn.execute(sa.delete(table).where(condition)).rowcount
    conn.execute(sa.delete(ledger_erasures).where(ledger_erasures.c.account_id.in_(account_ids)))
    return deleted
