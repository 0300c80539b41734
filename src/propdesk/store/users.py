"""Users: the record of who owns accounts (authentication lives elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store.errors import UserNotFound
from propdesk.store.tables import users


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    name: str
    email: str | None
    created_at: datetime


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

    def retention_tier(self, user_id: str) -> str | None:
        """The user's retention tier; None for an unknown user."""
        stmt = sa.select(users.c.retention_tier).where(users.c.id == user_id)
        return self._conn.execute(stmt).scalar_one_or_none()

    def set_retention_tier(self, user_id: str, tier: str) -> bool:
        """Set the user's retention tier; False for an unknown user."""
        stmt = sa.update(users).where(users.c.id == user_id).values(retention_tier=tier)
        return self._conn.execute(stmt).rowcount == 1

    def by_retention_tier(self) -> dict[str, str]:
        """Every user id and its retention tier."""
        rows = self._conn.execute(sa.select(users.c.id, users.c.retention_tier)).all()
        return {row.id: row.retention_tier for row in rows}

    def get(self, user_id: str) -> UserRow:
        found = self.find(user_id)
        if found is None:
            raise UserNotFound(user_id)
        return found
