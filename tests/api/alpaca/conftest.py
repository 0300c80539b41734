"""A live propdesk server on 127.0.0.1 for the Alpaca-compatible API, on each database.

``paper`` starts uvicorn in a thread over a fresh database, opens a paper account (preset
``paper``: $100,000 USD) with a key pair, and sets the clock inside a regular NYSE session
(Wednesday 2026-01-07 10:00 ET) so that market orders fill. Contract tests point the real
alpaca-py at ``paper.url``; plain HTTP tests can use ``paper.http`` (an httpx client with the
key headers) or ``paper.client`` (a TestClient on the same app, no network).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from propdesk.api.app import create_app
from propdesk.model.ids import AccountId, uuid_ids
from propdesk.model.market import Quote
from propdesk.services.access import api_keys
from propdesk.services.access.api_keys import KeyPair
from propdesk.services.accounts import lifecycle
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import SetClock
from tests.served import free_port

# Wednesday 2026-01-07, 10:00 in New York: the NYSE is open.
SESSION_OPEN = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)


@dataclass
class Paper:
    """A running server, its context and one paper account with a key pair."""

    url: str
    ctx: ServiceContext
    clock: SetClock
    app: FastAPI
    account_id: AccountId
    keys: KeyPair
    _quotes_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def headers(self) -> dict[str, str]:
        return key_headers(self.keys)

    def http(self, keys: KeyPair | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=key_headers(keys or self.keys), timeout=10)

    def quote(self, symbol: str, bid: str, ask: str) -> None:
        """A new quote one second after anything before."""
        with self._quotes_lock:
            self.clock.advance(1)
            with UnitOfWork(self.ctx.engine) as uow:
                uow.prices.write_quote(
                    Quote(symbol=symbol, time=self.clock(), bid=Decimal(bid), ask=Decimal(ask)), source="test"
                )
                uow.commit()

    def open_account(
        self, *, starting_cash: str = "100000", key: str | None = None
    ) -> tuple[AccountId, KeyPair]:
        """Another started paper account and a key pair for it."""
        row = lifecycle.create_account(
            self.ctx,
            lifecycle.NewAccount(
                preset="paper", overrides={"starting_balance": starting_cash}, idempotency_key=key
            ),
        )
        account_id = AccountId(row.id)
        lifecycle.start(self.ctx, account_id)
        return account_id, api_keys.create_key(self.ctx.engine, account_id, clock=self.clock)


def key_headers(keys: KeyPair) -> dict[str, str]:
    return {"APCA-API-KEY-ID": keys.key_id, "APCA-API-SECRET-KEY": keys.secret_key}


def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` on a free loopback port in a thread until the generator is closed."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="auto")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def build_paper(engine: Engine, settings: Settings | None = None) -> Iterator[Paper]:
    clock = SetClock(SESSION_OPEN)
    ctx = ServiceContext(engine=engine, settings=settings or Settings(), clock=clock, ids=uuid_ids)
    app = create_app(ctx)
    row = lifecycle.create_account(ctx, lifecycle.NewAccount(preset="paper"))
    account_id = AccountId(row.id)
    lifecycle.start(ctx, account_id)
    keys = api_keys.create_key(engine, account_id, clock=clock)
    for url in serve(app):
        yield Paper(url, ctx, clock, app, account_id, keys)


@pytest.fixture
def paper(engine: Engine) -> Iterator[Paper]:
    yield from build_paper(engine)
