"""Where quotes come from, and the record of who was given them.

A :class:`QuoteSource` answers "latest quotes for these symbols": the Alpaca Data API client,
the replay feed over stored bars, the seeded synthetic feed. The ingestion job polls any of
them the same way and writes what they return to the price store under the source's ``name``.

An :class:`AccessLog` records every fetch made on behalf of a user: one row per symbol
delivered, with the data type, the time and the source (exchange data licences are counted per
user). :class:`DbAccessLog` writes those rows in their own short transaction, after the data
was fetched and validated, so a failed or malformed fetch leaves no row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy.engine import Engine

from propdesk.model.market import Quote
from propdesk.store.prices import AccessLogRepository, AccessLogRow, access_log_rows
from propdesk.store.uow import UnitOfWork


@runtime_checkable
class QuoteSource(Protocol):
    """Something that can be polled for the latest quotes of a set of symbols."""

    @property
    def name(self) -> str:
        """Stored with each quote as its source (e.g. ``alpaca:iex``, ``replay``, ``synthetic``)."""
        ...

    def latest_quotes(self, symbols: Sequence[str], *, on_behalf_of: str | None = None) -> dict[str, Quote]:
        """The latest usable quote of each symbol the source knows (others are absent)."""
        ...


@runtime_checkable
class AccessLog(Protocol):
    """Receives one record per symbol delivered to a user."""

    def record(
        self, user_id: str, symbols: Iterable[str], *, data_type: str, source: str, at: datetime
    ) -> None: ...


class DbAccessLog:
    """The access log in the ``market_data_access_log`` table (one transaction per fetch)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(
        self, user_id: str, symbols: Iterable[str], *, data_type: str, source: str, at: datetime
    ) -> None:
        rows = access_log_rows(user_id, symbols, data_type=data_type, at=at, source=source)
        if not rows:
            return
        with UnitOfWork(self._engine) as uow:
            AccessLogRepository(uow.connection).record(rows)
            uow.commit()


@dataclass
class MemoryAccessLog:
    """The access log in a list (tests, and callers that batch rows into their own transaction)."""

    rows: list[AccessLogRow] = field(default_factory=list)

    def record(
        self, user_id: str, symbols: Iterable[str], *, data_type: str, source: str, at: datetime
    ) -> None:
        self.rows.extend(access_log_rows(user_id, symbols, data_type=data_type, at=at, source=source))
