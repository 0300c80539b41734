"""The retention job on both databases: per user tier, closed history older than the tier's
horizon is purged (orders, order updates, closed positions, daily snapshots compacted to
monthly), the ledger and fills are never touched, recompute stays clean and a rerun is a no-op."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from propdesk.cli import build_cli
from propdesk.execution.order_book.requests import OrderRequest
from propdesk.jobs import registry
from propdesk.model.ids import AccountId, UserId
from propdesk.model.orders import OrderType, Side, TimeInForce
from propdesk.services.access import users
from propdesk.services.accounts import commands as accounts
from propdesk.services.accounts import lifecycle
from propdesk.services.daily import retention, snapshots
from propdesk.services.errors import Invalid, NotFound
from propdesk.services.orders import commands as orders
from propdesk.store.tables import (
    account_snapshots,
    fills,
    ledger_events,
    order_updates,
    position_history,
)
from propdesk.store.tables import orders as orders_table
from propdesk.store.tables import users as users_table
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import Api, build_api

# T0 is Monday 2026-01-05; the old trades happen then, the purge runs 200 days later.
OLD_DAYS = [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7), date(2026, 2, 2), date(2026, 2, 3)]
LATER = timedelta(days=200)


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    built = build_api(engine)
    with built.client:
        yield built


def _account(api: Api, user: str) -> AccountId:
    row = lifecycle.create_account(
        api.ctx, lifecycle.NewAccount(idempotency_key=user, owner_user_id=UserId(user))
    )
    account_id = AccountId(row.id)
    lifecycle.start(api.ctx, account_id)
    return account_id


def _round_trip(api: Api, account_id: AccountId, tag: str) -> None:
    """A filled buy and a filled sell (a closed position) and an open limit order far below."""
    api.quote("AAPL", "100", "100")
    for side in (Side.BUY, Side.SELL):
        orders.submit_order(
            api.ctx,
            account_id,
            OrderRequest(client_order_id=f"{tag}-{side}", symbol="AAPL", side=side, qty=Decimal(1)),
        )
    limit = OrderRequest(
        client_order_id=f"{tag}-rest",
        symbol="AAPL",
        side=Side.BUY,
        qty=Decimal(1),
        type=OrderType.LIMIT,
        limit_price=Decimal(50),
        time_in_force=TimeInForce.GTC,
    )
    orders.submit_order(api.ctx, account_id, limit)


def _count(api: Api, table: sa.Table, account_id: AccountId) -> int:
    with api.ctx.engine.connect() as conn:
        stmt = sa.select(sa.func.count()).select_from(table).where(table.c.account_id == account_id)
        return int(conn.execute(stmt).scalar_one())


def _counts(api: Api, account_id: AccountId) -> dict[str, int]:
    tables = (orders_table, order_updates, fills, position_history, account_snapshots, ledger_events)
    return {table.name: _count(api, table, account_id) for table in tables}


def _history(api: Api) -> tuple[AccountId, AccountId]:
    """A free-tier user and a pro_plus user, each with old trades and snapshots, then recent trades."""
    fred = _account(api, "fred")
    paula = _account(api, "paula")
    users.set_retention_tier(api.ctx, UserId("fred"), "free", actor="ops")
    for account_id, tag in ((fred, "f"), (paula, "p")):
        _round_trip(api, account_id, f"{tag}-old")
    for day in OLD_DAYS:
        for account_id in (fred, paula):
            snapshots.snapshot_account(api.ctx, account_id, day)
    api.clock.current += LATER
    for account_id, tag in ((fred, "f"), (paula, "p")):
        _round_trip(api, account_id, f"{tag}-new")
    return fred, paula


def test_free_tier_history_is_purged_past_90_days_and_the_ledger_is_untouched(api: Api) -> None:
    fred, paula = _history(api)
    before = _counts(api, fred)
    paula_before = _counts(api, paula)
    assert (before["orders"], before["position_history"], before["account_snapshots"]) == (6, 2, 5)

    run = retention.run_retention(api.ctx, api.clock().date())

    after = _counts(api, fred)
    # The old filled buy and sell go with their updates; the old open limit order and everything recent stay.
    assert after["orders"] == 4
    assert after["order_updates"] < before["order_updates"]
    assert after["position_history"] == 1
    assert after["account_snapshots"] == 2  # the last of January and the last of February
    with api.ctx.engine.connect() as conn:
        kept_days = sorted(
            conn.execute(
                sa.select(account_snapshots.c.trading_date).where(account_snapshots.c.account_id == fred)
            ).scalars()
        )
        kept_orders = set(
            conn.execute(
                sa.select(orders_table.c.client_order_id).where(orders_table.c.account_id == fred)
            ).scalars()
        )
        orphans = conn.execute(
            sa.select(sa.func.count())
            .select_from(order_updates)
            .where(order_updates.c.order_id.not_in(sa.select(orders_table.c.id)))
        ).scalar_one()
    assert kept_days == [date(2026, 1, 7), date(2026, 2, 3)]
    assert kept_orders == {"f-old-rest", "f-new-buy", "f-new-sell", "f-new-rest"}
    assert orphans == 0
    # Never the ledger, never the fills: recompute folds the ledger and checks the fills against it.
    assert after["ledger_events"] == before["ledger_events"]
    assert after["fills"] == before["fills"]
    assert accounts.recompute(api.ctx.engine, fred) == {}
    # The pro_plus user keeps everything.
    assert _counts(api, paula) == paula_before
    assert (run.orders, run.position_history, run.account_snapshots, run.purged) == (2, 1, 3, 1)
    assert run.failed == []

    rerun = retention.run_retention(api.ctx, api.clock().date())
    assert (rerun.orders, rerun.order_updates, rerun.position_history, rerun.account_snapshots) == (
        0,
        0,
        0,
        0,
    )
    assert _counts(api, fred) == after


def test_a_pro_user_keeps_three_years(api: Api) -> None:
    fred, _ = _history(api)
    users.set_retention_tier(api.ctx, UserId("fred"), "pro", actor="ops")
    before = _counts(api, fred)
    retention.run_retention(api.ctx, api.clock().date())
    assert _counts(api, fred) == before


def test_new_users_default_to_pro_plus_and_the_tier_is_validated(api: Api) -> None:
    _account(api, "nina")
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        assert uow.users.retention_tier("nina") == "pro_plus"
    assert users.set_retention_tier(api.ctx, UserId("nina"), "pro", actor="ops") == "pro_plus"
    with pytest.raises(Invalid):
        users.set_retention_tier(api.ctx, UserId("nina"), "gold", actor="ops")
    with pytest.raises(NotFound):
        users.set_retention_tier(api.ctx, UserId("nobody"), "free", actor="ops")
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        assert uow.users.retention_tier("nina") == "pro"


def test_cutoffs_by_tier(api: Api) -> None:
    now = api.clock()
    assert retention.cutoff_for("free", now) == now - timedelta(days=90)
    assert retention.cutoff_for("pro", now) == now.replace(year=now.year - 3)
    assert retention.cutoff_for("pro_plus", now) is None
    with pytest.raises(ValueError, match="unknown retention tier"):
        retention.cutoff_for("gold", now)


def test_the_cli_sets_the_tier(
    db_url: str, monkeypatch: pytest.MonkeyPatch, api: Api, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROPDESK_DATABASE_URL", db_url)
    _account(api, "carl")
    result = CliRunner().invoke(build_cli(), ["users", "tier", "carl", "free"])
    assert result.exit_code == 0, result.output
    assert "pro_plus -> free" in result.output
    with api.ctx.engine.connect() as conn:
        tier = conn.execute(
            sa.select(users_table.c.retention_tier).where(users_table.c.id == "carl")
        ).scalar_one()
    assert tier == "free"
    refused = CliRunner().invoke(build_cli(), ["users", "tier", "carl", "gold"])
    assert refused.exit_code != 0


def test_the_registered_job_purges_and_reports_the_access_log_purge(api: Api) -> None:
    fred, _ = _history(api)
    result = registry.get("retention").run(api.ctx, api.clock().date())
    assert result.failed == []
    assert result.details["orders"] == 2
    assert result.details["market_data_access_log"] == 0
    assert _count(api, orders_table, fred) == 4
