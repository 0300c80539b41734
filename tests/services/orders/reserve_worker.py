"""Workers for the concurrency tests: threads (and spawned processes) racing to reserve funds.

Kept out of the test module so that ``spawn`` children import only this small module. Every
request is one call of the real service, so what is raced is exactly production's lock, load,
decide, save, commit.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from propdesk.accounting.kernel import CommandRejected, ReserveForOrder
from propdesk.model.ids import AccountId
from propdesk.services.accounts.commands import execute
from propdesk.store.engine import create_engine_for
from tests.db import T0, StepClock

ACCEPTED = "accepted"
Outcome = tuple[str, str]  # (order id, "accepted" or the rejection code or "error: …")


def reserve_once(engine: Engine, account_id: str, order_id: str, amount: Decimal) -> Outcome:
    try:
        execute(
            engine,
            AccountId(account_id),
            ReserveForOrder(at=T0, order_id=order_id, amount=amount),
            clock=StepClock(),
            correlation_id=order_id,
        )
    except CommandRejected as exc:
        return order_id, exc.code
    except Exception as exc:  # recorded, and the test asserts there are none
        return order_id, f"error: {exc!r}"
    return order_id, ACCEPTED


def race_threads(
    engine: Engine, account_id: str, requests: list[tuple[str, str]], threads: int
) -> list[Outcome]:
    """Run ``requests`` (order id, amount) from ``threads`` threads released together by a barrier."""
    barrier = threading.Barrier(threads)
    shares = [requests[i::threads] for i in range(threads)]

    def work(share: list[tuple[str, str]]) -> list[Outcome]:
        barrier.wait()
        return [reserve_once(engine, account_id, order_id, Decimal(amount)) for order_id, amount in share]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return [outcome for share in pool.map(work, shares) for outcome in share]


def process_main(
    url: str,
    account_id: str,
    requests: list[tuple[str, str]],
    threads: int,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """Entry point of one spawned process: its own engine, warmed, then threads on the signal."""
    engine = create_engine_for(url, pool_size=threads)
    try:
        # Open every thread's connection now, so the race measures locking, not connecting.
        warm = [engine.connect() for _ in range(threads)]
        for connection in warm:
            connection.close()
        ready.put(True)
        if not go.wait(timeout=120):
            results.put([(order_id, "error: never started") for order_id, _ in requests])
            return
        results.put(race_threads(engine, account_id, requests, threads))
    except BaseException as exc:
        results.put([(order_id, f"error: {exc!r}") for order_id, _ in requests])
        raise
    finally:
        engine.dispose()
