"""End-of-day snapshots: figures as of the close, one row per account and day, idempotent runs."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from propdesk.accounting.kernel import ApplyFill
from propdesk.model.ids import AccountId
from propdesk.model.market import Quote
from propdesk.model.orders import Side
from propdesk.services.accounts.commands import execute, get_state
from propdesk.services.context import ServiceContext
from propdesk.services.daily import snapshots
from propdesk.store.tables import account_snapshots
from propdesk.store.uow import UnitOfWork
from tests.db import AAPL, T0, StepClock, fill, run_history, started_account

DAY = date(2026, 1, 5)  # T0 is 10:00 ET on this Monday; the close is 21:00 UTC
CLOSE = datetime(2026, 1, 5, 21, 0, tzinfo=T0.tzinfo)
D = Decimal


def _ctx(engine: Engine) -> ServiceContext:
    return ServiceContext(engine=engine, clock=StepClock(CLOSE + timedelta(hours=1)))


def _rows(engine: Engine, account_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Stored snapshots without their write time (which differs between runs)."""
    stmt = sa.select(account_snapshots).order_by(
        account_snapshots.c.account_id, account_snapshots.c.trading_date
    )
    if account_ids is not None:
        stmt = stmt.where(account_snapshots.c.account_id.in_(account_ids))
    with engine.connect() as conn:
        return [{k: v for k, v in r.items() if k != "created_at"} for r in conn.execute(stmt).mappings()]


def _quote(engine: Engine, symbol: str, price: str, at: datetime) -> None:
    with UnitOfWork(engine) as uow:
        uow.prices.write_quote(Quote(symbol, at, D(price), D(price)), source="test")
        uow.commit()


def test_a_snapshot_records_the_book_marked_to_the_last_quote_before_the_close(engine: Engine) -> None:
    account_id, _ = started_account(engine, prefix="snap")
    state = run_history(engine, account_id)
    _quote(engine, "AAPL", "160", CLOSE - timedelta(minutes=5))
    _quote(engine, "AAPL", "999", CLOSE + timedelta(minutes=5))  # after the close: not used
    ctx = _ctx(engine)
    assert snapshots.snapshot_account(ctx, account_id, DAY) is True
    [snap] = snapshots.snapshots(ctx, account_id, DAY, DAY)
    aapl = state.positions["AAPL"]
    expected_equity = state.equity + aapl.qty * (D(160) - aapl.mark)
    assert (snap.trading_date, snap.as_of, snap.status) == (DAY, CLOSE, "active")
    assert snap.equity == expected_equity
    assert snap.cash == state.cash
    assert snap.realized_pnl == state.realized_pnl
    assert snap.unrealized_pnl == state.unrealized_pnl + aapl.qty * (D(160) - aapl.mark)
    assert snap.positions["AAPL"]["mark"] == "160"
    assert D(snap.positions["AAPL"]["qty"]) == aapl.qty
    assert snap.rules is None  # no rule pack
    assert snapshots.snapshot_account(ctx, account_id, DAY) is False  # the first row stands


def test_a_snapshot_taken_late_folds_the_ledger_up_to_the_close(engine: Engine) -> None:
    account_id, _ = started_account(engine, prefix="late")
    at_close = run_history(engine, account_id)
    later = CLOSE + timedelta(hours=14)  # the next morning
    execute(
        engine,
        account_id,
        ApplyFill(at=later, fill=fill(AAPL, Side.BUY, "5", "170", fill_id="late-f9", when=later)),
        clock=StepClock(later),
    )
    assert get_state(engine, account_id).positions["AAPL"].qty != at_close.positions["AAPL"].qty
    ctx = ServiceContext(engine=engine, clock=StepClock(later + timedelta(hours=1)))
    snapshots.snapshot_account(ctx, account_id, DAY)
    [snap] = snapshots.snapshots(ctx, account_id, DAY, DAY)
    assert (snap.equity, snap.cash) == (at_close.equity, at_close.cash)
    assert D(snap.positions["AAPL"]["qty"]) == at_close.positions["AAPL"].qty


def test_a_non_trading_day_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="not a trading day"):
        snapshots.snapshot_all(_ctx(engine), date(2026, 1, 3))


_examples = itertools.count()


class Killed(BaseException):
    """A process dying mid-run: not an Exception, so the run's per-account handling never sees it."""


books = st.lists(
    st.lists(st.tuples(st.integers(1, 20), st.integers(100, 300)), min_size=0, max_size=3),
    min_size=1,
    max_size=4,
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(book=books, mark=st.integers(50, 400), data=st.data())
def test_the_snapshot_job_is_idempotent_and_a_killed_run_resumes(
    engine: Engine, book: list[list[tuple[int, int]]], mark: int, data: st.DataObject
) -> None:
    """Acceptance 3: a second run changes nothing; a run killed after k accounts and rerun stores
    what one clean run stores."""
    with engine.begin() as conn:
        conn.execute(sa.delete(account_snapshots))
    ids: list[str] = []
    example = next(_examples)
    for buys in book:
        clock = StepClock(T0)
        account_id, _ = started_account(engine, clock=clock, prefix=f"h{example}x{len(ids)}")
        for n, (qty, price) in enumerate(buys):
            when = clock()
            execute(
                engine,
                account_id,
                ApplyFill(
                    at=when,
                    fill=fill(AAPL, Side.BUY, str(qty), str(price), fill_id=f"{account_id}-{n}", when=when),
                ),
                clock=StepClock(when),
            )
        ids.append(account_id)
    _quote(engine, "AAPL", str(mark), CLOSE - timedelta(minutes=1))
    ctx = _ctx(engine)
    due = snapshots.accounts_due(ctx)

    killed_after = data.draw(st.integers(0, len(due) - 1), label="killed after")
    real = snapshots.snapshot_in
    done: list[str] = []

    def dying(ctx_: ServiceContext, uow: UnitOfWork, account_id: AccountId, day: date) -> bool:
        if len(done) == killed_after:
            raise Killed
        done.append(account_id)
        return real(ctx_, uow, account_id, day)

    patch = pytest.MonkeyPatch()
    patch.setattr(snapshots, "snapshot_in", dying)
    with pytest.raises(Killed):
        snapshots.snapshot_all(ctx, DAY)
    patch.undo()
    assert len(_rows(engine)) == killed_after
    resumed = snapshots.snapshot_all(ctx, DAY)
    assert (resumed.written, resumed.existing, resumed.failed) == (len(due) - killed_after, killed_after, [])
    after_resume = _rows(engine)
    again = snapshots.snapshot_all(ctx, DAY)
    assert (again.written, again.existing) == (0, len(due))
    assert _rows(engine) == after_resume

    with engine.begin() as conn:
        conn.execute(sa.delete(account_snapshots))
    clean = snapshots.snapshot_all(ctx, DAY)
    assert clean.written == len(due)
    assert _rows(engine) == after_resume
    assert len({(r["account_id"], r["trading_date"]) for r in after_resume}) == len(due)


def test_an_account_created_after_the_close_has_no_snapshot_for_that_day(engine: Engine) -> None:
    account_id, _ = started_account(engine, clock=StepClock(CLOSE + timedelta(hours=2)), prefix="new")
    ctx = _ctx(engine)
    assert snapshots.snapshot_account(ctx, account_id, DAY) is False
    assert snapshots.snapshots(ctx, account_id, DAY, DAY) == []
    assert snapshots.snapshot_account(ctx, account_id, date(2026, 1, 6)) is True
