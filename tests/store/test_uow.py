"""The unit of work: rollback unless committed, and account locks that really exclude writers."""

from __future__ import annotations

import sqlite3
import threading
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from propdesk.accounting.kernel import ReserveForOrder
from propdesk.services.accounts.commands import execute, get_state
from propdesk.store.engine import create_engine_for
from propdesk.store.errors import AccountNotFound, UnitOfWorkError
from propdesk.store.tables import users
from propdesk.store.uow import UnitOfWork
from tests.db import T0, StepClock, started_account


def _user_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()


def test_commit_persists(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.users.insert(user_id="u1", name="Ada", created_at=T0)
        uow.commit()
    assert _user_count(engine) == 1


def test_without_commit_nothing_persists(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.users.insert(user_id="u1", name="Ada", created_at=T0)
        assert uow.users.find("u1") is not None  # visible inside the transaction
    assert _user_count(engine) == 0


def test_an_exception_inside_rolls_back_and_propagates(engine: Engine) -> None:
    def insert_then_fail() -> None:
        with UnitOfWork(engine) as uow:
            uow.users.insert(user_id="u1", name="Ada", created_at=T0)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        insert_then_fail()
    assert _user_count(engine) == 0


def test_explicit_rollback_discards(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.users.insert(user_id="u1", name="Ada", created_at=T0)
        uow.rollback()
    assert _user_count(engine) == 0


def test_a_committed_unit_of_work_cannot_be_reused(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.commit()
        with pytest.raises(UnitOfWorkError):
            uow.users.insert(user_id="u1", name="Ada", created_at=T0)
    with pytest.raises(UnitOfWorkError):
        uow.__enter__()


def test_lock_unknown_account_raises_account_not_found(engine: Engine) -> None:
    with UnitOfWork(engine) as uow, pytest.raises(AccountNotFound) as info:
        uow.lock_account("nope")
    assert info.value.account_id == "nope"


def test_lock_accounts_locks_in_sorted_id_order(engine: Engine) -> None:
    clock = StepClock()
    ids = [started_account(engine, clock=clock, prefix=p)[0] for p in ("c", "a", "b")]
    seen: list[str] = []

    def capture(conn: object, cursor: object, statement: str, params: object, *rest: object) -> None:
        if "FROM accounts" in statement:
            seen.append(str(params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with UnitOfWork(engine) as uow:
            rows = uow.lock_accounts([ids[0], ids[1], ids[2], ids[0]])
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert [r.id for r in rows] == sorted(ids)
    assert len(seen) == 3
    assert all(account_id in text for account_id, text in zip(sorted(ids), seen, strict=True))


def test_sqlite_engine_must_come_from_the_factory(tmp_path: Path) -> None:
    plain = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(UnitOfWorkError, match="create_engine_for"):
        UnitOfWork(plain)
    plain.dispose()


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        create_engine_for("sqlite://")


def test_a_locked_account_excludes_other_writers_until_commit(engine: Engine, db_url: str) -> None:
    account_id, _ = started_account(engine)
    with UnitOfWork(engine) as uow:
        uow.lock_account(account_id)
        if engine.dialect.name == "postgresql":
            dsn = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(dsn) as other, pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SELECT id FROM accounts WHERE id = %s FOR UPDATE NOWAIT", (account_id,))
        else:
            path = make_url(db_url).database
            assert path is not None
            other_lite = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other_lite.execute("BEGIN IMMEDIATE")
            finally:
                other_lite.close()


def test_a_second_unit_of_work_waits_for_the_lock(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    order: list[str] = []
    locked = threading.Event()

    def second() -> None:
        locked.wait()
        with UnitOfWork(engine) as uow:
            uow.lock_account(account_id)
            order.append("second locked")

    thread = threading.Thread(target=second)
    thread.start()
    with UnitOfWork(engine) as uow:
        uow.lock_account(account_id)
        locked.set()
        time.sleep(0.3)
        order.append("first done")
        uow.commit()
    thread.join(timeout=10)
    assert order == ["first done", "second locked"]


def test_a_read_only_unit_of_work_neither_locks_nor_commits(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    with UnitOfWork(engine, read_only=True) as uow:
        with pytest.raises(UnitOfWorkError, match="no locks"):
            uow.lock_account(account_id)
        with pytest.raises(UnitOfWorkError, match="nothing to commit"):
            uow.commit()


def test_a_reader_sees_one_snapshot_and_does_not_hold_up_writers(engine: Engine) -> None:
    account_id, before = started_account(engine)
    written = threading.Event()

    def writer() -> None:
        execute(engine, account_id, ReserveForOrder(at=T0, order_id="o-1", amount=Decimal(10)))
        written.set()

    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.accounts.load_state(account_id) == before
        thread = threading.Thread(target=writer)
        thread.start()
        # The writer commits while the reader's transaction is still open...
        assert written.wait(timeout=10)
        # ...and the reader keeps reading the snapshot it started with.
        assert uow.accounts.load_state(account_id) == before
        assert len(uow.accounts.ledger(account_id)) == 3
    thread.join(timeout=10)
    assert set(get_state(engine, account_id).reservations) == {"o-1"}
