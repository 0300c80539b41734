"""Alpaca-style API key pairs (the secret hashed) and their revocation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store.tables import api_keys


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
