"""Retention: the market-data access log is kept for 13 months, then purged.

The cutoff is calendar months back from the clock's time, at the same time of day (the 31st
of a month that has no 31st maps to the month's last day), and rows strictly older than the
cutoff are deleted. Re-running the job at the same time deletes nothing more.
"""

from __future__ import annotations

import calendar
from datetime import datetime

from sqlalchemy.engine import Engine

from propdesk.marketdata.clock import Clock, now_of
from propdesk.store.prices import AccessLogRepository
from propdesk.store.uow import UnitOfWork

ACCESS_LOG_RETENTION_MONTHS = 13


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` moved back ``months`` calendar months (day clamped to the month's length)."""
    if months < 0:
        raise ValueError("months must not be negative")
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def purge_market_data_access_log(
    engine: Engine, clock: Clock, *, months: int = ACCESS_LOG_RETENTION_MONTHS
) -> int:
    """Delete access-log rows older than ``months`` months; returns how many were deleted."""
    cutoff = months_before(now_of(clock), months)
    with UnitOfWork(engine) as uow:
        deleted = AccessLogRepository(uow.connection).purge_before(cutoff)
        uow.commit()
    return deleted
