"""The ledger: gapless per-account seq, a cash_after chain equal to cash, append-only, replayable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.accounting.events import (
    AccountCreated,
    AccountStarted,
    FundsReserved,
    StatusChanged,
)
from propdesk.accounting.kernel import ReserveForOrder, handle, replay
from propdesk.accounting.state import AccountStatus
from propdesk.services.accounts.commands import execute, get_state
from propdesk.store.tables import ledger_events
from propdesk.store.uow import UnitOfWork
from tests.db import T0, StepClock, history, run_history, started_account


def _ledger_count(engine: Engine, account_id: str) -> int:
    with engine.connect() as conn:
        stmt = sa.select(sa.func.count()).where(ledger_events.c.account_id == account_id)
        return conn.execute(stmt).scalar_one()


def test_seq_is_gapless_per_account_and_matches_state(engine: Engine) -> None:
    first, _ = started_account(engine, prefix="a")
    second, _ = started_account(engine, prefix="b")
    run_history(engine, first)
    execute(engine, second, ReserveForOrder(at=T0, order_id="x", amount=Decimal(5)))
    with UnitOfWork(engine) as uow:
        rows_first = uow.accounts.ledger(first)
        rows_second = uow.accounts.ledger(second)
        account_first = uow.accounts.get(first)
    assert [r.seq for r in rows_first] == list(range(1, 3 + len(history(first)) + 1))
    assert [r.seq for r in rows_second] == [1, 2, 3, 4]
    assert account_first.last_seq == len(rows_first) == get_state(engine, first).seq


def test_cash_after_chain_sums_the_deltas_and_ends_at_cash(engine: Engine) -> None:
    account_id, _ = started_account(engine, "123456789.123456")
    run_history(engine, account_id)
    with UnitOfWork(engine) as uow:
        rows = uow.accounts.ledger(account_id)
    running = Decimal(0)
    for row in rows:
        running += row.cash_delta
        assert row.cash_after == running, row.seq
    assert rows[-1].cash_after == get_state(engine, account_id).cash


def test_unique_constraint_rejects_a_duplicate_seq(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    duplicate = {
        "account_id": account_id,
        "seq": 1,
        "type": "cash_adjusted",
        "at": T0,
        "cash_delta": Decimal(1),
        "cash_after": Decimal(1),
        "payload": {"reason": "forged"},
        "recorded_at": T0,
    }
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(ledger_events).values(**duplicate))
    assert _ledger_count(engine, account_id) == 3


@pytest.mark.parametrize(
    "statement",
    ["UPDATE ledger_events SET cash_delta = '0'", "DELETE FROM ledger_events"],
    ids=["update", "delete"],
)
def test_ledger_is_append_only(engine: Engine, statement: str) -> None:
    account_id, _ = started_account(engine)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text(statement))
    assert _ledger_count(engine, account_id) == 3


def test_events_decode_and_replay_to_the_stored_state(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    run_history(engine, account_id)
    with UnitOfWork(engine) as uow:
        events = uow.accounts.load_events(account_id)
        stored = uow.accounts.load_state(account_id)
    assert isinstance(events[0], AccountCreated)
    assert isinstance(events[1], AccountStarted)
    assert isinstance(events[2], StatusChanged)
    assert events[2].to_status is AccountStatus.ACTIVE
    assert replay(account_id, events) == stored


def test_correlation_causation_and_recorded_at_are_stored(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    recorded = T0 + timedelta(days=3)
    execute(
        engine,
        account_id,
        ReserveForOrder(at=T0, order_id="o-7", amount=Decimal(10)),
        clock=StepClock(recorded),
        correlation_id="order:o-7",
        causation_id="decision:d-1",
    )
    with UnitOfWork(engine) as uow:
        last = uow.accounts.ledger(account_id)[-1]
    assert last.type == FundsReserved.type
    assert (last.correlation_id, last.causation_id) == ("order:o-7", "decision:d-1")
    assert last.recorded_at == recorded
    assert last.payload == {"order_id": "o-7", "amount": "10"}


def test_recorded_at_defaults_to_the_database_time(engine: Engine) -> None:
    account_id, state = started_account(engine)
    decision = handle(state, ReserveForOrder(at=T0, order_id="o", amount=Decimal(1)))
    with UnitOfWork(engine) as uow:
        uow.lock_account(account_id)
        uow.accounts.save(account_id, decision.state, decision.events)
        uow.commit()
    with UnitOfWork(engine) as uow:
        last = uow.accounts.ledger(account_id)[-1]
    assert last.recorded_at.utcoffset() == timedelta(0)
    assert abs(last.recorded_at - datetime.now(UTC)) < timedelta(minutes=5)
