"""Ownership on the service API: a service token uses only the accounts it created or was granted.

Another token's account answers 404 ``account_not_found`` exactly as a missing one, and nothing
changes; an admin token uses every account. (Each test here failed before ownership existed:
any service token could read, trade and liquidate any account.)
"""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from propdesk.cli import build_cli
from propdesk.services.access.tokens import Role, create_token
from propdesk.services.alpaca import paper_accounts
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import Api

ACCOUNTS = "/api/v1/prop/accounts"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def other_token(api: Api, *, accounts: list[str] | None = None) -> dict[str, str]:
    _, token = create_token(
        api.ctx.engine, role=Role.SERVICE, name="tenant-b", clock=api.clock, accounts=accounts or []
    )
    return bearer(token)


def opened(api: Api, headers: dict[str, str], **body: Any) -> str:
    created = api.client.post(ACCOUNTS, json=body, headers=headers)
    assert created.status_code == 201, created.text
    account_id: str = created.json()["id"]
    assert api.client.post(f"{ACCOUNTS}/{account_id}/start", headers=headers).status_code == 200
    return account_id


def not_found(account_id: str) -> dict[str, Any]:
    return {"code": "account_not_found", "message": f"account {account_id!r} does not exist", "details": {}}


def ledger_seq(api: Api, account_id: str) -> int:
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        return uow.accounts.get(account_id).last_seq


def test_another_tokens_account_is_404_like_a_missing_one_and_nothing_changes(api: Api) -> None:
    mine = opened(api, api.service)
    b = other_token(api)
    api.quote("AAPL", "99.99", "100.01")
    seq = ledger_seq(api, mine)
    for method, suffix, body in (
        ("GET", "", None),
        ("GET", "/snapshot", None),
        ("GET", "/ledger", None),
        (
            "POST",
            "/orders",
            {"symbol": "AAPL", "side": "buy", "type": "limit", "qty": "1", "limitPrice": "50"},
        ),
        (
            "POST",
            "/decision-actions",
            {
                "decisionRunId": "r",
                "actions": [
                    {"decisionActionId": "a", "action": "open_long", "symbol": "AAPL", "notional": "100"}
                ],
            },
        ),
        ("POST", "/liquidate", {"reason": "mine now"}),
        ("POST", "/complete", {"reason": "mine now"}),
        ("DELETE", "/orders", None),
    ):
        theirs = api.client.request(method, f"{ACCOUNTS}/{mine}{suffix}", json=body, headers=b)
        missing = api.client.request(method, f"{ACCOUNTS}/nope{suffix}", json=body, headers=b)
        assert (theirs.status_code, theirs.json()) == (404, not_found(mine)), (method, suffix, theirs.text)
        assert (missing.status_code, missing.json()) == (404, not_found("nope"))
    assert ledger_seq(api, mine) == seq
    account = api.client.get(f"{ACCOUNTS}/{mine}", headers=api.service).json()
    assert account["status"] == "active"
    assert api.client.get(f"{ACCOUNTS}/{mine}/orders", headers=api.service).json()["items"] == []


def test_a_service_token_cannot_reach_admin_routes(api: Api) -> None:
    mine = opened(api, api.service)
    response = api.client.post(
        f"/api/v1/admin/prop/accounts/{mine}/pause", json={"reason": "x"}, headers=api.service
    )
    assert response.status_code == 403
    assert api.client.get(f"{ACCOUNTS}/{mine}", headers=api.service).json()["status"] == "active"


def test_a_granted_token_uses_the_account_and_a_later_grant_works_at_once(api: Api) -> None:
    mine = opened(api, api.service)
    granted = other_token(api, accounts=[mine])
    assert api.client.get(f"{ACCOUNTS}/{mine}", headers=granted).status_code == 200
    late = other_token(api)
    assert api.client.get(f"{ACCOUNTS}/{mine}", headers=late).status_code == 404  # principal now cached
    token_id = late["Authorization"].split("_")[1]
    with UnitOfWork(api.ctx.engine) as uow:
        uow.ownership.grant(token_id, [mine], api.clock())
        uow.commit()
    assert api.client.get(f"{ACCOUNTS}/{mine}", headers=late).status_code == 200


def test_an_admin_token_sees_every_account_and_user_accounts_belong_to_no_service_token(api: Api) -> None:
    mine = opened(api, api.service)
    users = paper_accounts.create_paper_account(api.ctx, owner_user_id="alice").account_id
    assert api.client.get(f"{ACCOUNTS}/{mine}", headers=api.admin).status_code == 200
    assert api.client.get(f"{ACCOUNTS}/{users}", headers=api.admin).status_code == 200
    refused = api.client.get(f"{ACCOUNTS}/{users}", headers=api.service)
    assert (refused.status_code, refused.json()) == (404, not_found(users))


