"""The daily jobs by name: what each does for a trading date, and when it is due.

A daily job is a function ``(ctx, trading_date) -> result``; the result is a :class:`JobResult`
or any dataclass or mapping of counts (it is stored as JSON in ``job_runs``). Each job is due on
every session of its calendar at ``at`` (local time of the calendar's exchange) or, for a job that
follows the close, at the close plus ``after_close`` (which follows early closes). Jobs run in the
order of this registry when several are due, so the resting orders are settled and the books
marked before the snapshot is taken.

To add a job: write its function, then add one :class:`DailyJob` line to :data:`JOBS`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from propdesk.jobs import resting_orders
from propdesk.jobs.corporate_actions import corporate_actions_job
from propdesk.jobs.expiry import expiry_job
from propdesk.jobs.retention import purge_market_data_access_log
from propdesk.marketdata.calendars import NYSE, get_calendar
from propdesk.model.ids import AccountId
from propdesk.services.context import ServiceContext
from propdesk.services.daily import retention, snapshots
from propdesk.services.prop.marking import mark_all
from propdesk.store.uow import UnitOfWork


@dataclass(frozen=True)
class JobResult:
    """What a daily job did: the accounts it looked at, how many it changed, which failed."""

    accounts: int = 0
    processed: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


DailyFunction = Callable[[ServiceContext, date], Any]


@dataclass(frozen=True)
class DailyJob:
    """A job run once per trading date of ``calendar``, when it is due."""

    name: str
    run: DailyFunction
    description: str
    after_close: timedelta | None = None
    at: time | None = None
    calendar: str = NYSE
    # For a job fanned out over Celery workers: the per-account step, in one transaction.
    per_account: Callable[[ServiceContext, UnitOfWork, AccountId, date], bool] | None = None
    accounts: Callable[[ServiceContext], list[AccountId]] | None = None

    def due_at(self, trading_date: date) -> datetime | None:
        """When the job is due for ``trading_date``; None if it is not a session of the calendar."""
        calendar = get_calendar(self.calendar)
        session = calendar.session(trading_date)
        if session is None:
            return None
        if self.at is not None:
            return datetime.combine(trading_date, self.at, tzinfo=calendar.zone)
        return session.close + (self.after_close or timedelta())

    @property
    def schedule(self) -> str:
        """The schedule in words, for ``propdesk jobs list``."""
        if self.at is not None:
            return f"{self.calendar} sessions at {self.at:%H:%M} local"
        minutes = int((self.after_close or timedelta()).total_seconds() // 60)
        return f"{self.calendar} sessions, close + {minutes} min"


def as_json(result: Any) -> dict[str, Any]:
    """A job's result as a JSON object (dataclasses and mappings; decimals and dates as strings)."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    if not isinstance(result, Mapping):
        return {"result": str(result)}
    return {str(k): _plain(v) for k, v in result.items()}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)


def _corporate_actions(ctx: ServiceContext, trading_date: date) -> JobResult:
    applied = corporate_actions_job(ctx, trading_date)
    return JobResult(
        accounts=len({a.account_id for a in applied}),
        processed=sum(1 for a in applied if a.events),
        details={"actions": sorted({f"{a.type.value} {a.symbol}" for a in applied})},
    )


def _expiry(ctx: ServiceContext, trading_date: date) -> JobResult:
    report = expiry_job(ctx, trading_date)
    return JobResult(
        accounts=len(report.accounts_settled) + len(report.failures),
        processed=len(report.settled),
        failed=sorted(report.failures),
        details={"summary": report.summary()},
    )


def _resting_orders(ctx: ServiceContext, trading_date: date) -> JobResult:
    horizon = min(ctx.clock(), snapshots.close_of(trading_date))
    sweep = resting_orders.evaluate_all(ctx, until=horizon)
    return JobResult(
        accounts=sweep.accounts,
        processed=sweep.fills,
        failed=list(sweep.failed),
        details={"ticks": sweep.ticks, "delayed": list(sweep.delayed)},
    )


def _mark_to_market(ctx: ServiceContext, trading_date: date) -> JobResult:
    sweep = mark_all(ctx)
    return JobResult(
        accounts=sweep.accounts,
        processed=sweep.persisted,
        failed=list(sweep.failed),
        details={"liquidated": sweep.liquidated},
    )


def _eod_snapshot(ctx: ServiceContext, trading_date: date) -> JobResult:
    run = snapshots.snapshot_all(ctx, trading_date)
    return JobResult(accounts=run.accounts, processed=run.written, skipped=run.existing, failed=run.failed)


def _retention(ctx: ServiceContext, trading_date: date) -> JobResult:
    run = retention.run_retention(ctx, trading_date)
    access_log = purge_market_data_access_log(ctx.engine, ctx.clock)
    return JobResult(
        accounts=run.accounts,
        processed=run.purged,
        failed=list(run.failed),
        details={
            "orders": run.orders,
            "order_updates": run.order_updates,
            "position_history": run.position_history,
            "account_snapshots": run.account_snapshots,
            "market_data_access_log": access_log,
        },
    )


JOBS: tuple[DailyJob, ...] = (
    DailyJob(
        "corporate-actions",
        _corporate_actions,
        "dividends, splits and name changes whose ex-date is the day, before the open",
        at=time(8, 0),
    ),
    DailyJob(
        "resting-orders",
        _resting_orders,
        "settle resting orders up to the close (fills, DAY expiries)",
        after_close=timedelta(minutes=1),
    ),
    DailyJob(
        "expiry",
        _expiry,
        "exercise, assign or expire the options expiring on the day",
        after_close=timedelta(minutes=15),
    ),
    DailyJob(
        "mark-to-market",
        _mark_to_market,
        "mark every open book to the closing quotes, auto-liquidate breaches",
        after_close=timedelta(minutes=5),
    ),
    DailyJob(
        "eod-snapshot",
        _eod_snapshot,
        "one snapshot row per account: equity, cash, positions, PnL, rule state",
        after_close=timedelta(minutes=30),
        per_account=snapshots.snapshot_in,
        accounts=snapshots.accounts_due,
    ),
    DailyJob(
        "retention",
        _retention,
        "purge closed history past each user's retention tier",
        after_close=timedelta(minutes=45),
    ),
)


def names() -> list[str]:
    return [job.name for job in JOBS]


def get(name: str) -> DailyJob:
    """The job called ``name``; KeyError naming the known jobs otherwise."""
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(f"unknown job {name!r}; known: {', '.join(names())}")
