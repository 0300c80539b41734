"""Acceptance: kill -9 the server during a burst of order activity, restart, and nothing is off.

A real ``propdesk serve`` process (its own interpreter, system clock, uuid ids) serves one started
account on SQLite (a file) and on PostgreSQL. Client threads send a burst over HTTP: GTC limit
buys of BTC/USD far below the market (they rest and hold a reservation), each with a unique
``clientOrderId``, and cancels and replaces of their own acknowledged orders. Once enough orders
are acknowledged the server gets SIGKILL while the clients are still sending. Each client records
what got a 2xx and what was sent without an answer.

After a restart on the same database:

* every acknowledged submit exists exactly once (found by its client order id, with the id the
  client was given, and a resend returns it with 200); every acknowledged cancel and replace is
  there;
* an unanswered submit either committed or left nothing, and resending it with the same
  ``clientOrderId`` and payload creates it once (201) or returns the stored order (200), never a
  second order; an unanswered cancel or replace either happened whole or not at all;
* the orders table holds no order the clients did not ask for;
* ``reserved_for_orders`` equals the sum of what the open orders hold and ``recompute`` reports
  no drift.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.model.ids import AccountId
from propdesk.model.market import Quote
from propdesk.services.access.tokens import Role, create_token
from propdesk.services.accounts import lifecycle
from propdesk.services.accounts.commands import get_state, recompute
from propdesk.services.context import ServiceContext
from propdesk.store.orders import OPEN_ORDER_STATUSES
from propdesk.store.tables import orders
from propdesk.store.uow import UnitOfWork
from tests.served import server

CLIENTS = 6
KILL_AFTER_ACKED = 60  # acknowledged submits before the SIGKILL
SYMBOL = "BTC/USD"


def order_body(coid: str, step: int) -> dict[str, Any]:
    return {
        "clientOrderId": coid,
        "symbol": SYMBOL,
        "side": "buy",
        "type": "limit",
        "timeInForce": "gtc",
        "qty": "0.001",
        "limitPrice": str(50_000 + step),
    }


@dataclass
class Record:
    """What one client sent and what it was told."""

    acked: dict[str, str] = field(default_factory=dict)  # client order id → order id
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # client order id → body sent
    unanswered: dict[str, dict[str, Any]] = field(default_factory=dict)  # client order id → body
    canceled: set[str] = field(default_factory=set)  # order ids
    cancels_unanswered: set[str] = field(default_factory=set)
    replaced: dict[str, tuple[str, str]] = field(default_factory=dict)  # old id → (new coid, new id)
    replaces_unanswered: dict[str, str] = field(default_factory=dict)  # old id → new coid
    unexpected: list[str] = field(default_factory=list)
    ended_by: str = ""


def run_client(
    base_url: str, token: str, account_id: str, name: str, start: threading.Barrier, acked: list[int]
) -> Record:
    """Submit, cancel and replace until the server goes away (or 30 s pass)."""
    record = Record()
    mine: list[str] = []  # this client's acknowledged open orders
    base = f"/api/v1/prop/accounts/{account_id}/orders"
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
        start.wait(timeout=30)
        step = 0
        while time.monotonic() < deadline:
            step += 1
            coid = f"{name}-{step}"
            body = order_body(coid, step)
            try:
                response = http.post(base, json=body)
            except httpx.TransportError as exc:
                record.unanswered[coid] = body
                record.ended_by = repr(exc)
                return record
            if response.status_code != 201:
                record.unexpected.append(f"submit {coid}: {response.status_code} {response.text}")
                record.unanswered[coid] = body
                continue
            record.acked[coid] = response.json()["id"]
            record.bodies[coid] = body
            mine.append(response.json()["id"])
            acked.append(1)
            if step % 3 == 0:
                victim = mine.pop(0)
                try:
                    response = http.delete(f"{base}/{victim}")
                except httpx.TransportError as exc:
                    record.cancels_unanswered.add(victim)
                    record.ended_by = repr(exc)
                    return record
                if response.status_code == 200:
                    record.canceled.add(victim)
                else:
                    record.unexpected.append(f"cancel {victim}: {response.status_code} {response.text}")
            if step % 4 == 0:
                old = mine.pop(0)
                new_coid = f"{name}-{step}-r"
                try:
                    response = http.patch(f"{base}/{old}", json={"qty": "0.002", "clientOrderId": new_coid})
                except httpx.TransportError as exc:
                    record.replaces_unanswered[old] = new_coid
                    record.ended_by = repr(exc)
                    return record
                if response.status_code == 200:
                    record.replaced[old] = (new_coid, response.json()["id"])
                    mine.append(response.json()["id"])
                else:
                    record.unexpected.append(f"replace {old}: {response.status_code} {response.text}")
    record.ended_by = "deadline"
    return record


def stored_orders(engine: Engine, account_id: str) -> dict[str, sa.Row[Any]]:
    """Every order row of the account by client order id (the column is unique per account)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(orders).where(orders.c.account_id == account_id)).all()
    by_coid = {row.client_order_id: row for row in rows}
    assert len(by_coid) == len(rows), "two orders share a client order id"
    return by_coid


