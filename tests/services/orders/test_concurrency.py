"""Acceptance: concurrent orders on one account never over-reserve; two accounts never wait for each other.

Seed 002, scenario 1: an account with 10,000 of cash at leverage 1 and 32 limit buys of 7 AAPL at
99, each reserving 693.69 (693 of margin plus the 10 bps fee as billed, 0.69): exactly
floor(10000 / 693.69) = 14 must be accepted and the other 18 refused with
``insufficient_buying_power`` (:class:`~propdesk.services.errors.Forbidden`), whatever the
interleaving. The orders go through the real order service (``submit_order``: lock the account,
load the book, decide, save, commit). On both backends they come from threads; on PostgreSQL
also from spawned processes x threads, since the account row lock (``SELECT … FOR UPDATE``) must
hold across processes. A second race mixes submits with cancels; its accepted count depends on
the interleaving, so it checks the invariants: the ledger's running reservation never exceeded
the cash, and what the account holds is exactly what its open orders hold.

Seed 002, scenario 2: on PostgreSQL an order on account B completes while another transaction
holds account A's lock, and an order on A waits for it (on SQLite every writer serializes on the
file, by design). The throughput of two accounts against one is measured by ``bench/orders.py``;
timings are printed (``pytest -s``), never asserted.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.accounting.events import FundsReserved, ReservationReleased
from propdesk.model.ids import AccountId, OrderId
from propdesk.model.market import Quote
from propdesk.model.orders import OrderStatus
from propdesk.services.accounts import lifecycle
from propdesk.services.accounts.commands import get_state, recompute
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Invalid
from propdesk.services.orders import commands as orders
from propdesk.services.orders.evaluation import evaluate_account
from propdesk.store.engine import create_engine_for
from propdesk.store.tables import orders as orders_table
from propdesk.store.uow import UnitOfWork
from tests.db import T0
from tests.services.orders.order_worker import (
    ACCEPTED,
    NOW,
    SYMBOL,
    Outcome,
    Request,
    context,
    limit_buy,
    process_main,
    race_threads,
)

STARTING_CASH = Decimal(10000)
PER_ORDER = Decimal("693.69")  # 7 x 99 at leverage 1, plus the 10 bps fee rounded to the cent
REQUESTS = 32
FIT = int(STARTING_CASH // PER_ORDER)  # 14
REFUSED = "Forbidden:insufficient_buying_power"


def open_account(ctx: ServiceContext, key: str) -> AccountId:
    """A started account whose cash fits exactly FIT orders (open-order limit out of the way)."""
    overrides = {"starting_balance": str(STARTING_CASH), "max_leverage": "1", "max_open_orders": 1000}
    row = lifecycle.create_account(ctx, lifecycle.NewAccount(idempotency_key=key, overrides=overrides))
    lifecycle.start(ctx, AccountId(row.id))
    return AccountId(row.id)


def store_quote(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        quote = Quote(symbol=SYMBOL, time=T0, bid=Decimal(100), ask=Decimal("100.02"))
        uow.prices.write_quote(quote, source="test")
        uow.commit()


def requests_for(account_id: str, prefix: str, *, cancel_every: int = 0) -> list[Request]:
    return [
        Request(account_id, f"{prefix}-{i:02d}", cancel_every > 0 and i % cancel_every == 0)
        for i in range(REQUESTS)
    ]


def check_account(engine: Engine, account_id: str, outcomes: list[Outcome], *, exact: bool) -> Counter[str]:
    """Every invariant a race on ``account_id`` must preserve; returns the outcome codes."""
    mine = [o for o in outcomes if o.account_id == account_id]
    assert len(mine) == REQUESTS
    assert len({o.client_order_id for o in mine}) == REQUESTS
    codes = Counter(o.code for o in mine)
    assert set(codes) <= {ACCEPTED, REFUSED}, codes
    accepted = [o for o in mine if o.code == ACCEPTED]
    assert {Decimal(o.reserved) for o in accepted} == {PER_ORDER}
    still_open = {o.order_id for o in accepted if not o.canceled}
    canceled = {o.order_id for o in accepted if o.canceled}
    if exact:
        assert not canceled
        assert codes == {ACCEPTED: FIT, REFUSED: REQUESTS - FIT}
    else:
        # A refusal means FIT orders were open at that moment; a race without refusals had room.
        assert len(accepted) >= (FIT if codes[REFUSED] else REQUESTS)

    state = get_state(engine, AccountId(account_id))
    with UnitOfWork(engine, read_only=True) as uow:
        held = uow.orders.open_reserved(account_id)
        events = uow.accounts.load_events(account_id)
        stored = uow.connection.execute(
            sa.select(orders_table.c.id, orders_table.c.status).where(orders_table.c.account_id == account_id)
        ).all()
    # Refused orders left nothing; accepted ones are open or canceled as their worker left them.
    assert {row.id: row.status for row in stored} == {
        **dict.fromkeys(still_open, OrderStatus.NEW.value),
        **dict.fromkeys(canceled, OrderStatus.CANCELED.value),
    }
    assert held == dict.fromkeys(still_open, PER_ORDER)
    assert dict(state.reservations) == held
    assert state.reserved_for_orders == sum(held.values(), Decimal(0)) == len(still_open) * PER_ORDER
    assert state.cash == state.equity == STARTING_CASH
    assert state.available_capital >= 0
    # Never over-reserved at any moment: fold the reservations of the ledger, event by event.
    running = peak = Decimal(0)
    reserved_for, released_for = [], []
    for event in events:
        if isinstance(event, FundsReserved):
            running += event.amount
            reserved_for.append(event.order_id)
        elif isinstance(event, ReservationReleased):
            running -= event.amount
            released_for.append(event.order_id)
        peak = max(peak, running)
    assert peak <= STARTING_CASH
    assert running == state.reserved_for_orders
    assert sorted(reserved_for) == sorted(o.order_id for o in accepted)
    assert sorted(released_for) == sorted(canceled)
    assert recompute(engine, AccountId(account_id)) == {}
    return codes


def test_concurrent_orders_on_one_account_never_over_reserve(db_url: str) -> None:
    threads = 12
    engine = create_engine_for(db_url, pool_size=threads)
    try:
        store_quote(engine)
        account_id = open_account(context(engine), "one")
        started = time.perf_counter()
        outcomes = race_threads(engine, requests_for(account_id, "t"), threads)
        elapsed = time.perf_counter() - started
        codes = check_account(engine, account_id, outcomes, exact=True)
        print(
            f"\n[{engine.dialect.name}] {threads} threads, {REQUESTS} orders: {dict(codes)}, race {elapsed:.3f}s"
        )
    finally:
        engine.dispose()


def test_submits_and_cancels_racing_on_one_account_keep_the_reservations_exact(db_url: str) -> None:
    threads = 8
    engine = create_engine_for(db_url, pool_size=threads)
    try:
        store_quote(engine)
        account_id = open_account(context(engine), "mixed")
        started = time.perf_counter()
        outcomes = race_threads(engine, requests_for(account_id, "m", cancel_every=3), threads)
        elapsed = time.perf_counter() - started
        codes = check_account(engine, account_id, outcomes, exact=False)
        canceled = sum(o.canceled for o in outcomes)
        print(
            f"\n[{engine.dialect.name}] {threads} threads, {REQUESTS} orders, {canceled} canceled at once: "
            f"{dict(codes)}, race {elapsed:.3f}s"
        )
    finally:
        engine.dispose()


def test_racing_duplicates_make_one_order_and_one_cancel(db_url: str) -> None:
    """8 threads send the same order (one client_order_id): one order, seven replays, one
    reservation. Then 8 threads cancel it: one cancel, seven ``order_not_open``."""
    threads = 8
    engine = create_engine_for(db_url, pool_size=threads)
    try:
        store_quote(engine)
        ctx = context(engine)
        account_id = open_account(ctx, "dup")
        barrier = threading.Barrier(threads)

        def submit(_: int) -> tuple[str, bool]:
            barrier.wait(timeout=60)
            sent = orders.submit_order(ctx, account_id, limit_buy("same"))
            return sent.order.id, sent.replayed

        def cancel(order_id: str) -> str:
            barrier.wait(timeout=60)
            try:
                return orders.cancel_order(ctx, account_id, OrderId(order_id)).status.value
            except Invalid as exc:
                return exc.code

        with ThreadPoolExecutor(max_workers=threads) as pool:
            submitted = list(pool.map(submit, range(threads)))
            assert len({order_id for order_id, _ in submitted}) == 1
            assert sorted(replayed for _, replayed in submitted) == [False] + [True] * (threads - 1)
            assert get_state(engine, account_id).reserved_for_orders == PER_ORDER
            canceled = Counter(pool.map(cancel, [submitted[0][0]] * threads))
        assert canceled == {OrderStatus.CANCELED.value: 1, "order_not_open": threads - 1}
        assert get_state(engine, account_id).reserved_for_orders == 0
        assert recompute(engine, account_id) == {}
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_processes_and_threads_never_over_reserve(postgres_url: str) -> None:
    """3 spawned processes x 4 threads race on two accounts at once: account A takes only submits
    (exactly FIT accepted), account B submits and cancels (invariants only)."""
    processes, threads = 3, 4
    engine = create_engine_for(postgres_url)
    try:
        store_quote(engine)
        ctx = context(engine)
        a, b = open_account(ctx, "a"), open_account(ctx, "b")
        mixed = [
            r
            for pair in zip(requests_for(a, "pa"), requests_for(b, "pb", cancel_every=2), strict=True)
            for r in pair
        ]
        spawn = multiprocessing.get_context("spawn")
        ready, results, go = spawn.Queue(), spawn.Queue(), spawn.Event()
        launched = time.perf_counter()
        children = [
            spawn.Process(
                target=process_main, args=(postgres_url, mixed[p::processes], threads, ready, go, results)
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

        codes_a = check_account(engine, a, outcomes, exact=True)
        codes_b = check_account(engine, b, outcomes, exact=False)
        print(
            f"\n[postgresql] {processes} processes x {threads} threads, {2 * REQUESTS} orders on two accounts: "
            f"A {dict(codes_a)}, B {dict(codes_b)} ({sum(o.canceled for o in outcomes)} canceled), "
            f"race {elapsed:.3f}s (spawn + warm-up {startup:.2f}s)"
        )
    finally:
        engine.dispose()


def _lock_waiters(engine: Engine) -> int:
    """Backends of this database waiting for a row lock (what an order on a locked account does)."""
    with engine.connect() as conn:
        count: int = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
        return count


@pytest.mark.postgres
def test_postgres_orders_on_another_account_do_not_wait_for_a_locked_account(postgres_url: str) -> None:
    """While a transaction holds account A's lock, submit, cancel and evaluate on B complete; an
    order on A waits for the lock and completes once it is released. Waits are bounded, so a
    regression fails the test instead of hanging it."""
    engine = create_engine_for(postgres_url, pool_size=4)
    try:
        store_quote(engine)
        ctx = context(engine)
        a, b = open_account(ctx, "held"), open_account(ctx, "free")

        def on_b() -> str:
            placed = orders.submit_order(ctx, b, limit_buy("b-1")).order
            orders.submit_order(ctx, b, limit_buy("b-2"))
            evaluate_account(ctx, b, until=NOW)
            return orders.cancel_order(ctx, b, OrderId(placed.id)).status.value

        with ThreadPoolExecutor(max_workers=2) as pool:
            holder = UnitOfWork(engine)
            with holder:
                holder.lock_account(a)
                try:
                    assert pool.submit(on_b).result(timeout=15) == OrderStatus.CANCELED.value
                except FutureTimeout:
                    pytest.fail("an order on account B waited for account A's lock")
                on_a = pool.submit(orders.submit_order, ctx, a, limit_buy("a-1"))
                deadline = time.monotonic() + 15
                while _lock_waiters(engine) == 0 and not on_a.done():
                    assert time.monotonic() < deadline, "the order on A neither waited nor finished"
                    time.sleep(0.01)
                assert not on_a.done(), "an order on A completed while another transaction held A's lock"
                holder.rollback()
            placed = on_a.result(timeout=15).order
        assert (placed.status, placed.reserved) == (OrderStatus.NEW, PER_ORDER)
        assert get_state(engine, a).reserved_for_orders == PER_ORDER
        assert get_state(engine, b).reserved_for_orders == PER_ORDER
        assert recompute(engine, a) == {}
        assert recompute(engine, b) == {}
    finally:
        engine.dispose()
