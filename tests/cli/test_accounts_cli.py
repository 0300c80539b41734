"""``propdesk accounts`` and ``propdesk keys`` as a user runs them, on both databases."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from propdesk.cli import build_cli
from propdesk.services.access.api_keys import authenticate_key
from propdesk.services.alpaca.paper_accounts import reset_account
from propdesk.services.context import ServiceContext
from propdesk.store.engine import create_engine_for
from propdesk.store.tables import accounts, api_keys, users


@pytest.fixture
def cli_url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PROPDESK_DATABASE_URL", db_url)
    return db_url


def run(*args: str) -> Result:
    return CliRunner().invoke(build_cli(), list(args))


def ok_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def counts(url: str) -> tuple[int, int, int]:
    engine = create_engine_for(url)
    try:
        with engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in (users, accounts, api_keys)
            )
    finally:
        engine.dispose()


def test_accounts_and_keys_from_the_shell(cli_url: str) -> None:
    first = ok_json("accounts", "create", "--user", "alice", "--name", "Alice A.")
    assert set(first) == {"account_id", "status", "starting_cash", "currency", "preset", "owner_user_id"}
    assert (first["status"], first["starting_cash"], first["currency"], first["preset"]) == (
        "active",
        "100000",
        "USD",
        "paper",
    )
    assert first["owner_user_id"] == "alice"
    second = run("accounts", "create", "--user", "alice", "--starting-cash", "2500.75")
    assert second.exit_code == 0, second.output
    second_id = second.stdout.strip()
    assert "2500.75 USD, owner alice" in second.stderr
    audition = ok_json("accounts", "create", "--preset", "audition")
    assert (audition["currency"], audition["owner_user_id"]) == ("USDC", None)

    mine = ok_json("accounts", "list", "--user", "alice")
    assert [(a["account_id"], a["status"], a["equity"]) for a in mine] == [
        (first["account_id"], "active", "100000"),
        (second_id, "active", "2500.75"),
    ]
    assert len(ok_json("accounts", "list")) == 3
    listed = run("accounts", "list")
    assert listed.exit_code == 0
    assert len(listed.stdout.strip().splitlines()) == 3
    assert f"{second_id}  active" in listed.stdout

    pair = ok_json("keys", "create", "--account", first["account_id"])
    assert set(pair) == {"account_id", "key_id", "secret_key"}
    human = run("keys", "create", "--account", second_id)
    assert human.exit_code == 0, human.output
    assert "shown only now" in human.stderr
    lines = dict(line.split(":", 1) for line in human.stdout.strip().splitlines())
    other = {"key_id": lines["key id"].strip(), "secret_key": lines["secret key"].strip()}

    engine = create_engine_for(cli_url)
    try:
        one = authenticate_key(engine, pair["key_id"], pair["secret_key"])
        two = authenticate_key(engine, other["key_id"], other["secret_key"])
        assert one is not None
        assert two is not None
        assert (one.account_id, two.account_id) == (first["account_id"], second_id)
        with engine.connect() as conn:
            hashes = list(conn.execute(sa.select(api_keys.c.secret_hash)).scalars())
        assert all(pair["secret_key"] not in h and other["secret_key"] not in h for h in hashes)
        # A reset keeps the pair working.
        reset_account(ServiceContext(engine=engine), first["account_id"], actor="cli-test")
        assert authenticate_key(engine, pair["key_id"], pair["secret_key"]) == one
    finally:
        engine.dispose()

    listed_keys = run("keys", "list", "--account", first["account_id"])
    assert listed_keys.exit_code == 0
    assert pair["key_id"] in listed_keys.stdout
    assert pair["secret_key"] not in listed_keys.stdout
    revoked = run("keys", "revoke", pair["key_id"])
    assert revoked.exit_code == 0, revoked.output
    (row,) = ok_json("keys", "list", "--account", first["account_id"])
    assert row["revoked_at"] is not None
    engine = create_engine_for(cli_url)
    try:
        assert authenticate_key(engine, pair["key_id"], pair["secret_key"]) is None
    finally:
        engine.dispose()
    assert counts(cli_url) == (1, 3, 2)
    assert Decimal(ok_json("accounts", "list")[0]["equity"]) == Decimal(100000)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["accounts", "create", "--preset", "nope"], "unknown policy preset 'nope'"),
        (
            ["accounts", "create", "--starting-cash", "abc", "--user", "u"],
            "--starting-cash must be a positive number",
        ),
        (["accounts", "create", "--starting-cash", "0", "--user", "u"], "must be a positive number"),
        (["accounts", "create", "--starting-cash", "-5"], "must be a positive number"),
        (["accounts", "create", "--starting-cash", "NaN"], "must be a positive number"),
        # The strict number grammar: no exponent, "+", "_" or other digits (issue 14, hole 7).
        (["accounts", "create", "--starting-cash", "1e20", "--user", "u"], 'no "+", "_", exponent'),
        (["accounts", "create", "--starting-cash", "1e309", "--user", "u"], "must be a positive number"),
        (["accounts", "create", "--starting-cash", "+5", "--user", "u"], "must be a positive number"),
        (["accounts", "create", "--starting-cash", "1_000", "--user", "u"], "must be a positive number"),
        (["accounts", "create", "--starting-cash", "١٢", "--user", "u"], "must be a positive number"),
        # PROPDESK_MAX_STARTING_CASH (10,000,000 by default), checked before the user is created.
        (
            ["accounts", "create", "--starting-cash", "10000000.01", "--user", "u"],
            "PROPDESK_MAX_STARTING_CASH",
        ),
        (["accounts", "create", "--user", "u\t"], "--user: must not contain a control character"),
        (["accounts", "create", "--user", "u", "--name", "a\x00b"], "must not contain a control character"),
        (["accounts", "create", "--name", "x"], "give --user as well"),
        (["keys", "create", "--account", "no-such-account"], "no account no-such-account"),
        (["keys", "list", "--account", "no-such-account"], "no account no-such-account"),
        (["keys", "revoke", "PKNOSUCHKEY"], "no active key PKNOSUCHKEY"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_creates_nothing(
    cli_url: str, args: list[str], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert message in line
    assert counts(cli_url) == (0, 0, 0)


def test_a_fresh_sqlite_file_is_migrated_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    created = ok_json("accounts", "create", "--starting-cash", "1000")
    pair = ok_json("keys", "create", "--account", created["account_id"])
    assert pair["account_id"] == created["account_id"]
    assert [a["equity"] for a in ok_json("accounts", "list")] == ["1000"]
