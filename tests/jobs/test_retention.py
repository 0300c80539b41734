"""Retention: access-log rows older than 13 months are purged; re-running purges nothing more."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from propdesk.jobs.retention import months_before, purge_market_data_access_log
from propdesk.marketdata.clock import ReplayClock
from propdesk.store.prices import AccessLogRepository, AccessLogRow
from propdesk.store.uow import UnitOfWork

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def test_months_before_clamps_to_the_end_of_shorter_months() -> None:
    assert months_before(NOW, 13) == datetime(2025, 2, 28, 12, 0, tzinfo=UTC)
    assert months_before(datetime(2024, 5, 31, tzinfo=UTC), 3) == datetime(2024, 2, 29, tzinfo=UTC)
    assert months_before(NOW, 0) == NOW


def test_rows_older_than_13_months_are_purged(engine: Engine) -> None:
    cutoff = datetime(2025, 2, 28, 12, 0, tzinfo=UTC)
    stamps = [
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2025, 2, 28, 11, 59, 59, 999999, tzinfo=UTC),  # just older than 13 months
        cutoff,
        datetime(2026, 1, 1, tzinfo=UTC),
    ]
    rows = [AccessLogRow("u-1", f"S{i}", "quote", at, "alpaca:iex") for i, at in enumerate(stamps)]
    with UnitOfWork(engine) as uow:
        AccessLogRepository(uow.connection).record(rows)
        uow.commit()
    clock = ReplayClock(NOW)
    assert purge_market_data_access_log(engine, clock) == 2
    assert purge_market_data_access_log(engine, clock) == 0
    with UnitOfWork(engine, read_only=True) as uow:
        assert AccessLogRepository(uow.connection).rows() == rows[2:]  # exactly 13 months old is kept


def test_a_plain_clock_function_works_too(engine: Engine) -> None:
    assert purge_market_data_access_log(engine, lambda: NOW) == 0
