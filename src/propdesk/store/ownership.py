"""Who may use an account over the service API: the token that created it, and tokens granted it.

A service token sees an account when ``accounts.owner_token_id`` is its id or a ``token_grants``
row names it. Both are indexed lookups, made per request inside the caller's transaction, so a
grant added while a server runs is visible at once (the authenticated principal is cached per
process, its grants never are).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store._sql import insert_on_conflict
from propdesk.store.tables import accounts, token_grants


def visible_to(token_id: str) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``accounts``: the rows the token owns or was granted."""
    granted = sa.select(token_grants.c.account_id).where(token_grants.c.token_id == token_id)
    return sa.or_(accounts.c.owner_token_id == token_id, accounts.c.id.in_(granted))


class OwnershipRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def can_see(self, token_id: str, account_id: str) -> bool:
        """True when the account exists and the token owns it or was granted it."""
        owned = sa.select(accounts.c.id).where(
            accounts.c.id == account_id, accounts.c.owner_token_id == token_id
        )
        granted = sa.select(token_grants.c.account_id).where(
            token_grants.c.token_id == token_id, token_grants.c.account_id == account_id
        )
        return self._conn.execute(owned.union_all(granted).limit(1)).first() is not None

    def visible_ids(self, token_id: str, account_ids: Iterable[str]) -> set[str]:
        """The subset of ``account_ids`` the token may see."""
        wanted = sorted(set(account_ids))
        if not wanted:
            return set()
        stmt = sa.select(accounts.c.id).where(accounts.c.id.in_(wanted), visible_to(token_id))
        return set(self._conn.execute(stmt).scalars())

    def grant(self, token_id: str, account_ids: Iterable[str], at: datetime) -> None:
        """Grant the accounts to the token (granting one twice changes nothing)."""
        rows: list[dict[str, Any]] = [
            {"token_id": token_id, "account_id": account_id, "created_at": at}
            for account_id in sorted(set(account_ids))
        ]
        if rows:
            insert_on_conflict(self._conn, token_grants, rows, keys=["token_id", "account_id"], update=[])

    def granted(self, token_id: str) -> list[str]:
        stmt = (
            sa.select(token_grants.c.account_id)
            .where(token_grants.c.token_id == token_id)
            .order_by(token_grants.c.account_id)
        )
        return list(self._conn.execute(stmt).scalars())
