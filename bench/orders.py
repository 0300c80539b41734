"""Order engine throughput: one account against two, the resting-order evaluator, intake latency.

Run: ``.venv/bin/python bench/orders.py [--database-url URL]`` (about 90 s when idle; one line per
figure). Without ``--database-url`` a throwaway PostgreSQL database ``propdesk_bench_orders_<pid>``
is created on the server at ``PROPDESK_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), migrated, measured and dropped; if that
server is unreachable, a temporary SQLite file is used instead. A given URL is migrated and left in
place (the benchmark only adds accounts, orders and bars to it).

Every figure goes through the real services, in process (no HTTP):

1. **Intake latency**: one account, one client: ``submit_order`` of a resting limit buy, then
   ``cancel_order`` of it, ``--latency-orders`` times; p50/p99 of each call.
2. **Throughput, one account vs two**: ``--workers`` K spawned processes (one connection each)
   loop submit + cancel for ``--seconds``: a 1-worker baseline, all K on one account (every
   command queues on the same account lock), then K/2 on each of two accounts (two independent
   locks); ``--rounds`` interleaved rounds, the median reported. Each submit + cancel pair is two
   transactions; pairs/s counts pairs completed in the window. On PostgreSQL two accounts should scale up to what the cores allow; on SQLite every
   writer serializes on the file, so two accounts cannot beat one.
3. **Evaluator**: ``--evaluator-accounts`` accounts, each with 20 open GTC limit buys on AAPL
   (priced below the market, so none fills and all 20 are tried on every tick) and 5,000 stored
   1-minute bars over ~13 NYSE sessions; one ``evaluate_account`` run per account catches up all
   of them (bar ticks plus the session-close ticks) in one transaction. Reported as ticks/s
   (per-symbol market events) and order-evaluations/s (ticks x open orders).

The workers, the benchmark and the database share this machine's cores; the figures are a
capacity guide, not a latency SLA.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from harness import database, ms
from sqlalchemy.engine import Engine, make_url

from propdesk.execution.order_book.requests import OrderRequest
from propdesk.marketdata.calendars import nyse
from propdesk.model.ids import AccountId, OrderId
from propdesk.model.market import Bar, Quote
from propdesk.model.orders import OrderType, Side, TimeInForce
from propdesk.services.accounts import lifecycle
from propdesk.services.context import ServiceContext
from propdesk.services.orders import commands as orders
from propdesk.services.orders.evaluation import evaluate_account
from propdesk.store.engine import create_engine_for
from propdesk.store.uow import UnitOfWork

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York: the session is open
NOW = T0 + timedelta(seconds=5)
SYMBOL = "AAPL"
EVALUATOR_BARS = 5_000
EVALUATOR_ORDERS = 20


def fixed_clock() -> datetime:
    return NOW


def limit_buy(client_order_id: str, limit: str = "99") -> OrderRequest:
    """A resting buy (the ask is 100.02): it reserves buying power and waits."""
    return OrderRequest(
        client_order_id=client_order_id,
        symbol=SYMBOL,
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        qty=Decimal(1),
        limit_price=Decimal(limit),
    )


def open_account(ctx: ServiceContext) -> AccountId:
    """A started account with room for any number of open orders."""
    row = lifecycle.create_account(
        ctx,
        lifecycle.NewAccount(
            idempotency_key=f"bench-orders-{uuid.uuid4()}", overrides={"max_open_orders": 10_000}
        ),
    )
    lifecycle.start(ctx, AccountId(row.id))
    return AccountId(row.id)


def store_quote(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        quote = Quote(symbol=SYMBOL, time=T0, bid=Decimal(100), ask=Decimal("100.02"))
        uow.prices.write_quote(quote, source="bench")
        uow.commit()


# --- 1. intake latency ---------------------------------------------------------------------------


def intake_latency(ctx: ServiceContext, n: int) -> tuple[list[float], list[float]]:
    account_id = open_account(ctx)
    submits, cancels = [], []
    for i in range(n + n // 10):
        started = time.perf_counter()
        order = orders.submit_order(ctx, account_id, limit_buy(f"lat-{i}")).order
        placed = time.perf_counter()
        orders.cancel_order(ctx, account_id, OrderId(order.id))
        done = time.perf_counter()
        if i >= n // 10:  # the first tenth warms caches and the connection pool
            submits.append(placed - started)
            cancels.append(done - placed)
    return submits, cancels


# --- 2. throughput: K workers on one account vs two --------------------------------------------


def worker_main(url: str, account_id: str, label: str, ready: Any, go: Any, stop: Any, results: Any) -> None:
    """One spawned worker: its own engine, warmed, then submit + cancel pairs until ``stop``."""
    engine = create_engine_for(url, pool_size=1)
    ctx = ServiceContext(engine=engine, clock=fixed_clock)
    finished: list[float] = []  # time.monotonic() of each completed pair (one clock for all processes)
    latencies: list[float] = []
    errors = 0
    try:
        warm = orders.submit_order(ctx, AccountId(account_id), limit_buy(f"{label}-warm")).order
        orders.cancel_order(ctx, AccountId(account_id), OrderId(warm.id))
        ready.put(True)
        go.wait(timeout=120)
        n = 0
        while not stop.is_set():
            n += 1
            started = time.monotonic()
            try:
                order = orders.submit_order(ctx, AccountId(account_id), limit_buy(f"{label}-{n}")).order
                orders.cancel_order(ctx, AccountId(account_id), OrderId(order.id))
            except Exception:
                errors += 1
                continue
            now = time.monotonic()
            finished.append(now)
            latencies.append(now - started)
    finally:
        results.put((finished, latencies, errors))
        engine.dispose()


@dataclass(frozen=True)
class Throughput:
    label: str
    workers: int
    accounts: int
    pairs: int
    seconds: float
    errors: int
    latencies: list[float]

    @property
    def pairs_per_second(self) -> float:
        return self.pairs / self.seconds


def throughput(url: str, label: str, accounts: list[AccountId], workers: int, seconds: float) -> Throughput:
    """``workers`` processes, worker i on accounts[i % len(accounts)], for ``seconds``."""
    spawn = multiprocessing.get_context("spawn")
    ready, results, go, stop = spawn.Queue(), spawn.Queue(), spawn.Event(), spawn.Event()
    tag = uuid.uuid4().hex[:8]
    children = [
        spawn.Process(
            target=worker_main,
            args=(url, accounts[i % len(accounts)], f"{tag}-w{i}", ready, go, stop, results),
            daemon=True,
        )
        for i in range(workers)
    ]
    for child in children:
        child.start()
    for _ in children:
        ready.get(timeout=120)
    began = time.monotonic()
    go.set()
    time.sleep(seconds)  # the measurement window, not a synchronization
    ended = time.monotonic()
    stop.set()
    reports = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=30)
    pairs = sum(1 for finished, _, _ in reports for at in finished if began <= at <= ended)
    return Throughput(
        label=label,
        workers=workers,
        accounts=len(set(accounts)),
        pairs=pairs,
        seconds=ended - began,
        errors=sum(errors for _, _, errors in reports),
        latencies=sorted(x for _, latencies, _ in reports for x in latencies),
    )


# --- 3. the resting-order evaluator ------------------------------------------------------------


def session_bars(count: int) -> list[Bar]:
    """``count`` 1-minute AAPL bars inside NYSE sessions from T0 on, oscillating around 100."""
    bars: list[Bar] = []
    for session in nyse().sessions(T0.date(), date(T0.year, 12, 31)):
        at = max(session.open, T0)
        while at < session.close and len(bars) < count:
            close = Decimal(100) + Decimal(len(bars) % 40 - 20) / 20
            bars.append(
                Bar(
                    SYMBOL,
                    "1Min",
                    at,
                    close,
                    close + Decimal("0.5"),
                    close - Decimal("0.5"),
                    close,
                    Decimal(1000),
                )
            )
            at += timedelta(minutes=1)
        if len(bars) == count:
            return bars
    raise RuntimeError("not enough sessions in the year for the bars asked")


def evaluator(ctx: ServiceContext, accounts: int) -> list[tuple[int, float]]:
    """(ticks, seconds) of one catch-up run per account over the same stored bars."""
    bars = session_bars(EVALUATOR_BARS)
    with UnitOfWork(ctx.engine) as uow:
        uow.prices.insert_bars(bars)
        uow.commit()
    until = bars[-1].start + timedelta(minutes=1)
    runs = []
    for _ in range(accounts):
        account_id = open_account(ctx)
        for i in range(EVALUATOR_ORDERS):  # limits from 50 to 69: far below every bar's low
            orders.submit_order(ctx, account_id, limit_buy(f"eval-{i}", limit=str(50 + i)))
        started = time.perf_counter()
        result = evaluate_account(ctx, account_id, until=until)
        elapsed = time.perf_counter() - started
        if result.fills:
            raise RuntimeError(f"the evaluator bench expects no fills, got {result.fills}")
        runs.append((result.ticks, elapsed))
    return runs


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", help="measure this database (default: a scratch PostgreSQL one)")
    parser.add_argument(
        "--workers", type=int, default=4, help="worker processes per throughput run (default 4)"
    )
    parser.add_argument(
        "--seconds", type=float, default=4, help="duration of each throughput run (default 4)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds of the throughput runs (default 3)"
    )
    parser.add_argument(
        "--latency-orders", type=int, default=500, help="submit+cancel pairs timed (default 500)"
    )
    parser.add_argument("--evaluator-accounts", type=int, default=3, help="evaluator runs (default 3)")
    args = parser.parse_args()
    workers = max(2, args.workers - args.workers % 2)

    with database(args.database_url, "orders") as url:
        engine = create_engine_for(url)
        try:
            backend = engine.dialect.name
            print(f"propdesk order benchmark: {os.cpu_count()} CPUs, {backend} ({make_url(url).database})")
            ctx = ServiceContext(engine=engine, clock=fixed_clock)
            store_quote(engine)

            submits, cancels = intake_latency(ctx, args.latency_orders)
            print(
                f"intake latency, 1 client in process ({len(submits)} orders): "
                f"submit p50 {ms(submits, 50):.2f} ms, p99 {ms(submits, 99):.2f} ms; "
                f"cancel p50 {ms(cancels, 50):.2f} ms, p99 {ms(cancels, 99):.2f} ms"
            )

            one, two_a, two_b, solo = (open_account(ctx) for _ in range(4))
            scenarios = [
                ("1 worker, 1 account", [solo], 1),
                (f"{workers} workers, 1 account", [one], workers),
                (f"{workers} workers, 2 accounts", [two_a, two_b], workers),
            ]
            # Rounds interleave the scenarios, so load from outside the benchmark hits them alike.
            by_scenario: dict[str, list[Throughput]] = {label: [] for label, _, _ in scenarios}
            for _ in range(args.rounds):
                for label, accounts, count in scenarios:
                    by_scenario[label].append(throughput(url, label, accounts, count, args.seconds))
            medians: dict[str, float] = {}
            for label, runs in by_scenario.items():
                rates = [run.pairs_per_second for run in runs]
                medians[label] = statistics.median(rates)
                latencies = sorted(x for run in runs for x in run.latencies)
                print(
                    f"submit+cancel, {label}: {medians[label]:,.1f} pairs/s median of {len(runs)} runs of "
                    f"{args.seconds:g} s (range {min(rates):,.1f}-{max(rates):,.1f}; "
                    f"{2 * medians[label]:,.1f} transactions/s; pair p50 {ms(latencies, 50):.1f} ms, "
                    f"p99 {ms(latencies, 99):.1f} ms; {sum(run.errors for run in runs)} errors)"
                )
            one_label, two_label = scenarios[1][0], scenarios[2][0]
            per_round = [
                two.pairs_per_second / single.pairs_per_second
                for single, two in zip(by_scenario[one_label], by_scenario[two_label], strict=True)
            ]
            print(
                f"two accounts / one account, {workers} workers: {medians[two_label] / medians[one_label]:.2f}x "
                f"(per round: {', '.join(f'{r:.2f}x' for r in per_round)})"
            )

            evaluations = evaluator(ctx, args.evaluator_accounts)
            rates = sorted(ticks / seconds for ticks, seconds in evaluations)
            ticks, seconds = evaluations[0]
            print(
                f"evaluator, {EVALUATOR_ORDERS} open limit orders over {EVALUATOR_BARS:,} 1-minute bars: "
                f"{statistics.median(rates):,.0f} ticks/s median of {len(rates)} "
                f"({statistics.median(rates) * EVALUATOR_ORDERS:,.0f} order evaluations/s; "
                f"{ticks:,} ticks in {seconds:.2f} s for the first)"
            )
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
