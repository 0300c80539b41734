"""Fanning a job out in account chunks, the chunks run in-process (no broker): claims on both
databases, a repeat of a chunk does nothing, the last chunk completes the run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.jobs import registry
from propdesk.jobs.celery_app import fan_out, run_chunk
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from propdesk.store.tables import account_snapshots
from tests.db import StepClock, started_account

DAY = date(2026, 1, 5)


class Sent:
    """A stand-in for the Celery app that records the tasks it is asked to send."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, list[Any]]] = []

    def send_task(self, name: str, args: list[Any], **_: Any) -> None:
        self.tasks.append((name, args))


def test_chunks_claim_each_account_once_and_complete_the_run(engine: Engine) -> None:
    ids = [started_account(engine, prefix=f"fan{i}x")[0] for i in range(5)]
    clock = StepClock(datetime(2026, 1, 6, 12, tzinfo=UTC), step=timedelta(seconds=1))
    ctx = ServiceContext(engine=engine, settings=Settings(jobs_chunk_size=2), clock=clock)
    app = Sent()
    job = registry.get("eod-snapshot")
    assert fan_out(ctx, app, job, DAY) == 3  # type: ignore[arg-type]
    assert [args for _, args in app.tasks] == [["eod-snapshot", "2026-01-05", n] for n in range(3)]
    assert fan_out(ctx, app, job, DAY) == 0  # type: ignore[arg-type]  # just sent: not again
    assert run_chunk(ctx, "eod-snapshot", DAY, 0, worker="a") == {"done": 2, "skipped": 0, "failed": 0}
    assert run_chunk(ctx, "eod-snapshot", DAY, 0, worker="b") == {"done": 0, "skipped": 2, "failed": 0}
    run_chunk(ctx, "eod-snapshot", DAY, 1, worker="a")
    run_chunk(ctx, "eod-snapshot", DAY, 2, worker="b")
    with engine.connect() as conn:
        stored = sorted(conn.execute(sa.select(account_snapshots.c.account_id)).scalars())
        status = conn.exec_driver_sql("SELECT status FROM job_runs").scalar_one()
    assert (stored, status) == (sorted(ids), "completed")
    assert fan_out(ctx, app, job, DAY) == 0  # type: ignore[arg-type]  # completed
