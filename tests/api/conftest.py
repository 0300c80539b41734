"""An API app per test on each database, with tokens and a settable clock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from propdesk.api.app import create_app
from propdesk.model.ids import sequential_ids
from propdesk.model.market import Quote
from propdesk.services.access.tokens import Role, create_token
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from propdesk.store.uow import UnitOfWork
from tests.db import T0


class SetClock:
    """A clock tests move by hand; services read it through ``ctx.clock``."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current


@dataclass
class Api:
    client: TestClient
    ctx: ServiceContext
    clock: SetClock
    service: dict[str, str]
    admin: dict[str, str]

    def quote(self, symbol: str, bid: str, ask: str) -> None:
        """A new quote one second later than anything before (quotes are keyed by symbol and time)."""
        self.clock.advance(1)
        with UnitOfWork(self.ctx.engine) as uow:
            uow.prices.write_quote(
                Quote(symbol=symbol, time=self.clock(), bid=Decimal(bid), ask=Decimal(ask)), source="test"
            )
            uow.commit()


def build_api(engine: Engine, settings: Settings | None = None, *, grant: Sequence[str] = ()) -> Api:
    """An app over ``engine`` with a new service token (granted the ``grant`` accounts) and admin token."""
    clock = SetClock()
    ctx = ServiceContext(
        engine=engine, settings=settings or Settings(), clock=clock, ids=sequential_ids("id")
    )
    _, service = create_token(engine, role=Role.SERVICE, name="agent-runner", clock=clock, accounts=grant)
    _, admin = create_token(engine, role=Role.ADMIN, name="ops-alice", clock=clock)
    client = TestClient(create_app(ctx), raise_server_exceptions=False)
    return Api(
        client, ctx, clock, {"Authorization": f"Bearer {service}"}, {"Authorization": f"Bearer {admin}"}
    )


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    built = build_api(engine)
    with built.client:
        yield built
