"""Alpaca's /v2 watchlists of an account (not the ingestion watchlist of the price store)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from propdesk.store.tables import alpaca_watchlists


@dataclass(frozen=True, slots=True)
class AlpacaWatchlistRecord:
    """One account's named, ordered list of symbols (``/v2/watchlists``)."""

    id: str
    account_id: str
    name: str
    symbols: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


def _watchlist(row: RowMapping) -> AlpacaWatchlistRecord:
    return AlpacaWatchlistRecord(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        symbols=tuple(row["symbols"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class AlpacaWatchlistRepository:
    """Every query names the account: one account's watchlist id never finds another's row."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def of_account(self, account_id: str) -> list[AlpacaWatchlistRecord]:
        rows = self._conn.execute(
            sa.select(alpaca_watchlists)
            .where(alpaca_watchlists.c.account_id == account_id)
            .order_by(alpaca_watchlists.c.created_at, alpaca_watchlists.c.name)
        ).mappings()
        return [_watchlist(row) for row in rows]

    def find(self, account_id: str, watchlist_id: str) -> AlpacaWatchlistRecord | None:
        stmt = sa.select(alpaca_watchlists).where(
            alpaca_watchlists.c.account_id == account_id, alpaca_watchlists.c.id == watchlist_id
        )
        row = self._conn.execute(stmt).mappings().one_or_none()
        return None if row is None else _watchlist(row)

    def find_by_name(self, account_id: str, name: str) -> AlpacaWatchlistRecord | None:
        stmt = sa.select(alpaca_watchlists).where(
            alpaca_watchlists.c.account_id == account_id, alpaca_watchlists.c.name == name
        )
        row = self._conn.execute(stmt).mappings().one_or_none()
        return None if row is None else _watchlist(row)

    def insert(self, record: AlpacaWatchlistRecord) -> None:
        self._conn.execute(
            sa.insert(alpaca_watchlists).values(**{**asdict(record), "symbols": list(record.symbols)})
        )

    def update(self, record: AlpacaWatchlistRecord) -> None:
        """Store the record's name, symbols and ``updated_at`` (id and account never change)."""
        self._conn.execute(
            sa.update(alpaca_watchlists)
            .where(alpaca_watchlists.c.account_id == record.account_id, alpaca_watchlists.c.id == record.id)
            .values(name=record.name, symbols=list(record.symbols), updated_at=record.updated_at)
        )

    def delete(self, account_id: str, watchlist_id: str) -> bool:
        result = self._conn.execute(
            sa.delete(alpaca_watchlists).where(
                alpaca_watchlists.c.account_id == account_id, alpaca_watchlists.c.id == watchlist_id
            )
        )
        return bool(result.rowcount)
