"""``propdesk serve`` runs the embedded scheduler with the app's lifespan, and releases its lease."""

from __future__ import annotations

import time

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from propdesk.api.app import create_app
from propdesk.cli.serve import embed_scheduler
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from propdesk.store.tables import job_leases, job_runs


def _count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_the_scheduler_starts_and_stops_with_the_app(engine: Engine) -> None:
    ctx = ServiceContext(engine=engine, settings=Settings(jobs_catch_up_sessions=0))
    app = create_app(ctx)
    embed_scheduler(app, ctx)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 30
        while _count(engine, job_runs) < 3:  # the latest due session of each job, caught up
            assert time.monotonic() < deadline, "the scheduler ran nothing"
            time.sleep(0.05)
        assert _count(engine, job_leases) == 1
    assert _count(engine, job_leases) == 0  # released on shutdown
