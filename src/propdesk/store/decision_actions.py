"""Decision actions: what an agent asked for, its gate results and its review, one row each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store.tables import decision_actions

PENDING_APPROVAL = "pending_approval"


@dataclass(frozen=True, slots=True)
class DecisionActionRecord:
    id: str
    account_id: str
    decision_run_id: str
    decision_action_id: str
    action: str
    symbol: str | None
    payload: Mapping[str, Any]
    payload_hash: str
    status: str
    gate_results: Sequence[Mapping[str, Any]] | None
    order_id: str | None
    fill_id: str | None
    created_at: datetime
    updated_at: datetime | None = None
    review: Mapping[str, Any] | None = None


class DecisionActionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, record: DecisionActionRecord) -> None:
        values = asdict(record)
        values["payload"] = dict(record.payload)
        values["gate_results"] = [dict(g) for g in record.gate_results] if record.gate_results else None
        values["review"] = dict(record.review) if record.review else None
        self._conn.execute(sa.insert(decision_actions).values(**values))

    def update(
        self,
        record_id: str,
        *,
        status: str,
        at: datetime,
        gate_results: Sequence[Mapping[str, Any]] | None = None,
        order_id: str | None = None,
        fill_id: str | None = None,
        review: Mapping[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "updated_at": at}
        if gate_results is not None:
            values["gate_results"] = [dict(g) for g in gate_results]
        if order_id is not None:
            values["order_id"] = order_id
        if fill_id is not None:
            values["fill_id"] = fill_id
        if review is not None:
            values["review"] = dict(review)
        self._conn.execute(
            sa.update(decision_actions).where(decision_actions.c.id == record_id).values(**values)
        )

    def find_many(
        self, account_id: str, run_id: str, action_ids: Sequence[str]
    ) -> dict[str, DecisionActionRecord]:
        """Stored actions of one run by their decision action id."""
        if not action_ids:
            return {}
        stmt = sa.select(decision_actions).where(
            decision_actions.c.account_id == account_id,
            decision_actions.c.decision_run_id == run_id,
            decision_actions.c.decision_action_id.in_(list(action_ids)),
        )
        found = (DecisionActionRecord(**dict(r)) for r in self._conn.execute(stmt).mappings())
        return {r.decision_action_id: r for r in found}

    def find(self, record_id: str) -> DecisionActionRecord | None:
        row = (
            self._conn.execute(sa.select(decision_actions).where(decision_actions.c.id == record_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else DecisionActionRecord(**dict(row))
