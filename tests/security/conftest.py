"""Two tenants per surface, each with some state, on one app, on each database.

``/api/v1``: service tokens A and B, each owning an account created over the API with a fill, a
resting order, a decision action and a clone id (and a child account). ``/v2``: users X and Y,
each with a paper account and a key pair; Y has a fill, a resting order and a watchlist.

:func:`state_of` reads every row that belongs to a set of accounts straight from the database,
from every table with an ``account_id`` column (found in the metadata, so a new table is included
without editing the tests): the ledger, balances, positions, orders, fills, decision actions,
watchlists, configurations, keys, grants...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from propdesk.api.app import create_app
from propdesk.model.ids import uuid_ids
from propdesk.model.market import Quote
from propdesk.services.access import api_keys
from propdesk.services.access.tokens import Role, create_token
from propdesk.services.alpaca import paper_accounts
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from propdesk.store.tables import metadata
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import SetClock

# Wednesday 2026-01-07, 10:00 in New York: the NYSE is open, market orders fill.
SESSION_OPEN = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)
ACCOUNTS = "/api/v1/prop/accounts"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tenant:
    """One tenant's credentials and the ids of what it owns (filled in as state is made)."""

    headers: dict[str, str]
    account_id: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    account_ids: list[str] = field(default_factory=list)

    def value(self, name: str) -> str:
        """The tenant's account id or one of its named ids."""
        if name == "account_id":
            return self.account_id
        assert name in self.ids, f"the tenant has no {name!r} for the security suite"
        return self.ids[name]

    @property
    def secrets(self) -> set[str]:
        """Every id of this tenant that another tenant must never see in a response."""
        return {*self.account_ids, *self.ids.values()}


@dataclass
class World:
    app: FastAPI
    client: TestClient
    ctx: ServiceContext
    clock: SetClock
    admin: dict[str, str]
    a: Tenant
    b: Tenant
    x: Tenant
    y: Tenant

    def quote(self, symbol: str, bid: str, ask: str) -> None:
        with UnitOfWork(self.ctx.engine) as uow:
            uow.prices.write_quote(
                Quote(symbol=symbol, time=self.clock(), bid=Decimal(bid), ask=Decimal(ask)), source="test"
            )
            uow.commit()


