"""The rule-state projection of accounts with a rule pack (``rule_states``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.accounting.state import AccountStatus
from propdesk.store._sql import insert_on_conflict
from propdesk.store.tables import (
    accounts,
    rule_states,
)


class RuleStateStore:
    """Rule-state reads and writes (a part of :class:`AccountRepository`)."""

    _conn: Connection

    def rule_state(self, account_id: str) -> Mapping[str, Any] | None:
        """The stored rule-state payload, or None before the account starts or without a pack."""
        stmt = sa.select(rule_states.c.payload).where(rule_states.c.account_id == account_id)
        payload = self._conn.execute(stmt).scalar_one_or_none()
        return None if payload is None else dict(payload)

    def save_rule_state(
        self, account_id: str, payload: Mapping[str, Any], *, locked_until: datetime | None, at: datetime
    ) -> None:
        """Upsert the rule-state projection (call under the account lock)."""
        row = {
            "account_id": account_id,
            "payload": dict(payload),
            "locked_until": locked_until,
            "updated_at": at,
        }
        insert_on_conflict(
            self._conn,
            rule_states,
            [row],
            keys=["account_id"],
            update=["payload", "locked_until", "updated_at"],
        )

    def rule_tracked_ids(self) -> list[str]:
        """Accounts with a stored rule state that have not ended (for the day-boundary job)."""
        ended = [AccountStatus.COMPLETED.value, AccountStatus.LIQUIDATED.value]
        stmt = (
            sa.select(rule_states.c.account_id)
            .join(accounts, accounts.c.id == rule_states.c.account_id)
            .where(accounts.c.status.not_in(ended))
            .order_by(rule_states.c.account_id)
        )
        return list(self._conn.execute(stmt).scalars())

    def locked_until(self, account_id: str) -> datetime | None:
        stmt = sa.select(rule_states.c.locked_until).where(rule_states.c.account_id == account_id)
        value: datetime | None = self._conn.execute(stmt).scalar_one_or_none()
        return value
