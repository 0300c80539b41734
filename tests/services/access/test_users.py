"""Exporting and erasing a user (GDPR), on both databases: no row of theirs survives anywhere.

The check walks the schema itself (every table with an ``account_id`` or ``user_id`` column, plus
``users`` and ``accounts``), so it does not trust the code under test to know the tables.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.execution.order_book.requests import OrderRequest
from propdesk.model.ids import AccountId, DecisionActionId, UserId
from propdesk.model.orders import ActionKind, OrderType, Side, TimeInForce
from propdesk.services.access import api_keys
from propdesk.services.access.users import ERASED_ACTION, erase_user, export_user, user_hash
from propdesk.services.accounts import admin, lifecycle
from propdesk.services.alpaca import watchlists
from propdesk.services.daily import snapshots
from propdesk.services.errors import Conflict, NotFound
from propdesk.services.market import prices
from propdesk.services.orders import commands as orders
from propdesk.services.prop import decisions
from propdesk.services.prop.decisions import ActionRequest
from propdesk.store.tables import (
    TABLES_CHILD_FIRST,
    accounts,
    admin_audit_log,
    ledger_erasures,
    ledger_events,
    market_data_access_log,
    users,
)
from tests.api.conftest import Api, build_api

D = Decimal


@pytest.fixture
def api(engine: Engine) -> Api:
    return build_api(engine)


def _account(api: Api, user: str, key: str) -> AccountId:
    row = lifecycle.create_account(
        api.ctx, lifecycle.NewAccount(idempotency_key=key, owner_user_id=UserId(user))
    )
    account_id = AccountId(row.id)
    lifecycle.start(api.ctx, account_id)
    return account_id


def _trade(api: Api, account_id: AccountId, tag: str) -> None:
    """A filled buy, a resting order, a key pair, a watchlist, a snapshot and an audited admin act."""
    api.quote("AAPL", "100", "100")
    decisions.submit_batch(
        api.ctx,
        account_id,
        tag,
        [ActionRequest(DecisionActionId(tag), ActionKind.OPEN_LONG, "AAPL", qty=D(10))],
    )
    request = OrderRequest(
        client_order_id=f"rest-{tag}",
        symbol="AAPL",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D(1),
        limit_price=D(50),
        time_in_force=TimeInForce.GTC,
    )
    orders.submit_order(api.ctx, account_id, request)
    api_keys.create_key(api.ctx.engine, account_id, clock=api.ctx.clock)
    watchlists.create_watchlist(api.ctx, account_id, f"list-{tag}", ["AAPL"])
    prices.watch(api.ctx.engine, account_id, "MSFT", clock=api.clock)
    snapshots.snapshot_account(api.ctx, account_id, date(2026, 1, 5))
    admin.set_status(api.ctx, account_id, "pause", actor="ops", reason="test")
    admin.set_status(api.ctx, account_id, "resume", actor="ops", reason="test")


def _access_log(engine: Engine, user: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(market_data_access_log).values(
                user_id=user, symbol="AAPL", data_type="quotes", at=sa.func.now(), source="test"
            )
        )


def _setup(api: Api) -> tuple[list[AccountId], list[AccountId]]:
    alice = [_account(api, "alice", "a1"), _account(api, "alice", "a2")]
    bob = [_account(api, "bob", "b1")]
    for n, account_id in enumerate(alice + bob):
        _trade(api, account_id, f"t{n}")
    _access_log(api.ctx.engine, "alice")
    _access_log(api.ctx.engine, "bob")
    return alice, bob


def _rows_of(engine: Engine, user: str, account_ids: list[AccountId]) -> dict[str, int]:
    """Rows per table keyed to ``user`` or one of ``account_ids``, found by walking the schema."""
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for table in TABLES_CHILD_FIRST:
            conditions = []
            if table is users:
                conditions.append(users.c.id == user)
            if table is accounts:
                conditions.append(accounts.c.id.in_(account_ids))
                conditions.append(accounts.c.owner_user_id == user)
            for column in table.c:
                if column.name == "account_id" or column.name.endswith("_account_id"):
                    conditions.append(column.in_(account_ids))
                if column.name == "user_id" or column.name.endswith("_user_id"):
                    conditions.append(column == user)
            if conditions:
                stmt = sa.select(sa.func.count()).select_from(table).where(sa.or_(*conditions))
                counts[table.name] = int(conn.execute(stmt).scalar_one())
    return counts


def _all_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in TABLES_CHILD_FIRST
        }


def test_erase_leaves_no_row_of_the_user_and_every_row_of_others(api: Api) -> None:
    alice, bob = _setup(api)
    engine = api.ctx.engine
    before = _rows_of(engine, "alice", alice)
    for table in ("users", "accounts", "orders", "fills", "ledger_events", "api_keys", "account_snapshots"):
        assert before[table] > 0, table
    assert before["admin_audit_log"] > 0
    assert before["market_data_access_log"] == 1
    bob_before = _rows_of(engine, "bob", bob)

    erasure = erase_user(api.ctx, UserId("alice"), actor="ops", reason="GDPR request 42")

    assert erasure.accounts == 2
    assert erasure.user_sha256 == user_hash("alice")
    assert {t: n for t, n in _rows_of(engine, "alice", alice).items() if n} == {}
    assert _rows_of(engine, "bob", bob) == bob_before
    with engine.connect() as conn:
        audit = (
            conn.execute(sa.select(admin_audit_log).where(admin_audit_log.c.action == ERASED_ACTION))
            .mappings()
            .all()
        )
        assert conn.execute(sa.select(sa.func.count()).select_from(ledger_erasures)).scalar_one() == 0
    assert len(audit) == 1
    assert audit[0]["account_id"] is None
    assert audit[0]["reason"] == "GDPR request 42"
    assert audit[0]["after"]["user_sha256"] == user_hash("alice")
    assert "alice" not in json.dumps(audit[0]["after"])


def test_a_plain_delete_of_the_ledger_is_still_refused(api: Api) -> None:
    _setup(api)
    erase_user(api.ctx, UserId("alice"), actor="ops", reason="test")
    with pytest.raises(sa.exc.DBAPIError), api.ctx.engine.begin() as conn:
        conn.execute(sa.delete(ledger_events))
    with pytest.raises(sa.exc.DBAPIError), api.ctx.engine.begin() as conn:
        conn.execute(sa.update(ledger_events).values(cash_delta="0"))


def test_erasing_an_unknown_user_is_not_found_and_changes_nothing(api: Api) -> None:
    _setup(api)
    before = _all_rows(api.ctx.engine)
    with pytest.raises(NotFound) as raised:
        erase_user(api.ctx, UserId("carol"), actor="ops", reason="test")
    assert raised.value.code == "user_not_found"
    with pytest.raises(NotFound):
        export_user(api.ctx, UserId("carol"))
    assert _all_rows(api.ctx.engine) == before


def test_export_holds_the_users_rows_and_no_secret(api: Api) -> None:
    alice, bob = _setup(api)
    exported = export_user(api.ctx, UserId("alice"))
    text = json.dumps(exported)  # JSON-ready as it is: decimals and times are strings
    tables = exported["tables"]
    counts = _rows_of(api.ctx.engine, "alice", alice)
    for name, count in counts.items():
        assert len(tables.get(name, [])) == count, name
    assert {a["id"] for a in tables["accounts"]} == set(alice)
    assert tables["users"][0]["id"] == "alice"
    assert all("secret_hash" not in k for k in tables["api_keys"])
    assert "secret" not in text
    assert bob[0] not in text
    assert isinstance(tables["balances"][0]["cash"], str)


def test_child_accounts_go_with_the_user_unless_someone_else_owns_one(api: Api) -> None:
    parent = _account(api, "alice", "p")
    orphan = lifecycle.create_account(
        api.ctx, lifecycle.NewAccount(idempotency_key="c", parent_account_id=parent)
    )
    foreign = lifecycle.create_account(
        api.ctx,
        lifecycle.NewAccount(idempotency_key="f", parent_account_id=parent, owner_user_id=UserId("bob")),
    )
    before = _all_rows(api.ctx.engine)
    with pytest.raises(Conflict) as raised:
        erase_user(api.ctx, UserId("alice"), actor="ops", reason="test")
    assert raised.value.details == {"accounts": [foreign.id]}
    assert _all_rows(api.ctx.engine) == before
    erase_user(api.ctx, UserId("bob"), actor="ops", reason="test")
    erasure = erase_user(api.ctx, UserId("alice"), actor="ops", reason="test")
    assert erasure.accounts == 2
    assert _rows_of(api.ctx.engine, "alice", [parent, AccountId(orphan.id)])["accounts"] == 0