def test_lists_and_sweeps_show_only_the_tokens_own_accounts(api: Api) -> None:
    b = other_token(api)
    mine = opened(api, api.service, cloneId="shared-clone")
    theirs = opened(api, b, cloneId="shared-clone")
    listed = api.client.get("/api/v1/prop/clones/shared-clone/accounts", headers=b).json()["items"]
    assert [a["id"] for a in listed] == [theirs]
    everyone = api.client.get("/api/v1/prop/clones/shared-clone/accounts", headers=api.admin).json()["items"]
    assert {a["id"] for a in everyone} == {mine, theirs}
    api.quote("AAPL", "99.99", "100.01")
    for account_id, headers in ((mine, api.service), (theirs, b)):
        body = {
            "decisionRunId": "r",
            "actions": [
                {"decisionActionId": "a", "action": "open_long", "symbol": "AAPL", "notional": "100"}
            ],
        }
        done = api.client.post(f"{ACCOUNTS}/{account_id}/decision-actions", json=body, headers=headers)
        assert done.json()["actions"][0]["status"] == "filled", done.text
    seq = ledger_seq(api, mine)
    api.quote("AAPL", "100.99", "101.01")
    sweep = api.client.post("/api/v1/prop/mark-to-market-all", headers=b).json()
    assert sweep["accounts"] == 1
    assert ledger_seq(api, mine) == seq


def test_another_tokens_decision_action_is_404(api: Api) -> None:
    mine = opened(api, api.service)
    api.quote("AAPL", "99.99", "100.01")
    body = {
        "decisionRunId": "r",
        "actions": [{"decisionActionId": "a", "action": "open_long", "symbol": "AAPL", "notional": "100"}],
    }
    action_id = api.client.post(f"{ACCOUNTS}/{mine}/decision-actions", json=body, headers=api.service).json()[
        "actions"
    ][0]["id"]
    b = other_token(api)
    theirs = api.client.get(f"/api/v1/prop/decision-actions/{action_id}", headers=b)
    missing = api.client.get("/api/v1/prop/decision-actions/nope", headers=b)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["code"] == missing.json()["code"] == "decision_action_not_found"
    assert (
        api.client.get(f"/api/v1/prop/decision-actions/{action_id}", headers=api.service).status_code == 200
    )


def test_a_parent_account_of_another_token_is_404_and_creates_nothing(api: Api) -> None:
    mine = opened(api, api.service)
    b = other_token(api)
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        before = len(uow.accounts.summaries())
    response = api.client.post(ACCOUNTS, json={"parentAccountId": mine}, headers=b)
    assert (response.status_code, response.json()) == (404, not_found(mine))
    with UnitOfWork(api.ctx.engine, read_only=True) as uow:
        assert len(uow.accounts.summaries()) == before


def test_an_idempotency_key_never_returns_another_tokens_account(api: Api) -> None:
    mine = opened(api, api.service, idempotencyKey="k-1")
    b = other_token(api)
    clash = api.client.post(ACCOUNTS, json={"idempotencyKey": "k-1"}, headers=b)
    assert clash.status_code == 409, clash.text
    assert clash.json()["code"] == "idempotency_conflict"
    assert mine not in clash.text
    again = api.client.post(ACCOUNTS, json={"idempotencyKey": "k-1"}, headers=api.service)
    assert (again.status_code, again.json()["id"]) == (201, mine)
    assert api.client.post(ACCOUNTS, json={"idempotencyKey": "k-1"}, headers=api.admin).json()["id"] == mine


@pytest.fixture
def cli_db(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    from propdesk.store import migrate

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("PROPDESK_DATABASE_URL", url)
    return url


def test_token_create_grants_accounts_and_refuses_an_unknown_one(cli_db: str) -> None:
    from propdesk.services.access.tokens import authenticate
    from propdesk.store.engine import create_engine_for

    created = CliRunner().invoke(build_cli(), ["accounts", "create", "--user", "u1"])
    assert created.exit_code == 0, created.output
    account_id = created.stdout.strip().splitlines()[-1]
    result = CliRunner().invoke(
        build_cli(), ["token", "create", "--role", "service", "--account", account_id, "--name", "bot"]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    engine = create_engine_for(cli_db)
    try:
        principal = authenticate(engine, token)
        assert principal is not None
        with UnitOfWork(engine, read_only=True) as uow:
            assert uow.ownership.granted(principal.token_id) == [account_id]
            tokens = uow.connection.exec_driver_sql("SELECT count(*) FROM api_tokens").scalar_one()
        bad = CliRunner().invoke(build_cli(), ["token", "create", "--account", "no-such-account"])
        assert bad.exit_code == 2
        assert "no-such-account" in bad.output
        with UnitOfWork(engine, read_only=True) as uow:
            assert uow.connection.exec_driver_sql("SELECT count(*) FROM api_tokens").scalar_one() == tokens
    finally:
        engine.dispose()
