"""Daily job runs: once per (job, date), forced reruns, failures recorded, missed days in order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from propdesk.jobs import registry, runs
from propdesk.jobs.registry import DailyJob, JobResult
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from tests.db import StepClock, run_history, started_account

WED_EVENING = datetime(2026, 1, 7, 22, 0, tzinfo=UTC)  # 17:00 ET, after Wednesday's close


def _ctx(engine: Engine, now: datetime = WED_EVENING, **settings: Any) -> ServiceContext:
    return ServiceContext(
        engine=engine, settings=Settings(**settings), clock=StepClock(now, step=timedelta(0))
    )


def test_a_completed_run_is_not_repeated_unless_forced(engine: Engine) -> None:
    account_id, _ = started_account(engine, prefix="runs")
    run_history(engine, account_id)
    ctx = _ctx(engine)
    day = date(2026, 1, 5)
    first = runs.run_job(ctx, "eod-snapshot", day)
    assert (first.status, first.result["processed"], first.result["failed"]) == ("completed", 1, [])
    again = runs.run_job(ctx, "eod-snapshot", day)
    assert (again.status, again.result) == ("skipped", first.result)
    forced = runs.run_job(ctx, "eod-snapshot", day, force=True)
    assert (forced.status, forced.result["processed"], forced.result["skipped"]) == ("completed", 0, 1)
    stored = runs.find_run(ctx, "eod-snapshot", day)
    assert stored is not None
    assert (stored.status, stored.attempts) == ("completed", 2)


def test_a_failing_job_is_recorded_failed_and_retried_on_the_next_run(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[date] = []

    def flaky(ctx: ServiceContext, day: date) -> JobResult:
        calls.append(day)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return JobResult(accounts=3, processed=3)

    monkeypatch.setattr(registry, "JOBS", (DailyJob("flaky", flaky, "test", after_close=timedelta(0)),))
    ctx = _ctx(engine)
    day = date(2026, 1, 7)
    failed = runs.run_job(ctx, "flaky", day)
    assert (failed.status, failed.result) == ("failed", {"error": "RuntimeError: database went away"})
    assert [(j.name, d) for j, d in runs.due_runs(ctx)][-1] == ("flaky", day)
    done = runs.run_job(ctx, "flaky", day)
    assert (done.status, done.result["processed"]) == ("completed", 3)
    [status] = runs.statuses(ctx)
    assert status.last is not None
    assert (status.last.status, status.last.attempts) == ("completed", 2)
    assert status.next_due == datetime(2026, 1, 8, 21, 0, tzinfo=UTC)


def test_missed_days_are_caught_up_in_order_then_only_new_days_are_due(engine: Engine) -> None:
    ctx = _ctx(engine, jobs_catch_up_sessions=2)
    order = [job.name for job in registry.JOBS]
    due = runs.due_runs(ctx)
    assert [(j.name, d) for j, d in due] == [
        (name, day) for day in (date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)) for name in order
    ]
    outcomes = runs.run_due(ctx)
    assert {o.status for o in outcomes} == {"completed"}
    assert runs.due_runs(ctx) == []
    # Thursday before the close: only the morning's corporate actions; after the last job's time,
    # every run of Thursday.
    morning = runs.due_runs(_ctx(engine, datetime(2026, 1, 8, 20, 0, tzinfo=UTC)))
    assert [(j.name, d) for j, d in morning] == [("corporate-actions", date(2026, 1, 8))]
    last = max(at for job in registry.JOBS if (at := job.due_at(date(2026, 1, 8))) is not None)
    later = runs.due_runs(_ctx(engine, last + timedelta(minutes=1)))
    assert [(j.name, d) for j, d in later] == [(name, date(2026, 1, 8)) for name in order]


def test_the_latest_due_date_skips_weekends_and_waits_for_the_job_time(engine: Engine) -> None:
    job = registry.get("eod-snapshot")
    saturday = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert runs.latest_due_date(_ctx(engine), job, saturday) == date(2026, 1, 9)
    before = datetime(2026, 1, 7, 21, 10, tzinfo=UTC)  # after the close, before close + 30 min
    assert runs.latest_due_date(_ctx(engine), job, before) == date(2026, 1, 6)
    assert runs.latest_due_date(_ctx(engine), job, WED_EVENING) == date(2026, 1, 7)
    with pytest.raises(KeyError, match="known: " + ", ".join(job.name for job in registry.JOBS)):
        registry.get("nope")
