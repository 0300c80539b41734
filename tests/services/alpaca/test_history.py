"""A daily portfolio history shows the end-of-day snapshot's equity where one was taken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine

from propdesk.model.market import Quote
from propdesk.services.alpaca.history import portfolio_history
from propdesk.services.alpaca.history_plan import HistoryQuery
from propdesk.services.context import ServiceContext
from propdesk.services.daily import snapshots
from propdesk.store.uow import UnitOfWork
from tests.db import StepClock, run_history, started_account

CLOSE = datetime(2026, 1, 5, 21, 0, tzinfo=UTC)


def test_the_1d_history_reads_the_snapshot_of_a_snapshotted_day(engine: Engine) -> None:
    account_id, _ = started_account(engine, prefix="hist")
    state = run_history(engine, account_id)
    ctx = ServiceContext(
        engine=engine, clock=StepClock(datetime(2026, 1, 7, 22, tzinfo=UTC), step=timedelta(0))
    )
    query = HistoryQuery(period="1W", timeframe="1D")
    before = portfolio_history(ctx, account_id, query)
    assert set(before.equity) == {state.equity}  # the ledger's last marks on every day
    with UnitOfWork(engine) as uow:
        uow.prices.write_quote(
            Quote("AAPL", CLOSE - timedelta(minutes=1), Decimal(160), Decimal(160)), source="t"
        )
        uow.commit()
    snapshots.snapshot_account(ctx, account_id, CLOSE.date())
    [snap] = snapshots.snapshots(ctx, account_id, CLOSE.date(), CLOSE.date())
    assert snap.equity != state.equity
    after = portfolio_history(ctx, account_id, query)
    day = after.timestamps.index(next(t for t in after.timestamps if t.date() == CLOSE.date()))
    assert after.equity[day] == snap.equity
    assert [e for i, e in enumerate(after.equity) if i != day] == [
        e for i, e in enumerate(before.equity) if i != day
    ]
