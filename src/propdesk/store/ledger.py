"""The ledger (``ledger_events``): the gapless, append-only truth of an account, and its reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.accounting.events import (
    Event,
    decode_event,
    event_payload,
)
from propdesk.accounting.state import AccountState
from propdesk.model.numbers import ZERO
from propdesk.store.tables import ledger_events


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One stored ledger event with its bookkeeping columns."""

    seq: int
    type: str
    at: datetime
    cash_delta: Decimal
    cash_after: Decimal
    payload: Mapping[str, Any]
    correlation_id: str | None
    causation_id: str | None
    recorded_at: datetime

    def to_event(self) -> Event:
        return decode_event(self.type, self.at, self.cash_delta, self.payload)


def ledger_select(account_id: str) -> sa.Select[Any]:
    return (
        sa.select(
            ledger_events.c.seq,
            ledger_events.c.type,
            ledger_events.c.at,
            ledger_events.c.cash_delta,
            ledger_events.c.cash_after,
            ledger_events.c.payload,
            ledger_events.c.correlation_id,
            ledger_events.c.causation_id,
            ledger_events.c.recorded_at,
        )
        .where(ledger_events.c.account_id == account_id)
        .order_by(ledger_events.c.seq)
    )


class LedgerStore:
    """Appending to and reading an account's ledger (a part of :class:`AccountRepository`)."""

    _conn: Connection

    def _append_ledger(
        self,
        account_id: str,
        state: AccountState,
        events: Sequence[Event],
        previous_seq: int,
        correlation_id: str | None,
        causation_id: str | None,
        recorded_at: datetime | None,
    ) -> None:
        cash = state.cash - sum((e.cash_delta for e in events), ZERO)
        rows: list[dict[str, Any]] = []
        for offset, event in enumerate(events, start=1):
            cash += event.cash_delta
            row: dict[str, Any] = {
                "account_id": account_id,
                "seq": previous_seq + offset,
                "type": event.type,
                "at": event.at,
                "cash_delta": event.cash_delta,
                "cash_after": cash,
                "payload": event_payload(event),
                "correlation_id": correlation_id,
                "causation_id": causation_id,
            }
            if recorded_at is not None:
                row["recorded_at"] = recorded_at
            rows.append(row)
        self._conn.execute(sa.insert(ledger_events), rows)

    def ledger(self, account_id: str) -> list[LedgerRow]:
        """The account's ledger rows in seq order."""
        return [LedgerRow(**row) for row in self._conn.execute(ledger_select(account_id)).mappings()]

    def ledger_page(self, account_id: str, *, limit: int, offset: int) -> list[LedgerRow]:
        """A window of the account's ledger rows in seq order (what the API pages through)."""
        stmt = ledger_select(account_id).limit(limit).offset(offset)
        return [LedgerRow(**row) for row in self._conn.execute(stmt).mappings()]

    def load_events(self, account_id: str) -> list[Event]:
        """The account's events in seq order, decoded for the kernel (``replay``/``fold``)."""
        return [row.to_event() for row in self.ledger(account_id)]

    def ledger_through(self, account_id: str, until: datetime) -> list[LedgerRow]:
        """The ledger rows up to the first one recorded after ``until`` (seq order): what a fold
        as of ``until`` needs. Rows are selected by time and cut at the first seq gap, so a
        later row back-dated before ``until`` is not folded ahead of the rows before it."""
        stmt = ledger_select(account_id).where(ledger_events.c.at <= until)
        rows: list[LedgerRow] = []
        for row in self._conn.execute(stmt).mappings():
            if row["seq"] != len(rows) + 1:
                break
            rows.append(LedgerRow(**row))
        return rows

    def ledger_of_types(
        self,
        account_id: str,
        types: Sequence[str],
        *,
        since: datetime | None = None,
        before: datetime | None = None,
        newest_first: bool = False,
        limit: int = 100,
    ) -> list[LedgerRow]:
        """Ledger rows of the given types with ``since <= at < before``, in time order (then seq),
        at most ``limit`` (account activities page through these)."""
        stmt = ledger_select(account_id).where(ledger_events.c.type.in_(list(types))).order_by(None)
        if since is not None:
            stmt = stmt.where(ledger_events.c.at >= since)
        if before is not None:
            stmt = stmt.where(ledger_events.c.at < before)
        order = (
            (ledger_events.c.at.desc(), ledger_events.c.seq.desc())
            if newest_first
            else (ledger_events.c.at, ledger_events.c.seq)
        )
        stmt = stmt.order_by(*order).limit(limit)
        return [LedgerRow(**row) for row in self._conn.execute(stmt).mappings()]
