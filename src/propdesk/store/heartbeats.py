"""Worker heartbeats: when each background worker last reported."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store._sql import insert_on_conflict
from propdesk.store.tables import worker_heartbeats


@dataclass(frozen=True, slots=True)
class Heartbeat:
    name: str
    beat_at: datetime
    details: Mapping[str, Any]


class HeartbeatRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def beat(self, name: str, at: datetime, details: Mapping[str, Any]) -> None:
        insert_on_conflict(
            self._conn,
            worker_heartbeats,
            [{"name": name, "beat_at": at, "details": dict(details)}],
            keys=("name",),
            update=("beat_at", "details"),
        )

    def find(self, name: str) -> Heartbeat | None:
        row = (
            self._conn.execute(sa.select(worker_heartbeats).where(worker_heartbeats.c.name == name))
            .mappings()
            .one_or_none()
        )
        return None if row is None else Heartbeat(row["name"], row["beat_at"], row["details"])
