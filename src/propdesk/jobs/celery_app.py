"""The daily jobs on Celery, with Redis as broker: ``propdesk worker`` and ``propdesk beat``.

Beat sends ``propdesk.run_due`` every ``scheduler_poll_seconds``; a worker then runs each due
(job, date) in order (:func:`propdesk.jobs.runs.due_runs`). A job with a per-account step (the
end-of-day snapshot) is fanned out instead: :func:`fan_out` records the run, writes one pending
claim per account (``job_claims``, numbered in chunks of ``jobs_chunk_size``) and sends one
``propdesk.run_chunk`` task per chunk. A chunk task does each of its accounts in one transaction
that takes the account's claim (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), does the work and marks
the claim done; the task that leaves no claim pending marks the run completed.

Tasks are acknowledged after they finish (``acks_late``) and a task whose worker process died is
rejected back to the queue (``task_reject_on_worker_lost``); Redis hands an unacknowledged task
to another worker after ``celery_visibility_timeout_seconds``. So a worker killed mid-chunk loses
nothing (its uncommitted account rolled back, its task comes back) and repeats nothing (done
claims are skipped, and the snapshot row itself is keyed per account and day).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import date, timedelta
from functools import cache
from typing import Any

from celery import Celery

from propdesk.jobs import registry
from propdesk.jobs.registry import DailyJob
from propdesk.jobs.runs import due_runs, run_job
from propdesk.model.ids import AccountId
from propdesk.services.context import ServiceContext
from propdesk.services.transactions import open_tx
from propdesk.settings import Settings, load_settings
from propdesk.store.job_runs import COMPLETED, DONE, PENDING, RUNNING, JobRunRepository
from propdesk.store.uow import UnitOfWork

log = logging.getLogger(__name__)

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
QUEUE = "propdesk-jobs"


def broker_url(settings: Settings) -> str:
    return settings.redis_url or DEFAULT_BROKER


@cache
def _worker_context() -> ServiceContext:
    """The context of this worker process (built on its first task, from the environment)."""
    from propdesk.bootstrap import build_context

    return build_context(load_settings(), upgrade=False)


def _chunks(ids: list[AccountId], size: int) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def fan_out(
    ctx: ServiceContext, app: Celery, job: DailyJob, trading_date: date, *, force: bool = False
) -> int:
    """Record the run and its per-account claims, then send a task per chunk with pending claims;
    returns how many chunk tasks were sent (0 when the run had completed, has no account, or was
    fanned out less than a visibility timeout ago: its tasks are still on their way)."""
    if job.per_account is None or job.accounts is None:
        raise ValueError(f"{job.name} is not fanned out")
    ids = job.accounts(ctx)
    with open_tx(ctx.engine) as uow:
        repo = JobRunRepository(uow.connection)
        previous = repo.find(job.name, trading_date)
        if previous is not None and previous.status == COMPLETED and not force:
            return 0
        recent = timedelta(seconds=ctx.settings.celery_visibility_timeout_seconds)
        if (
            previous is not None
            and previous.status == RUNNING
            and not force
            and ctx.clock() - previous.started_at < recent
        ):
            return 0  # its chunk tasks are queued or running; Redis re-delivers a dead one's
        repo.start(job.name, trading_date, ctx.clock())
        repo.add_claims(job.name, trading_date, _chunks(ids, ctx.settings.jobs_chunk_size))
        pending = repo.pending_chunks(job.name, trading_date)
        if not pending:
            _finish_if_done(ctx, repo, job.name, trading_date)
    for chunk in pending:
        app.send_task("propdesk.run_chunk", args=[job.name, trading_date.isoformat(), chunk], queue=QUEUE)
    return len(pending)


def _finish_if_done(ctx: ServiceContext, repo: JobRunRepository, name: str, trading_date: date) -> bool:
    counts = repo.claim_counts(name, trading_date)
    if counts[PENDING]:
        return False
    run = repo.find(name, trading_date)
    if run is not None and run.status != COMPLETED:
        repo.finish(
            name,
            trading_date,
            COMPLETED,
            ctx.clock(),
            {"accounts": counts[DONE], "processed": counts[DONE], "fannedOut": True},
        )
    return True


def run_chunk(
    ctx: ServiceContext, name: str, trading_date: date, chunk: int, *, worker: str
) -> dict[str, int]:
    """Do the pending accounts of one chunk, each in one transaction with its claim; then complete
    the run if nothing is pending. Returns the chunk's counts (done here, skipped, failed)."""
    job = registry.get(name)
    assert job.per_account is not None
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        account_ids = JobRunRepository(uow.connection).chunk_accounts(name, trading_date, chunk)
    done = skipped = failed = 0
    pause = ctx.settings.jobs_account_pause_seconds
    for account_id in account_ids:
        try:
            with open_tx(ctx.engine) as uow:
                repo = JobRunRepository(uow.connection)
                if not repo.claim(name, trading_date, account_id):
                    skipped += 1
                    uow.rollback()
                    continue
                job.per_account(ctx, uow, AccountId(account_id), trading_date)
                repo.mark_done(name, trading_date, account_id, worker, ctx.clock())
            done += 1
        except Exception:
            failed += 1
            log.exception("%s for %s: account %s failed (left pending)", name, trading_date, account_id)
        if pause:
            time.sleep(pause)
    with open_tx(ctx.engine) as uow:
        _finish_if_done(ctx, JobRunRepository(uow.connection), name, trading_date)
    return {"done": done, "skipped": skipped, "failed": failed}


def dispatch_due(ctx: ServiceContext, app: Celery) -> int:
    """Run or fan out every due (job, date), oldest first; how many were handled."""
    handled = 0
    for job, day in due_runs(ctx):
        if job.per_account is not None:
            fan_out(ctx, app, job, day)
        else:
            run_job(ctx, job.name, day)
        handled += 1
    return handled


def create_celery(settings: Settings) -> Celery:
    """The Celery app of propdesk's daily jobs on ``settings``' Redis."""
    app = Celery("propdesk", broker=broker_url(settings))
    visibility = settings.celery_visibility_timeout_seconds
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE,
        task_ignore_result=True,
        timezone="UTC",
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        broker_transport_options={
            "visibility_timeout": visibility,
            "unacked_restore_interval": max(1, min(10, visibility // 4)),
            "unacked_restore_throttle": 1 if visibility < 60 else 10,
        },
        beat_schedule={
            "propdesk-run-due": {
                "task": "propdesk.run_due",
                "schedule": settings.scheduler_poll_seconds,
                "options": {"queue": QUEUE},
            }
        },
    )
    worker_name = f"{socket.gethostname()}:{os.getpid()}"

    @app.task(name="propdesk.run_due")
    def run_due_task() -> int:
        return dispatch_due(_worker_context(), app)

    @app.task(name="propdesk.run_job")
    def run_job_task(name: str, day: str, force: bool = False) -> dict[str, Any]:
        return run_job(_worker_context(), name, date.fromisoformat(day), force=force).result

    @app.task(name="propdesk.run_chunk")
    def run_chunk_task(name: str, day: str, chunk: int) -> dict[str, int]:
        return run_chunk(_worker_context(), name, date.fromisoformat(day), chunk, worker=worker_name)

    return app
