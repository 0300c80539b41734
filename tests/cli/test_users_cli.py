"""``propdesk users export`` and ``propdesk users erase`` as an operator runs them, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from propdesk.cli import build_cli
from propdesk.model.ids import AccountId, UserId
from propdesk.services.access import api_keys
from propdesk.services.access.users import user_hash
from propdesk.services.accounts import lifecycle
from propdesk.services.context import ServiceContext
from propdesk.store.engine import create_engine_for
from propdesk.store.tables import accounts, users
from propdesk.store.tables import api_keys as api_keys_table


@pytest.fixture
def env_engine(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("PROPDESK_DATABASE_URL", db_url)
    engine = create_engine_for(db_url)
    yield engine
    engine.dispose()


def _user_with_account(engine: Engine, user: str) -> AccountId:
    ctx = ServiceContext(engine=engine)
    row = lifecycle.create_account(
        ctx, lifecycle.NewAccount(idempotency_key=user, owner_user_id=UserId(user))
    )
    account_id = AccountId(row.id)
    lifecycle.start(ctx, account_id)
    api_keys.create_key(engine, account_id, clock=ctx.clock)
    return account_id


def _count(engine: Engine, table: sa.Table, condition: sa.ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(condition)).scalar_one())


def test_export_writes_json_without_secrets_and_erase_removes_the_user(
    env_engine: Engine, tmp_path: Path
) -> None:
    alice = _user_with_account(env_engine, "alice")
    bob = _user_with_account(env_engine, "bob")
    out = tmp_path / "alice.json"
    exported = CliRunner().invoke(build_cli(), ["users", "export", "alice", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [a["id"] for a in document["tables"]["accounts"]] == [alice]
    assert len(document["tables"]["api_keys"]) == 1
    assert "secret" not in out.read_text(encoding="utf-8")
    assert isinstance(document["tables"]["balances"][0]["cash"], str)
    printed = CliRunner().invoke(build_cli(), ["users", "export", "alice"])
    assert json.loads(printed.stdout)["tables"]["accounts"] == document["tables"]["accounts"]

    erased = CliRunner().invoke(build_cli(), ["users", "erase", "alice", "--reason", "GDPR request"])
    assert erased.exit_code == 0, erased.output
    assert f"erased user sha256:{user_hash('alice')}: 1 accounts" in erased.stdout
    assert _count(env_engine, users, users.c.id == "alice") == 0
    assert _count(env_engine, accounts, accounts.c.id == alice) == 0
    assert _count(env_engine, api_keys_table, api_keys_table.c.account_id == alice) == 0
    assert _count(env_engine, api_keys_table, api_keys_table.c.account_id == bob) == 1


def test_unknown_user_fails_cleanly(env_engine: Engine) -> None:
    for args in (["users", "export", "carol"], ["users", "erase", "carol", "--reason", "x"]):
        result = CliRunner().invoke(build_cli(), args)
        assert result.exit_code == 2
        assert "no user carol" in result.output
    missing = CliRunner().invoke(build_cli(), ["users", "erase", "carol"])
    assert missing.exit_code == 2  # --reason is required
