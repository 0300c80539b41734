"""Workers for the order concurrency tests: threads (and spawned processes) racing to submit orders.

Kept out of the test module so that ``spawn`` children import only this small module. Every
request is one call of the real order service (``submit_order``, then ``cancel_order`` when the
request says so), so what is raced is exactly production's lock, load the book, decide, save,
commit.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy.engine import Engine

from propdesk.execution.order_book.requests import OrderRequest
from propdesk.model.ids import AccountId, OrderId
from propdesk.model.orders import OrderType, Side, TimeInForce
from propdesk.services.context import ServiceContext
from propdesk.services.errors import ServiceError
from propdesk.services.orders import commands as orders
from propdesk.store.engine import create_engine_for
from tests.db import T0

# Every worker reads the same clock: orders placed a few seconds after the quote the test stores.
NOW = T0 + timedelta(seconds=5)
SYMBOL = "AAPL"
QTY = Decimal(7)
LIMIT = Decimal(99)  # below the quote's ask (100.02): the order rests and holds its reservation
ACCEPTED = "accepted"


class Request(NamedTuple):
    account_id: str
    client_order_id: str
    cancel: bool  # cancel the order again right after it was accepted


class Outcome(NamedTuple):
    account_id: str
    client_order_id: str
    code: str  # "accepted", "<ServiceError class>:<code>" for a refusal, or "error: …"
    order_id: str  # "" unless accepted
    reserved: str  # what the accepted order reserved, as a decimal string
    canceled: bool  # the order was accepted and then canceled by this worker


def fixed_clock() -> datetime:
    return NOW


def context(engine: Engine) -> ServiceContext:
    """Production's services with a fixed clock and random (uuid) ids, safe across processes."""
    return ServiceContext(engine=engine, clock=fixed_clock)


def limit_buy(client_order_id: str) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id,
        symbol=SYMBOL,
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        qty=QTY,
        limit_price=LIMIT,
    )


def submit_once(ctx: ServiceContext, request: Request) -> Outcome:
    account_id, client_order_id, cancel = request
    try:
        order = orders.submit_order(ctx, AccountId(account_id), limit_buy(client_order_id)).order
    except ServiceError as exc:
        return Outcome(account_id, client_order_id, f"{type(exc).__name__}:{exc.code}", "", "0", False)
    except Exception as exc:  # recorded, and the tests assert there are none
        return Outcome(account_id, client_order_id, f"error: {exc!r}", "", "0", False)
    if not cancel:
        return Outcome(account_id, client_order_id, ACCEPTED, order.id, str(order.reserved), False)
    try:
        orders.cancel_order(ctx, AccountId(account_id), OrderId(order.id))
    except Exception as exc:
        return Outcome(
            account_id, client_order_id, f"error: cancel {exc!r}", order.id, str(order.reserved), False
        )
    return Outcome(account_id, client_order_id, ACCEPTED, order.id, str(order.reserved), True)


def race_threads(engine: Engine, requests: list[Request], threads: int) -> list[Outcome]:
    """Run ``requests`` from ``threads`` threads released together by a barrier."""
    ctx = context(engine)
    barrier = threading.Barrier(threads)
    shares = [requests[i::threads] for i in range(threads)]

    def work(share: list[Request]) -> list[Outcome]:
        barrier.wait(timeout=60)
        return [submit_once(ctx, request) for request in share]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return [outcome for share in pool.map(work, shares) for outcome in share]


def failed(requests: list[Request], reason: str) -> list[Outcome]:
    return [Outcome(r.account_id, r.client_order_id, f"error: {reason}", "", "0", False) for r in requests]


def process_main(url: str, requests: list[Request], threads: int, ready: Any, go: Any, results: Any) -> None:
    """Entry point of one spawned process: its own engine, warmed, then threads on the signal."""
    engine = create_engine_for(url, pool_size=threads)
    try:
        # Open every thread's connection and import the order path now, so the race measures
        # locking, not connecting.
        warm = [engine.connect() for _ in range(threads)]
        for connection in warm:
            connection.close()
        ready.put(True)
        if not go.wait(timeout=120):
            results.put(failed(requests, "never started"))
            return
        results.put(race_threads(engine, requests, threads))
    except BaseException as exc:
        results.put(failed(requests, repr(exc)))
        raise
    finally:
        engine.dispose()
