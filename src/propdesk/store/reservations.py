"""The reservations projection: cash held by open orders, opened once and resolved once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.accounting.events import (
    Event,
    FundsReserved,
    ReservationReleased,
)
from propdesk.store.errors import ProjectionConflict
from propdesk.store.tables import reservations


class ReservationStore:
    """Opening and releasing reservations (a part of :class:`AccountRepository`)."""

    _conn: Connection

    def _apply_reservations(self, account_id: str, events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, FundsReserved):
                self._open_reservation(account_id, event)
            elif isinstance(event, ReservationReleased):
                self._release_reservation(account_id, event)

    def _open_reservation(self, account_id: str, event: FundsReserved) -> None:
        existing = self._conn.execute(
            sa.select(reservations.c.status).where(
                reservations.c.account_id == account_id, reservations.c.order_id == event.order_id
            )
        ).scalar_one_or_none()
        if existing is not None:
            # The key is (account, order): an order's reservation is opened once and resolved once.
            raise ProjectionConflict(
                f"order {event.order_id} of account {account_id} already had a reservation ({existing})"
            )
        self._conn.execute(
            sa.insert(reservations).values(
                account_id=account_id,
                order_id=event.order_id,
                amount=event.amount,
                status="open",
                created_at=event.at,
                resolved_at=None,
            )
        )

    def _release_reservation(self, account_id: str, event: ReservationReleased) -> None:
        key = (reservations.c.account_id == account_id, reservations.c.order_id == event.order_id)
        held = self._conn.execute(
            sa.select(reservations.c.amount).where(*key, reservations.c.status == "open")
        ).scalar_one_or_none()
        if held is None:
            raise ProjectionConflict(
                f"order {event.order_id} of account {account_id} has no open reservation to release"
            )
        left = held - event.amount
        if left < 0:
            raise ProjectionConflict(f"release of {event.amount} exceeds the {held} held by {event.order_id}")
        values: dict[str, Any] = (
            {"status": "released", "resolved_at": event.at} if left == 0 else {"amount": left}
        )
        # "status = 'open'" makes resolution at-most-once even if the check above were bypassed.
        result = self._conn.execute(
            sa.update(reservations).where(*key, reservations.c.status == "open").values(**values)
        )
        if result.rowcount != 1:
            raise ProjectionConflict(f"reservation of order {event.order_id} was resolved concurrently")
