"""The admin audit log: who did what to which account, oldest first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store.pages import Page
from propdesk.store.tables import admin_audit_log


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    account_id: str | None
    actor: str
    action: str
    reason: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    at: datetime


class AuditRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record(
        self,
        *,
        account_id: str | None,
        actor: str,
        action: str,
        reason: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        at: datetime,
    ) -> None:
        self._conn.execute(
            sa.insert(admin_audit_log).values(
                account_id=account_id,
                actor=actor,
                action=action,
                reason=reason,
                before=None if before is None else dict(before),
                after=None if after is None else dict(after),
                at=at,
            )
        )

    def page(self, account_id: str, page: Page) -> list[AuditRecord]:
        stmt = (
            sa.select(admin_audit_log)
            .where(admin_audit_log.c.account_id == account_id)
            .order_by(admin_audit_log.c.at, admin_audit_log.c.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return [AuditRecord(**dict(r)) for r in self._conn.execute(stmt).mappings()]
