"""``PROPDESK_PAPER_TRADING=false`` turns the user-facing paper trading off (seed 003's
FLAG_PAPER_TRADING_V1): every /v2 request is refused 403, /stream refuses to authenticate, no paper
account can be created; prop accounts on /api/v1 carry on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from propdesk.api.alpaca.auth import KEY_HEADER, SECRET_HEADER
from propdesk.model.ids import AccountId
from propdesk.services.access import api_keys
from propdesk.services.alpaca import paper_accounts
from propdesk.services.errors import Disabled
from propdesk.settings import Settings
from tests.api.conftest import Api, build_api

ACCOUNTS = "/api/v1/prop/accounts"


def _started_account(api: Api, key: str) -> AccountId:
    created = api.client.post(ACCOUNTS, json={"idempotencyKey": key}, headers=api.service)
    assert created.status_code == 201, created.text
    account_id = AccountId(created.json()["id"])
    started = api.client.post(f"{ACCOUNTS}/{account_id}/start", headers=api.service)
    assert started.status_code == 200, started.text
    return account_id


@pytest.fixture
def off(engine: Engine) -> Iterator[Api]:
    built = build_api(engine, Settings(paper_trading=False))
    with built.client:
        yield built


def test_v2_is_refused_with_a_key_that_works_when_paper_trading_is_on(engine: Engine) -> None:
    on = build_api(engine)
    with on.client:
        account_id = _started_account(on, "acct-on")
        keys = api_keys.create_key(engine, account_id, clock=on.clock)
        headers = {KEY_HEADER: keys.key_id, SECRET_HEADER: keys.secret_key}
        assert on.client.get("/v2/account", headers=headers).status_code == 200
    off = build_api(engine, Settings(paper_trading=False))
    with off.client:
        for path in ("/v2/account", "/v2/orders", "/v2/positions", "/v2/clock"):
            refused = off.client.get(path, headers=headers)
            assert refused.status_code == 403, path
            assert refused.json()["code"] == 40310000
            assert "paper trading is turned off" in refused.json()["message"]
        posted = off.client.post("/v2/orders", headers=headers, json={"symbol": "AAPL", "qty": "1"})
        assert posted.status_code == 403


def test_the_stream_refuses_to_authenticate(off: Api, engine: Engine) -> None:
    account_id = _started_account(off, "acct-stream")
    keys = api_keys.create_key(engine, account_id, clock=off.clock)
    with TestClient(off.client.app).websocket_connect("/stream") as ws:
        ws.send_json(
            {"action": "authenticate", "data": {"key_id": keys.key_id, "secret_key": keys.secret_key}}
        )
        answer = ws.receive_json(mode="binary")
    assert answer["data"]["status"] == "unauthorized"
    assert "paper trading is turned off" in answer["data"]["error"]


def test_no_paper_account_is_created_and_nothing_is_written(off: Api) -> None:
    with pytest.raises(Disabled) as refused:
        paper_accounts.create_paper_account(off.ctx)
    assert refused.value.code == "paper_trading_disabled"
    assert paper_accounts.list_accounts(off.ctx) == []


def test_prop_accounts_carry_on(off: Api) -> None:
    account_id = _started_account(off, "acct-prop")
    snapshot = off.client.get(f"{ACCOUNTS}/{account_id}/snapshot", headers=off.service)
    assert snapshot.status_code == 200, snapshot.text
    assert snapshot.json()["account"]["status"] == "active"
