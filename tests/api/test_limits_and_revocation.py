"""Revocation takes effect within a second, rate limits are shared by every process, and failed
authentication is throttled per address: on /api/v1, /v2 and the /stream WebSocket, both databases.

Two apps on one database (each with its own engine, caches and revocation watcher) stand for two
server processes here; ``tests/api/test_kill_and_revoke.py`` does the same with real ones.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from propdesk.api.app import create_app
from propdesk.model.ids import AccountId
from propdesk.services.access import api_keys
from propdesk.services.access.tokens import revoke_token
from propdesk.services.accounts import lifecycle
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from propdesk.store.engine import create_engine_for
from tests.api.alpaca.conftest import Paper, build_paper, key_headers
from tests.api.conftest import Api, build_api

ACCOUNTS = "/api/v1/prop/clones/clone-7/accounts"  # a list: 200 with any valid token
PACKS = "/api/v1/risk/packs"
BAD_TOKEN = {"Authorization": "Bearer pd_0123456789abcdef_" + "x" * 43}
WITHIN = 1.0


def until(check: Callable[[], bool], seconds: float) -> float | None:
    """Seconds until ``check()`` first holds, or None if it did not within ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def clear_of_the_minute_edge(margin: float = 8.0) -> None:
    """Wait until at least ``margin`` seconds remain in the current one-minute window, so that a
    sequence counted by the test is not split by the window rolling over."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.05)


@pytest.fixture
def second_engine(db_url: str) -> Iterator[Engine]:
    built = create_engine_for(db_url)
    yield built
    built.dispose()


def other_process(api: Api, engine: Engine) -> TestClient:
    """Another app (own engine, caches, watcher) on the same database and settings."""
    ctx = ServiceContext(engine=engine, settings=api.ctx.settings, clock=api.clock)
    return TestClient(create_app(ctx), raise_server_exceptions=False)


# --- /api/v1 -------------------------------------------------------------------------------------


def test_the_service_api_limit_is_per_token_shared_by_processes_with_the_headers(
    engine: Engine, second_engine: Engine
) -> None:
    api = build_api(engine, Settings(service_api_rate_limit=3))
    with api.client, other_process(api, second_engine) as other:
        clear_of_the_minute_edge()
        seen = [
            client.get(ACCOUNTS, headers=api.service) for client in (api.client, other, api.client, other)
        ]
        assert [r.status_code for r in seen] == [200, 200, 200, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in seen] == ["2", "1", "0", "0"]
        assert all(r.headers["X-RateLimit-Limit"] == "3" for r in seen)
        reset = int(seen[3].headers["X-RateLimit-Reset"])
        assert reset % 60 == 0
        body = seen[3].json()
        assert body["code"] == "rate_limited"
        assert body["details"] == {"limit": 3, "reset": reset}
        assert 1 <= int(seen[3].headers["Retry-After"]) <= 60
        # The admin token has its own window.
        assert api.client.get(ACCOUNTS, headers=api.admin).status_code == 200
        assert "X-RateLimit-Limit" not in api.client.get("/healthz").headers


def test_failed_bearer_authentication_is_throttled_per_address_across_processes(
    engine: Engine, second_engine: Engine
) -> None:
    api = build_api(engine, Settings(auth_failure_limit=3))
    with api.client, other_process(api, second_engine) as other:
        clear_of_the_minute_edge()
        # No credentials at all is refused without counting.
        assert {api.client.get(ACCOUNTS).status_code for _ in range(10)} == {401}
        seen = [client.get(ACCOUNTS, headers=BAD_TOKEN) for client in (api.client, other, api.client, other)]
        assert [r.status_code for r in seen] == [401, 401, 401, 429]
        assert seen[3].json()["code"] == "rate_limited"
        assert seen[3].headers["X-RateLimit-Limit"] == "3"
        # Blocked: even a right token from this address is refused until the window ends.
        refused = other.get(ACCOUNTS, headers=api.service)
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"


def test_a_revoked_token_is_refused_by_every_process_within_a_second(
    engine: Engine, second_engine: Engine
) -> None:
    api = build_api(engine)
    with api.client, other_process(api, second_engine) as other:
        for client in (api.client, other):  # both remember the token as valid
            assert client.get(ACCOUNTS, headers=api.service).status_code == 200
        token_id = api.service["Authorization"].split("_")[1]
        revoke_token(engine, token_id, clock=api.clock)
        for client in (api.client, other):

            def refused(c: TestClient = client) -> bool:
                return bool(c.get(ACCOUNTS, headers=api.service).status_code == 401)

            assert until(refused, WITHIN) is not None, "the revoked token still worked after 1 s"
        assert api.client.get(ACCOUNTS, headers=api.service).json()["code"] == "invalid_token"
        assert other.get(PACKS, headers=api.admin).status_code == 200


# --- /v2 and /stream -----------------------------------------------------------------------------


@pytest.fixture
def paper_throttled(engine: Engine) -> Iterator[Paper]:
    yield from build_paper(engine, Settings(auth_failure_limit=3))


def test_failed_key_authentication_is_throttled_on_v2_and_the_stream(paper_throttled: Paper) -> None:
    paper = paper_throttled
    wrong = {**key_headers(paper.keys), "APCA-API-SECRET-KEY": "x" * 40}
    clear_of_the_minute_edge()
    with httpx.Client(base_url=paper.url) as http:
        assert {http.get("/v2/account").status_code for _ in range(5)} == {401}  # no key: not counted
        seen = [http.get("/v2/account", headers=wrong) for _ in range(4)]
        assert [r.status_code for r in seen] == [401, 401, 401, 429]
        assert seen[3].json() == {
            "code": 42910000,
            "message": "too many failed authentications from this address; retry later",
        }
        assert seen[3].headers["X-RateLimit-Limit"] == "3"
        assert http.get("/v2/account", headers=paper.headers).status_code == 429  # blocked
    with connect(paper.url.replace("http", "ws", 1) + "/stream", open_timeout=10) as ws:
        ws.send(
            json.dumps(
                {
                    "action": "authenticate",
                    "data": {"key_id": paper.keys.key_id, "secret_key": paper.keys.secret_key},
                }
            )
        )
        answer = json.loads(ws.recv(timeout=10))
        assert answer["data"]["status"] == "unauthorized"
        assert "too many failed authentications" in answer["data"]["error"]
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)


def test_a_stream_failure_counts_towards_the_throttle(paper_throttled: Paper) -> None:
    paper = paper_throttled
    url = paper.url.replace("http", "ws", 1) + "/stream"
    clear_of_the_minute_edge()
    for expected_error in (False, False, False, True):
        with connect(url, open_timeout=10) as ws:
            ws.send(json.dumps({"action": "auth", "key": paper.keys.key_id, "secret": "wrong"}))
            data = json.loads(ws.recv(timeout=10))["data"]
            assert data["status"] == "unauthorized"
            assert ("error" in data) is expected_error


def test_the_v2_limit_is_shared_by_processes(engine: Engine, second_engine: Engine) -> None:
    api = build_api(engine, Settings(trading_api_rate_limit=3))
    row = lifecycle.create_account(api.ctx, lifecycle.NewAccount(preset="paper"))
    lifecycle.start(api.ctx, AccountId(row.id))
    headers = key_headers(api_keys.create_key(engine, AccountId(row.id), clock=api.clock))
    with api.client, other_process(api, second_engine) as other:
        clear_of_the_minute_edge()
        seen = [
            client.get("/v2/account", headers=headers) for client in (api.client, other, api.client, other)
        ]
    assert [r.status_code for r in seen] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in seen] == ["2", "1", "0", "0"]
    assert seen[3].json() == {"code": 42910000, "message": "rate limit exceeded"}


@pytest.fixture
def paper(engine: Engine) -> Iterator[Paper]:
    yield from build_paper(engine)


def test_a_revoked_key_closes_its_stream_and_is_refused_within_a_second(paper: Paper) -> None:
    with paper.http() as http, connect(paper.url.replace("http", "ws", 1) + "/stream", open_timeout=10) as ws:
        assert http.get("/v2/account").status_code == 200  # remembered as valid
        ws.send(
            json.dumps(
                {
                    "action": "authenticate",
                    "data": {"key_id": paper.keys.key_id, "secret_key": paper.keys.secret_key},
                }
            )
        )
        assert json.loads(ws.recv(timeout=10))["data"]["status"] == "authorized"
        ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert json.loads(ws.recv(timeout=10))["stream"] == "listening"
        revoked_at = time.monotonic()
        api_keys.revoke_key(paper.ctx.engine, paper.keys.key_id, clock=paper.clock)
        message = json.loads(ws.recv(timeout=WITHIN))
        assert message == {
            "stream": "authorization",
            "data": {"action": "authenticate", "status": "unauthorized", "error": "the key was revoked"},
        }
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WITHIN)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008
        assert time.monotonic() - revoked_at < WITHIN
        assert until(lambda: http.get("/v2/account").status_code == 401, WITHIN) is not None
