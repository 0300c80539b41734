"""Acceptance: an idempotency storm over HTTP on PostgreSQL.

20 concurrent clients send the same 50-action batch 10 times each (200 requests) to a real
uvicorn server. The account row is locked before the idempotency check, so exactly one request
executes the batch and the other 199 replay the stored results: afterwards exactly 50 decision
actions exist, every filled action has exactly one order, one fill and one ``fill_applied``
ledger event, all clients saw the same action ids, and recompute finds no drift.

The service clock is fixed, so the quotes written just before it never go stale however long
the storm takes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from propdesk.api.app import create_app
from propdesk.model.ids import AccountId
from propdesk.model.market import Quote
from propdesk.services.access.tokens import Role, create_token
from propdesk.services.accounts import lifecycle
from propdesk.services.accounts.commands import recompute
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from propdesk.store.engine import create_engine_for
from propdesk.store.tables import decision_actions, fills, ledger_events, orders
from propdesk.store.uow import UnitOfWork
from tests.db import T0

pytestmark = pytest.mark.postgres

CLIENTS = 20
REPEATS = 10
ACTIONS = 50
NOW = T0 + timedelta(minutes=1)
PRICES = {"AAPL": "100", "MSFT": "400", "NVDA": "120", "AMZN": "180", "GOOG": "150"}
SYMBOLS = list(PRICES)


def fixed_clock() -> datetime:
    return NOW


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread on a free 127.0.0.1 port; yields its URL."""
    # proto=IPPROTO_TCP, or asyncio does not set TCP_NODELAY on accepted connections and every
    # response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="off", log_level="warning", timeout_graceful_shutdown=5)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:  # poll the server's own readiness flag
            assert thread.is_alive(), "uvicorn stopped before it started"
            assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
            time.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
    assert not thread.is_alive(), "uvicorn did not stop within 15 s"


def storm_batch() -> dict[str, Any]:
    """50 actions over five equities: opens, increases, reduces, a hold and oversized orders."""
    actions: list[dict[str, Any]] = []
    for i in range(ACTIONS):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        action: dict[str, Any] = {"decisionActionId": f"act-{i:02d}", "symbol": symbol}
        if i < len(SYMBOLS):
            action |= {"action": "open_long", "qty": "5"}
        elif i % 10 == 7:
            action |= {"action": "hold"}
        elif i % 10 == 9:
            action |= {"action": "increase", "notional": "60000"}  # over max_order_notional
        elif i % 10 == 3:
            action |= {"action": "reduce", "qty": "1"}
        else:
            action |= {"action": "increase", "qty": "1"}
        actions.append(action)
    return {"decisionRunId": "storm-run", "actions": actions}


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    # One connection per concurrent request (authentication and the batch use one each, in turn).
    engine = create_engine_for(postgres_url, pool_size=CLIENTS + 5)
    yield engine
    engine.dispose()


def test_twenty_clients_storming_one_batch_execute_it_exactly_once(pg_engine: Engine) -> None:
    ctx = ServiceContext(engine=pg_engine, settings=Settings(), clock=fixed_clock)
    account = lifecycle.create_account(ctx, lifecycle.NewAccount(idempotency_key="storm"))
    lifecycle.start(ctx, AccountId(account.id))
    with UnitOfWork(pg_engine) as uow:
        for symbol, price in PRICES.items():
            mid = Decimal(price)
            quote = Quote(
                symbol=symbol,
                time=NOW - timedelta(seconds=1),
                bid=mid - Decimal("0.01"),
                ask=mid + Decimal("0.01"),
            )
            uow.prices.write_quote(quote, source="test")
        uow.commit()
    _, token = create_token(
        pg_engine, role=Role.SERVICE, name="storm", clock=fixed_clock, accounts=[account.id]
    )
    batch = storm_batch()
    path = f"/api/v1/prop/accounts/{account.id}/decision-actions"
    start = threading.Barrier(CLIENTS)

    def client(base_url: str) -> list[tuple[int, dict[str, Any]]]:
        seen: list[tuple[int, dict[str, Any]]] = []
        with httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            start.wait(timeout=30)
            for _ in range(REPEATS):
                try:
                    response = http.post(path, json=batch)
                except httpx.TransportError as exc:  # e.g. the server dropped the connection on a bug
                    seen.append((0, {"transport_error": repr(exc)}))
                    continue
                seen.append((response.status_code, response.json()))
        return seen

    with serving(create_app(ctx)) as base_url, ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(client, base_url) for _ in range(CLIENTS)]
        responses = [r for f in futures for r in f.result(timeout=120)]

    assert len(responses) == CLIENTS * REPEATS
    statuses = Counter(status for status, _ in responses)
    assert statuses == {200: CLIENTS * REPEATS}, [body for status, body in responses if status != 200][:3]

    results = [body["actions"] for _, body in responses]
    first = results[0]
    assert [a["decisionActionId"] for a in first] == [a["decisionActionId"] for a in batch["actions"]]
    # Every client saw the same stored actions: ids, outcomes, orders and fills.
    outcome = [(a["id"], a["status"], a["orderId"], a["fillId"]) for a in first]
    for actions in results:
        assert [(a["id"], a["status"], a["orderId"], a["fillId"]) for a in actions] == outcome
    # Exactly one request executed the batch; the other 199 replayed it whole.
    replayed = Counter(tuple(a["replayed"] for a in actions) for actions in results)
    assert replayed == {(False,) * ACTIONS: 1, (True,) * ACTIONS: CLIENTS * REPEATS - 1}

    filled = {a["id"]: a for a in first if a["status"] == "filled"}
    reasons = Counter(a["reason"] for a in first if a["status"] != "filled")
    assert len(filled) >= 30
    assert reasons["unsupported_action"] == 5
    assert reasons["max_order_notional"] == 5

    with pg_engine.connect() as conn:
        stored = conn.execute(
            sa.select(decision_actions.c.id, decision_actions.c.status, decision_actions.c.fill_id).where(
                decision_actions.c.account_id == account.id
            )
        ).all()
        order_rows = (
            conn.execute(sa.select(orders.c.id).where(orders.c.account_id == account.id)).scalars().all()
        )
        fill_rows = conn.execute(
            sa.select(fills.c.id, fills.c.order_id).where(fills.c.account_id == account.id)
        ).all()
        applied = (
            conn.execute(
                sa.select(ledger_events.c.correlation_id).where(
                    ledger_events.c.account_id == account.id, ledger_events.c.type == "fill_applied"
                )
            )
            .scalars()
            .all()
        )
        total_actions = conn.execute(sa.select(sa.func.count()).select_from(decision_actions)).scalar_one()

    assert total_actions == ACTIONS
    assert {row.id: (row.status, row.fill_id) for row in stored} == {
        a["id"]: (a["status"], a["fillId"]) for a in first
    }
    # Each filled action has exactly one order and exactly one fill of that order; nothing else.
    assert sorted(order_rows) == sorted(a["orderId"] for a in filled.values())
    assert Counter(row.order_id for row in fill_rows) == {a["orderId"]: 1 for a in filled.values()}
    assert sorted(row.id for row in fill_rows) == sorted(a["fillId"] for a in filled.values())
    # One fill_applied ledger event per filled action, correlated with it.
    assert Counter(applied) == dict.fromkeys(filled, 1)
    assert recompute(pg_engine, AccountId(account.id)) == {}
