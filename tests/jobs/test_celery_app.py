"""Acceptance 4: the snapshot job fanned out over two real Celery workers on a real Redis, one of
them SIGKILLed mid-run, and every account processed exactly once (PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.jobs import registry
from propdesk.jobs.celery_app import create_celery, fan_out
from propdesk.model.ids import AccountId, sequential_ids
from propdesk.services.accounts.commands import open_account, start_account
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from propdesk.store.engine import create_engine_for
from propdesk.store.tables import account_snapshots, job_claims, job_runs
from tests.db import StepClock, policy
from tests.redis_server import require_redis

pytestmark = [pytest.mark.celery, pytest.mark.postgres]

REDIS_URL = "redis://127.0.0.1:6379/14"  # a database of its own, emptied by the test
DAY = date(2026, 1, 5)
ACCOUNTS = 100


def _require_redis() -> None:
    require_redis(REDIS_URL).close()


@pytest.fixture
def worker_env(postgres_url: str) -> dict[str, str]:
    _require_redis()
    redis.Redis.from_url(REDIS_URL).flushdb()
    return {
        **os.environ,
        "PROPDESK_DATABASE_URL": postgres_url,
        "PROPDESK_REDIS_URL": REDIS_URL,
        "PROPDESK_JOBS_CHUNK_SIZE": "10",
        "PROPDESK_JOBS_ACCOUNT_PAUSE_SECONDS": "0.05",
        "PROPDESK_CELERY_VISIBILITY_TIMEOUT_SECONDS": "3",
    }


@pytest.fixture
def workers(worker_env: dict[str, str], tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Two ``propdesk worker`` processes (solo pool: the process is the one running the task)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "propdesk", "worker", "--pool", "solo", "--hostname", f"w{i}@test"],
            env=worker_env,
            stdout=(tmp_path / f"w{i}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for i in range(2)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _scalar(engine: Engine, stmt: sa.Select[Any]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def test_a_worker_killed_mid_run_loses_nothing_and_repeats_nothing(
    postgres_url: str, worker_env: dict[str, str], workers: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    engine = create_engine_for(postgres_url)
    try:
        ids = sequential_ids("cel")
        for _ in range(ACCOUNTS):
            clock = StepClock()
            account_id = open_account(engine, policy=policy(), clock=clock, ids=ids)
            start_account(engine, AccountId(account_id), clock)
        settings = Settings(
            database_url=postgres_url,
            redis_url=REDIS_URL,
            jobs_chunk_size=10,
            celery_visibility_timeout_seconds=3,
        )
        app = create_celery(settings)
        _wait("both workers", lambda: len(app.control.ping(timeout=0.5) or []) == 2, 30)
        ctx = ServiceContext(engine=engine, settings=settings)
        assert fan_out(ctx, app, registry.get("eod-snapshot"), DAY) == ACCOUNTS // 10

        done = sa.select(sa.func.count()).select_from(job_claims).where(job_claims.c.status == "done")
        _wait("some accounts done", lambda: _scalar(engine, done) >= 15, 30)
        victim = workers[0]
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        killed_at = _scalar(engine, done)
        assert killed_at < ACCOUNTS, "the run finished before the kill: slow the workers down"

        status = sa.select(job_runs.c.status).where(
            job_runs.c.job == "eod-snapshot", job_runs.c.trading_date == DAY
        )
        _wait("the run to complete", lambda: _status(engine, status) == "completed", 45)

        rows = _scalar(engine, sa.select(sa.func.count()).select_from(account_snapshots))
        distinct = _scalar(
            engine,
            sa.select(sa.func.count(sa.distinct(account_snapshots.c.account_id))).select_from(
                account_snapshots
            ),
        )
        assert (rows, distinct) == (ACCOUNTS, ACCOUNTS)
        assert _scalar(engine, done) == ACCOUNTS
        with engine.connect() as conn:
            by = set(conn.execute(sa.select(job_claims.c.done_by).distinct()).scalars())
        assert len(by) == 2, by  # both workers did part of it
        assert workers[1].poll() is None  # the survivor is still serving
    finally:
        engine.dispose()


def _status(engine: Engine, stmt: sa.Select[Any]) -> str | None:
    with engine.connect() as conn:
        value = conn.execute(stmt).scalar_one_or_none()
    return None if value is None else str(value)