def test_sigkill_during_an_order_burst_loses_and_duplicates_nothing(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    ctx = ServiceContext(engine=engine)
    account = lifecycle.create_account(
        ctx, lifecycle.NewAccount(idempotency_key="restart", overrides={"max_open_orders": 100_000})
    )
    lifecycle.start(ctx, AccountId(account.id))
    _, token = create_token(engine, role=Role.SERVICE, name="burst", clock=ctx.clock, accounts=[account.id])
    with UnitOfWork(engine) as uow:
        now = datetime.now(UTC)
        quote = Quote(symbol=SYMBOL, time=now - timedelta(seconds=1), bid=Decimal(97000), ask=Decimal(97010))
        uow.prices.write_quote(quote, source="test")
        uow.commit()
    log = tmp_path / "server.log"
    acked: list[int] = []
    began = time.monotonic()

    # --- the burst, and the kill -------------------------------------------------------------
    with server(db_url, log) as (process, base_url):
        started = time.monotonic()
        start = threading.Barrier(CLIENTS + 1)
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [
                pool.submit(run_client, base_url, token, account.id, f"c{i}", start, acked)
                for i in range(CLIENTS)
            ]
            start.wait(timeout=30)
            deadline = time.monotonic() + 20
            while len(acked) < KILL_AFTER_ACKED and time.monotonic() < deadline:
                time.sleep(0.005)
            os.kill(process.pid, signal.SIGKILL)
            killed = time.monotonic()
            records = [f.result(timeout=60) for f in futures]
        assert process.wait(timeout=10) == -signal.SIGKILL
    burst = killed - started

    assert len(acked) >= KILL_AFTER_ACKED, "the burst was too slow to reach the kill point"
    assert [r.unexpected for r in records] == [[]] * CLIENTS
    # Every client was still sending when the server died.
    assert all(r.ended_by and r.ended_by != "deadline" for r in records), [r.ended_by for r in records]

    acked_submits = {coid: oid for r in records for coid, oid in r.acked.items()}
    unanswered = {coid: body for r in records for coid, body in r.unanswered.items()}
    canceled = set().union(*(r.canceled for r in records))
    cancels_unanswered = set().union(*(r.cancels_unanswered for r in records))
    replaced = {old: new for r in records for old, new in r.replaced.items()}
    replaces_unanswered = {old: coid for r in records for old, coid in r.replaces_unanswered.items()}
    asked = set(acked_submits) | set(unanswered)
    asked |= {coid for coid, _ in replaced.values()} | set(replaces_unanswered.values())
    assert canceled
    assert replaced

    # --- nothing lost, nothing invented, nothing half done (read straight from the database) ----
    stored = stored_orders(engine, account.id)
    assert set(stored) <= asked, set(stored) - asked
    assert {coid: stored[coid].id for coid in acked_submits} == acked_submits
    assert {oid: stored_by_id(stored, oid).status for oid in canceled} == dict.fromkeys(canceled, "canceled")
    for old, (new_coid, new_id) in replaced.items():
        assert (stored_by_id(stored, old).status, stored_by_id(stored, old).replaced_by) == (
            "replaced",
            new_id,
        )
        assert (stored[new_coid].id, stored[new_coid].replaces) == (new_id, old)
    for old, new_coid in replaces_unanswered.items():
        before = stored_by_id(stored, old)
        if new_coid in stored:
            assert (before.status, before.replaced_by) == ("replaced", stored[new_coid].id)
        else:
            assert before.status in (*OPEN_ORDER_STATUSES, "canceled")
    for oid in cancels_unanswered:
        assert stored_by_id(stored, oid).status in (*OPEN_ORDER_STATUSES, "canceled", "replaced")

    # --- restart: reads, resends, and the money ----------------------------------------------------
    with (
        server(db_url, log) as (_, base_url),
        httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http,
    ):
        restarted = time.monotonic()
        base = f"/api/v1/prop/accounts/{account.id}/orders"
        bodies = {coid: body for r in records for coid, body in r.bodies.items()}
        for coid, order_id in acked_submits.items():
            found = http.get(f"{base}:by-client-id", params={"clientOrderId": coid})
            assert (found.status_code, found.json()["id"]) == (200, order_id), found.text
            # A client that resends an acknowledged order after the restart gets it back.
            resent = http.post(base, json=bodies[coid])
            assert (resent.status_code, resent.json()["id"]) == (200, order_id), resent.text
        committed_before = {coid for coid in unanswered if coid in stored}
        for coid, body in unanswered.items():
            resent = http.post(base, json=body)
            assert resent.status_code == (200 if coid in committed_before else 201), resent.text
            again = http.post(base, json=body)
            assert (again.status_code, again.json()["id"]) == (200, resent.json()["id"])
            if coid in committed_before:
                assert resent.json()["id"] == stored[coid].id
        after = stored_orders(engine, account.id)
        assert set(after) == set(stored) | set(unanswered)
        assert {coid: row.id for coid, row in after.items() if coid in stored} == {
            coid: row.id for coid, row in stored.items()
        }

        assert recompute(engine, AccountId(account.id)) == {}
        state = get_state(engine, AccountId(account.id))
        with UnitOfWork(engine, read_only=True) as uow:
            holding = uow.orders.open_reserved(account.id)
        open_rows = [row for row in after.values() if row.status in OPEN_ORDER_STATUSES]
        assert state.reserved_for_orders == sum(holding.values()) == sum(r.reserved_amount for r in open_rows)
        assert state.reserved_for_orders > 0

        # The restarted server keeps working on the recovered book: cancel everything.
        swept = http.delete(base)
        assert swept.status_code == 200, swept.text
        assert {o["id"] for o in swept.json()["items"]} == {r.id for r in open_rows}
        assert get_state(engine, AccountId(account.id)).reserved_for_orders == 0
        assert recompute(engine, AccountId(account.id)) == {}
        checked = time.monotonic()

    print(  # timings, shown with pytest -s; never asserted beyond the overall budget below
        f"\n[{engine.dialect.name}] {len(acked_submits)} acked, {len(unanswered)} unanswered submits "
        f"({len(committed_before)} of them committed), "
        f"{len(canceled)} cancels, {len(replaced)} replaces; burst {burst:.2f}s, "
        f"restart+checks {checked - restarted:.2f}s, total {checked - began:.2f}s"
    )


def stored_by_id(stored: dict[str, sa.Row[Any]], order_id: str) -> sa.Row[Any]:
    return next(row for row in stored.values() if row.id == order_id)
