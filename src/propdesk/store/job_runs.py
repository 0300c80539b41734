"""Daily job bookkeeping: ``job_runs`` (one row per job and trading date), ``job_claims`` (the
per-account claims of a run fanned out over workers) and ``job_leases`` (who runs the schedule).

Claims are taken with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers never
wait on or take the same account; on SQLite the transaction began with ``BEGIN IMMEDIATE``, which
already serializes writers, so a plain read of the pending row is enough. A claim is marked done
in the transaction that did the account's work: if the worker dies first, the transaction rolls
back and the claim is pending again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store._sql import insert_on_conflict, upsert
from propdesk.store.tables import job_claims, job_leases, job_runs

RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
PENDING = "pending"
DONE = "done"


@dataclass(frozen=True, slots=True)
class JobRun:
    job: str
    trading_date: date
    status: str
    started_at: datetime
    finished_at: datetime | None
    result: Mapping[str, Any] | None
    attempts: int


class JobRunRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def find(self, job: str, trading_date: date) -> JobRun | None:
        row = (
            self._conn.execute(
                sa.select(job_runs).where(job_runs.c.job == job, job_runs.c.trading_date == trading_date)
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else JobRun(**dict(row))

    def last(self, job: str) -> JobRun | None:
        """The run of ``job`` for the latest trading date."""
        row = (
            self._conn.execute(
                sa.select(job_runs)
                .where(job_runs.c.job == job)
                .order_by(job_runs.c.trading_date.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return None if row is None else JobRun(**dict(row))

    def last_completed_date(self, job: str) -> date | None:
        stmt = sa.select(sa.func.max(job_runs.c.trading_date)).where(
            job_runs.c.job == job, job_runs.c.status == COMPLETED
        )
        value: date | None = self._conn.execute(stmt).scalar_one_or_none()
        return value

    def start(self, job: str, trading_date: date, at: datetime) -> None:
        """Mark the run started (a new row, or a retry of a failed or interrupted one)."""
        stmt = upsert(
            self._conn,
            job_runs,
            {
                "job": job,
                "trading_date": trading_date,
                "status": RUNNING,
                "started_at": at,
                "finished_at": None,
                "result": None,
                "attempts": 1,
            },
            keys=("job", "trading_date"),
            set_={
                "status": RUNNING,
                "started_at": at,
                "finished_at": None,
                "attempts": job_runs.c.attempts + 1,
            },
        )
        self._conn.execute(stmt)

    def finish(
        self, job: str, trading_date: date, status: str, at: datetime, result: Mapping[str, Any]
    ) -> None:
        self._conn.execute(
            sa.update(job_runs)
            .where(job_runs.c.job == job, job_runs.c.trading_date == trading_date)
            .values(status=status, finished_at=at, result=dict(result))
        )

    # --- claims ----------------------------------------------------------------------------------

    def add_claims(self, job: str, trading_date: date, chunks: Sequence[Sequence[str]]) -> None:
        """A pending claim per account, ``chunks[i]`` numbered ``i``; existing claims are kept."""
        rows = [
            {
                "job": job,
                "trading_date": trading_date,
                "account_id": account_id,
                "chunk": number,
                "status": PENDING,
                "done_by": None,
                "done_at": None,
            }
            for number, chunk in enumerate(chunks)
            for account_id in chunk
        ]
        insert_on_conflict(self._conn, job_claims, rows, keys=("job", "trading_date", "account_id"))

    def chunk_accounts(self, job: str, trading_date: date, chunk: int) -> list[str]:
        stmt = (
            sa.select(job_claims.c.account_id)
            .where(
                job_claims.c.job == job,
                job_claims.c.trading_date == trading_date,
                job_claims.c.chunk == chunk,
            )
            .order_by(job_claims.c.account_id)
        )
        return list(self._conn.execute(stmt).scalars())

    def pending_chunks(self, job: str, trading_date: date) -> list[int]:
        """Numbers of the chunks that still have a pending claim, in order."""
        stmt = (
            sa.select(job_claims.c.chunk)
            .where(
                job_claims.c.job == job,
                job_claims.c.trading_date == trading_date,
                job_claims.c.status == PENDING,
            )
            .distinct()
            .order_by(job_claims.c.chunk)
        )
        return [int(c) for c in self._conn.execute(stmt).scalars()]

    def claim(self, job: str, trading_date: date, account_id: str) -> bool:
        """Take the account's pending claim for this transaction; False if it is done or another
        transaction holds it (skipped, never waited on)."""
        stmt = sa.select(job_claims.c.account_id).where(
            job_claims.c.job == job,
            job_claims.c.trading_date == trading_date,
            job_claims.c.account_id == account_id,
            job_claims.c.status == PENDING,
        )
        if self._conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return self._conn.execute(stmt).first() is not None

    def mark_done(self, job: str, trading_date: date, account_id: str, by: str, at: datetime) -> None:
        self._conn.execute(
            sa.update(job_claims)
            .where(
                job_claims.c.job == job,
                job_claims.c.trading_date == trading_date,
                job_claims.c.account_id == account_id,
            )
            .values(status=DONE, done_by=by[:128], done_at=at)
        )

    def claim_counts(self, job: str, trading_date: date) -> dict[str, int]:
        """Claims of the run by status (``pending``, ``done``)."""
        stmt = (
            sa.select(job_claims.c.status, sa.func.count())
            .where(job_claims.c.job == job, job_claims.c.trading_date == trading_date)
            .group_by(job_claims.c.status)
        )
        counts = {PENDING: 0, DONE: 0}
        counts.update({str(row[0]): int(row[1]) for row in self._conn.execute(stmt)})
        return counts

    # --- leases ----------------------------------------------------------------------------------

    def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Hold lease ``name`` until ``until`` if it is free, expired or already ours."""
        current = (
            self._conn.execute(sa.select(job_leases).where(job_leases.c.name == name).with_for_update())
            .mappings()
            .one_or_none()
        )
        if current is None:
            insert_on_conflict(
                self._conn,
                job_leases,
                [{"name": name, "holder": holder, "expires_at": until}],
                keys=("name",),
            )
            found = self._conn.execute(
                sa.select(job_leases.c.holder).where(job_leases.c.name == name)
            ).scalar_one()
            return bool(found == holder)
        if current["holder"] != holder and current["expires_at"] > now:
            return False
        self._conn.execute(
            sa.update(job_leases).where(job_leases.c.name == name).values(holder=holder, expires_at=until)
        )
        return True

    def release_lease(self, name: str, holder: str) -> None:
        self._conn.execute(
            sa.delete(job_leases).where(job_leases.c.name == name, job_leases.c.holder == holder)
        )
