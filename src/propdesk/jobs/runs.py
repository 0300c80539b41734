"""Running daily jobs once per trading date, recorded in ``job_runs``.

:func:`run_job` runs one job for one date: a (job, date) already completed is not run again
unless forced; otherwise the run is recorded as ``running`` (committed), the job runs, and the row
becomes ``completed`` with the job's result or ``failed`` with the error. Jobs are idempotent per
date, so rerunning a failed or interrupted run (a process killed mid-run leaves ``running``)
finishes the work without doing any of it twice.

:func:`due_runs` says which (job, date) pairs are due and not completed: every session of the
job's calendar whose due time has passed, from the day after the job's last completed date (at
most ``jobs_catch_up_sessions`` sessions back), oldest first; :func:`run_due` runs them in that
order, so a day missed while the server was down is caught up before the next.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from propdesk.jobs import registry
from propdesk.jobs.registry import DailyJob
from propdesk.marketdata.calendars import get_calendar
from propdesk.services.context import ServiceContext
from propdesk.services.transactions import open_tx
from propdesk.store.job_runs import COMPLETED, FAILED, JobRun, JobRunRepository
from propdesk.store.uow import UnitOfWork

log = logging.getLogger(__name__)

SKIPPED = "skipped"


@dataclass(frozen=True)
class RunOutcome:
    """One (job, date): ``completed``, ``failed``, or ``skipped`` (completed before, not forced)."""

    job: str
    trading_date: date
    status: str
    result: dict[str, Any]


def run_job(ctx: ServiceContext, name: str, trading_date: date, *, force: bool = False) -> RunOutcome:
    """Run job ``name`` for ``trading_date`` unless that run completed already (``force`` reruns)."""
    job = registry.get(name)
    with open_tx(ctx.engine) as uow:
        repo = JobRunRepository(uow.connection)
        previous = repo.find(name, trading_date)
        if previous is not None and previous.status == COMPLETED and not force:
            uow.rollback()
            return RunOutcome(name, trading_date, SKIPPED, dict(previous.result or {}))
        repo.start(name, trading_date, ctx.clock())
    log.info("job %s for %s started", name, trading_date)
    try:
        result = registry.as_json(job.run(ctx, trading_date))
        status = COMPLETED
    except Exception as exc:
        log.exception("job %s for %s failed", name, trading_date)
        result = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        status = FAILED
    with open_tx(ctx.engine) as uow:
        JobRunRepository(uow.connection).finish(name, trading_date, status, ctx.clock(), result)
    log.info("job %s for %s %s: %s", name, trading_date, status, result)
    return RunOutcome(name, trading_date, status, result)


def _candidate_dates(ctx: ServiceContext, job: DailyJob, now: datetime, last: date | None) -> list[date]:
    calendar = get_calendar(job.calendar)
    today = now.astimezone(calendar.zone).date()
    keep = ctx.settings.jobs_catch_up_sessions + 1  # the latest due session and the missed ones
    window = timedelta(days=14 + 2 * keep)  # more calendar days than ``keep`` sessions span
    sessions = [s.day for s in calendar.sessions(today - window, today)]
    due = [d for d in sessions if (at := job.due_at(d)) is not None and at <= now]
    if last is not None:
        due = [d for d in due if d > last]
    return due[-keep:]


def due_runs(ctx: ServiceContext, now: datetime | None = None) -> list[tuple[DailyJob, date]]:
    """The (job, date) pairs due by ``now`` and not completed, oldest date first, then in registry
    order."""
    now = now or ctx.clock()
    pairs: list[tuple[date, int, DailyJob]] = []
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        repo = JobRunRepository(uow.connection)
        for index, job in enumerate(registry.JOBS):
            last = repo.last_completed_date(job.name)
            for day in _candidate_dates(ctx, job, now, last):
                run = repo.find(job.name, day)
                if run is None or run.status != COMPLETED:
                    pairs.append((day, index, job))
    pairs.sort(key=lambda p: (p[0], p[1]))
    return [(job, day) for day, _, job in pairs]


def run_due(ctx: ServiceContext, now: datetime | None = None) -> list[RunOutcome]:
    """Run every due job (:func:`due_runs`) in order; a failed run is recorded and the rest go on."""
    return [run_job(ctx, job.name, day) for job, day in due_runs(ctx, now)]


@dataclass(frozen=True)
class JobStatus:
    """A job as ``propdesk jobs list`` shows it."""

    name: str
    description: str
    schedule: str
    last: JobRun | None
    next_due: datetime | None


def statuses(ctx: ServiceContext) -> list[JobStatus]:
    """Every registered job with its schedule, its latest run and when it is next due."""
    now = ctx.clock()
    out: list[JobStatus] = []
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        repo = JobRunRepository(uow.connection)
        for job in registry.JOBS:
            calendar = get_calendar(job.calendar)
            today = now.astimezone(calendar.zone).date()
            upcoming = [
                at
                for s in calendar.sessions(today, today + timedelta(days=14))
                if (at := job.due_at(s.day)) is not None and at > now
            ]
            out.append(
                JobStatus(
                    job.name, job.description, job.schedule, repo.last(job.name), min(upcoming, default=None)
                )
            )
    return out


def find_run(ctx: ServiceContext, name: str, trading_date: date) -> JobRun | None:
    """The recorded run of ``name`` for ``trading_date``, if any."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return JobRunRepository(uow.connection).find(name, trading_date)


def latest_due_date(ctx: ServiceContext, job: DailyJob, now: datetime | None = None) -> date:
    """The latest session of the job's calendar whose due time has passed by ``now``."""
    now = now or ctx.clock()
    calendar = get_calendar(job.calendar)
    day = now.astimezone(calendar.zone).date()
    if (at := job.due_at(day)) is None or at > now:
        day = calendar.previous_session_day(day)
    return day
