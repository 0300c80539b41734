"""The embedded scheduler: one lease holder runs the schedule; the lease passes on when it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from propdesk.jobs import registry, runs
from propdesk.jobs.scheduler import Scheduler, take_lease
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_two_schedulers_never_both_run_and_a_dead_holder_is_replaced(engine: Engine) -> None:
    clock = MovableClock(datetime(2026, 1, 7, 22, 0, tzinfo=UTC))
    ctx = ServiceContext(engine=engine, settings=Settings(jobs_catch_up_sessions=0), clock=clock)
    first, second = Scheduler(ctx, poll_seconds=10), Scheduler(ctx, poll_seconds=10)
    assert first.tick() == len(registry.JOBS)  # every daily job of Wednesday
    assert second.tick() == 0  # the lease is held
    assert runs.due_runs(ctx) == []
    clock.now += timedelta(seconds=29)
    assert second.tick() == 0
    clock.now += timedelta(seconds=2)  # the first holder stopped renewing 31 s ago (ttl 30 s)
    assert take_lease(ctx, second.holder, second.ttl)
    assert not take_lease(ctx, first.holder, first.ttl)


def test_start_and_stop_release_the_lease(engine: Engine) -> None:
    ctx = ServiceContext(engine=engine, settings=Settings(jobs_catch_up_sessions=0))
    scheduler = Scheduler(ctx, poll_seconds=0.05)
    scheduler.start()
    scheduler.stop(timeout=60)
    assert take_lease(ctx, "someone-else", timedelta(seconds=5))
