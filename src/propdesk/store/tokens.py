"""API tokens (hashed) and their revocation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store.tables import api_tokens


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: str
    name: str
    role: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


class TokenRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, token: TokenRecord) -> None:
        self._conn.execute(sa.insert(api_tokens).values(**asdict(token)))

    def find(self, token_id: str) -> TokenRecord | None:
        row = (
            self._conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else TokenRecord(**dict(row))

    def all(self) -> list[TokenRecord]:
        rows = self._conn.execute(sa.select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id))
        return [TokenRecord(**dict(row)) for row in rows.mappings()]

    def revoke(self, token_id: str, at: datetime) -> bool:
        result = self._conn.execute(
            sa.update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)