def state_of(engine: Engine, account_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Every stored row of these accounts, table by table, in primary-key order."""
    ids = sorted(account_ids)
    dump: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            column = table.c.get("id") if table.name == "accounts" else table.c.get("account_id")
            if column is None:
                continue
            stmt = sa.select(table).where(column.in_(ids)).order_by(*table.primary_key.columns)
            dump[table.name] = [dict(row) for row in conn.execute(stmt).mappings()]
    return dump


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _service_tenant(world_client: TestClient, token: str, tag: str) -> Tenant:
    """A tenant with an account (and a child) made over the API, a fill, a resting order and an
    action; ``tag`` keeps its client-chosen ids apart from the other tenant's."""
    tenant = Tenant(bearer(token))
    http = world_client
    created = _ok(
        http.post(
            ACCOUNTS,
            json={"preset": "audition", "cloneId": f"clone-{tag}", "idempotencyKey": f"key-{tag}"},
            headers=tenant.headers,
        ),
        201,
    )
    tenant.account_id = account_id = created["id"]
    tenant.ids["idempotency_key"] = f"key-{tag}"
    tenant.ids["clone_id"] = f"clone-{tag}"
    _ok(http.post(f"{ACCOUNTS}/{account_id}/start", headers=tenant.headers))
    child = _ok(
        http.post(
            ACCOUNTS, json={"parentAccountId": account_id, "cloneId": f"clone-{tag}"}, headers=tenant.headers
        ),
        201,
    )
    tenant.account_ids = [account_id, child["id"]]
    batch = _ok(
        http.post(
            f"{ACCOUNTS}/{account_id}/decision-actions",
            json={
                "decisionRunId": f"run-{tag}",
                "actions": [
                    {
                        "decisionActionId": f"act-{tag}",
                        "action": "open_long",
                        "symbol": "AAPL",
                        "notional": "1000",
                    }
                ],
            },
            headers=tenant.headers,
        )
    )
    action = batch["actions"][0]
    assert action["status"] == "filled", action
    tenant.ids["action_id"] = action["id"]
    fills = _ok(http.get(f"{ACCOUNTS}/{account_id}/fills", headers=tenant.headers))["items"]
    tenant.ids["fill_id"] = fills[0]["id"]
    resting = _ok(
        http.post(
            f"{ACCOUNTS}/{account_id}/orders",
            json={
                "clientOrderId": f"rest-{tag}",
                "symbol": "AAPL",
                "side": "buy",
                "type": "limit",
                "qty": "1",
                "limitPrice": "50",
                "timeInForce": "gtc",
            },
            headers=tenant.headers,
        ),
        201,
    )
    assert resting["status"] == "new", resting
    tenant.ids["order_id"] = resting["id"]
    tenant.ids["client_order_id"] = f"rest-{tag}"
    return tenant


def _v2_tenant(
    ctx: ServiceContext, clock: SetClock, client: TestClient, user: str, *, with_state: bool
) -> Tenant:
    account = paper_accounts.create_paper_account(ctx, owner_user_id=user)
    keys = api_keys.create_key(ctx.engine, account.account_id, clock=clock)
    tenant = Tenant(
        {"APCA-API-KEY-ID": keys.key_id, "APCA-API-SECRET-KEY": keys.secret_key},
        account_id=account.account_id,
        account_ids=[account.account_id],
    )
    tenant.ids["key_id"] = keys.key_id
    if not with_state:
        return tenant
    filled = _ok(
        client.post(
            "/v2/orders",
            json={
                "symbol": "AAPL",
                "qty": "2",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
                "client_order_id": f"fill-{user}",
            },
            headers=tenant.headers,
        )
    )
    assert filled["status"] == "filled", filled
    tenant.ids["filled_order_id"] = filled["id"]
    resting = _ok(
        client.post(
            "/v2/orders",
            json={
                "symbol": "AAPL",
                "qty": "1",
                "side": "buy",
                "type": "limit",
                "limit_price": "50",
                "time_in_force": "gtc",
                "client_order_id": f"rest-{user}",
            },
            headers=tenant.headers,
        )
    )
    assert resting["status"] in ("new", "accepted"), resting
    tenant.ids["order_id"] = resting["id"]
    tenant.ids["client_order_id"] = f"rest-{user}"
    watchlist = _ok(
        client.post(
            "/v2/watchlists", json={"name": f"list-{user}", "symbols": ["AAPL"]}, headers=tenant.headers
        )
    )
    tenant.ids["watchlist_id"] = watchlist["id"]
    return tenant


def build_world(engine: Engine) -> Iterator[World]:
    clock = SetClock(SESSION_OPEN)
    # Generous limits: the suite sends a few hundred requests, many of them with bad credentials
    # (the throttles themselves are tested in tests/services/access/test_revocation_and_limits.py).
    settings = Settings(
        trading_api_rate_limit=100_000, service_api_rate_limit=100_000, auth_failure_limit=100_000
    )
    ctx = ServiceContext(engine=engine, settings=settings, clock=clock, ids=uuid_ids)
    _, token_a = create_token(engine, role=Role.SERVICE, name="tenant-a", clock=clock)
    _, token_b = create_token(engine, role=Role.SERVICE, name="tenant-b", clock=clock)
    _, admin = create_token(engine, role=Role.ADMIN, name="ops", clock=clock)
    app = create_app(ctx)
    with TestClient(app, raise_server_exceptions=False) as client:
        world = World(app, client, ctx, clock, bearer(admin), Tenant({}), Tenant({}), Tenant({}), Tenant({}))
        world.quote("AAPL", "99.99", "100.01")
        world.quote("MSFT", "399.99", "400.01")
        world.a = _service_tenant(client, token_a, "a")
        world.b = _service_tenant(client, token_b, "b")
        world.x = _v2_tenant(ctx, clock, client, "user-x", with_state=False)
        world.y = _v2_tenant(ctx, clock, client, "user-y", with_state=True)
        yield world


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    yield from build_world(engine)
