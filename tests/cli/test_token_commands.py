"""``propdesk token list`` and ``propdesk token revoke`` as an operator runs them, on both databases."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from propdesk.cli import build_cli
from propdesk.services.access.tokens import authenticate
from propdesk.store.engine import create_engine_for


@pytest.fixture
def env_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PROPDESK_DATABASE_URL", db_url)
    return db_url


def _create(role: str, name: str) -> str:
    result = CliRunner().invoke(build_cli(), ["token", "create", "--role", role, "--name", name])
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def test_list_shows_every_token_without_its_secret_and_revoke_stops_it(env_db: str) -> None:
    bot = _create("service", "bot")
    ops = _create("admin", "ops")
    listed = CliRunner().invoke(build_cli(), ["token", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["role"], r["revoked_at"]) for r in rows] == [
        ("bot", "service", None),
        ("ops", "admin", None),
    ]
    assert set(rows[0]) == {"id", "name", "role", "created_at", "revoked_at"}
    for token in (bot, ops):
        assert token.split("_", 2)[2] not in listed.stdout
    bot_id = bot.split("_")[1]
    assert rows[0]["id"] == bot_id

    revoked = CliRunner().invoke(build_cli(), ["token", "revoke", bot_id])
    assert revoked.exit_code == 0, revoked.output
    assert f"revoked {bot_id}" in revoked.stdout
    engine = create_engine_for(env_db)
    try:
        assert authenticate(engine, bot) is None
        assert authenticate(engine, ops) is not None
    finally:
        engine.dispose()

    rows = json.loads(CliRunner().invoke(build_cli(), ["token", "list", "--json"]).stdout)
    assert rows[0]["revoked_at"] is not None
    assert rows[1]["revoked_at"] is None
    plain = CliRunner().invoke(build_cli(), ["token", "list"])
    assert plain.exit_code == 0
    assert f"{bot_id}  service  bot" in plain.stdout
    assert "revoked" in plain.stdout.splitlines()[0]
    assert plain.stdout.splitlines()[1].endswith("active")


def test_revoking_an_unknown_or_revoked_token_fails_cleanly(env_db: str) -> None:
    token_id = _create("service", "bot").split("_")[1]
    assert CliRunner().invoke(build_cli(), ["token", "revoke", token_id]).exit_code == 0
    again = CliRunner().invoke(build_cli(), ["token", "revoke", token_id])
    assert again.exit_code == 2
    assert f"no active token {token_id}" in again.output
    unknown = CliRunner().invoke(build_cli(), ["token", "revoke", "nosuchtoken"])
    assert unknown.exit_code == 2
