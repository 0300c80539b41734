"""Acceptance: concurrent reservations against one account never spend the same cash twice.

Starting cash 10,000 and 32 requests of 700: exactly floor(10000 / 700) = 14 must be accepted and
the other 18 refused for buying power, whatever the interleaving. On PostgreSQL the requests come
from 4 spawned processes x 8 threads (the account row lock, ``SELECT … FOR UPDATE``, must hold
across processes); on SQLite from 16 threads on a WAL file (``BEGIN IMMEDIATE``). Timings are
printed (``pytest -s``), not asserted.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.model.ids import AccountId, sequential_ids
from propdesk.services.accounts.commands import get_state, open_account, recompute
from propdesk.store.engine import create_engine_for
from propdesk.store.tables import accounts, balances, ledger_events, reservations
from propdesk.store.uow import UnitOfWork
from tests.db import StepClock, policy, started_account
from tests.services.orders.reserve_worker import ACCEPTED, Outcome, process_main, race_threads

STARTING_CASH = Decimal(10000)
AMOUNT = Decimal(700)
REQUESTS = 32
EXPECTED_ACCEPTED = int(STARTING_CASH // AMOUNT)  # 14


def _requests(prefix: str) -> list[tuple[str, str]]:
    return [(f"{prefix}-{i:02d}", str(AMOUNT)) for i in range(REQUESTS)]


def _check_outcome(engine: Engine, account_id: str, outcomes: list[Outcome]) -> list[str]:
    """Every invariant the race must preserve; returns the accepted order ids."""
    assert len(outcomes) == REQUESTS
    assert len({order_id for order_id, _ in outcomes}) == REQUESTS
    codes = Counter(code for _, code in outcomes)
    assert not [o for o in outcomes if o[1].startswith("error")], codes
    accepted = sorted(order_id for order_id, code in outcomes if code == ACCEPTED)
    assert codes == {ACCEPTED: EXPECTED_ACCEPTED, "insufficient_buying_power": REQUESTS - EXPECTED_ACCEPTED}
    assert len(accepted) * AMOUNT <= STARTING_CASH

    state = get_state(engine, AccountId(account_id))
    assert sorted(state.reservations) == accepted
    assert state.reserved_for_orders == len(accepted) * AMOUNT
    assert state.cash == STARTING_CASH
    with engine.connect() as conn:
        open_rows = conn.execute(
            sa.select(reservations.c.amount).where(
                reservations.c.account_id == account_id, reservations.c.status == "open"
            )
        ).scalars()
        stored_reserved = conn.execute(
            sa.select(balances.c.reserved_for_orders).where(balances.c.account_id == account_id)
        ).scalar_one()
        seqs = (
            conn.execute(
                sa.select(ledger_events.c.seq)
                .where(ledger_events.c.account_id == account_id)
                .order_by(ledger_events.c.seq)
            )
            .scalars()
            .all()
        )
        reserved_orders = set(
            conn.execute(
                sa.select(ledger_events.c.correlation_id).where(ledger_events.c.type == "funds_reserved")
            ).scalars()
        )
    assert sum(open_rows, Decimal(0)) == stored_reserved == len(accepted) * AMOUNT
    # Opening wrote seq 1, start 2 and 3; each accepted request exactly one more, no gap, no repeat.
    assert seqs == list(range(1, 3 + EXPECTED_ACCEPTED + 1))
    assert reserved_orders == set(accepted)
    assert recompute(engine, AccountId(account_id)) == {}
    return accepted


@pytest.mark.postgres
def test_postgres_processes_and_threads_never_overspend(postgres_url: str) -> None:
    processes, threads = 4, 8
    engine = create_engine_for(postgres_url)
    try:
        account_id, _ = started_account(engine, str(STARTING_CASH))
        requests = _requests("pg")
        context = multiprocessing.get_context("spawn")
        ready, results, go = context.Queue(), context.Queue(), context.Event()
        launched = time.perf_counter()
        children = [
            context.Process(
                target=process_main,
                args=(postgres_url, account_id, requests[p::processes], threads, ready, go, results),
            )
            for p in range(processes)
        ]
        for child in children:
            child.start()
        for _ in children:
            ready.get(timeout=120)
        startup = time.perf_counter() - launched
        started = time.perf_counter()
        go.set()
        outcomes: list[Outcome] = [o for _ in children for o in results.get(timeout=120)]
        elapsed = time.perf_counter() - started
        for child in children:
            child.join(timeout=30)
        assert [child.exitcode for child in children] == [0] * processes

        accepted = _check_outcome(engine, account_id, outcomes)
        print(
            f"\n[postgresql] {processes} processes x {threads} threads, {REQUESTS} reservations of {AMOUNT} "
            f"against {STARTING_CASH}: {len(accepted)} accepted, {REQUESTS - len(accepted)} refused, "
            f"race {elapsed:.3f}s (spawn + warm-up {startup:.2f}s)"
        )
    finally:
        engine.dispose()


def test_sqlite_threads_never_overspend(sqlite_url: str) -> None:
    threads = 16
    engine = create_engine_for(sqlite_url, pool_size=threads)
    try:
        with UnitOfWork(engine) as uow:
            assert uow.connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        account_id, _ = started_account(engine, str(STARTING_CASH))
        started = time.perf_counter()
        outcomes = race_threads(engine, account_id, _requests("lite"), threads)
        elapsed = time.perf_counter() - started

        accepted = _check_outcome(engine, account_id, outcomes)
        print(
            f"\n[sqlite] {threads} threads, {REQUESTS} reservations of {AMOUNT} against {STARTING_CASH}: "
            f"{len(accepted)} accepted, {REQUESTS - len(accepted)} refused, race {elapsed:.3f}s"
        )
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_threads_never_overspend(postgres_url: str) -> None:
    """The same race from 16 threads of one process (one pooled connection each)."""
    threads = 16
    engine = create_engine_for(postgres_url, pool_size=threads)
    try:
        account_id, _ = started_account(engine, str(STARTING_CASH))
        started = time.perf_counter()
        outcomes = race_threads(engine, account_id, _requests("pgt"), threads)
        elapsed = time.perf_counter() - started
        accepted = _check_outcome(engine, account_id, outcomes)
        print(
            f"\n[postgresql] 1 process x {threads} threads: {len(accepted)} accepted, "
            f"{REQUESTS - len(accepted)} refused, race {elapsed:.3f}s"
        )
    finally:
        engine.dispose()


def test_racing_opens_with_one_idempotency_key_make_one_account(db_url: str) -> None:
    threads = 8
    engine = create_engine_for(db_url, pool_size=threads)
    barrier = threading.Barrier(threads)
    ids = sequential_ids("acct")
    id_lock = threading.Lock()

    def next_id() -> str:
        with id_lock:
            return ids()

    def open_one(_: int) -> str:
        barrier.wait()
        return open_account(
            engine, policy=policy(), idempotency_key="same-key", clock=StepClock(), ids=next_id
        )

    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            opened = list(pool.map(open_one, range(threads)))
        assert len(set(opened)) == 1
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one() == 1
    finally:
        engine.dispose()
