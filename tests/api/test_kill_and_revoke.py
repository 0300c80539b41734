"""Acceptance: revoke while a client streams, with two real server processes behind one database.

Two ``propdesk serve`` processes (own interpreters, own caches, default settings: the revocation
version is re-read every 0.25 s) serve the same database, SQLite file or PostgreSQL. A client
streams ``trade_updates`` from process 1 with a key pair while process 2 has just served the same
key (so both remember it as valid). The key is revoked from the test process; the stream must end
(an ``unauthorized`` message, then a 1008 close) within 1 s and the key must be refused (401) on
process 2 within 1 s. Then the same for a bearer token, revoked with ``propdesk token revoke``:
401 on both processes within 1 s. The measured latencies are printed (``pytest -s``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from propdesk.cli import build_cli
from propdesk.model.ids import AccountId
from propdesk.services.access import api_keys
from propdesk.services.access.tokens import Role, create_token
from propdesk.services.accounts import lifecycle
from propdesk.services.context import ServiceContext
from propdesk.store.engine import create_engine_for
from tests.served import server

LIMIT = 1.0


def first_true(check: Callable[[], bool], seconds: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.01)
    return None


def refuses(http: httpx.Client, path: str, headers: dict[str, str]) -> bool:
    return http.get(path, headers=headers).status_code == 401


@pytest.fixture
def two_servers(db_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with ExitStack() as stack:
        urls = [stack.enter_context(server(db_url, tmp_path / f"server{i}.log"))[1] for i in (1, 2)]
        yield urls[0], urls[1]


def test_a_revoked_key_ends_its_stream_and_is_refused_by_the_other_process_within_a_second(
    db_url: str, two_servers: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_servers
    engine = create_engine_for(db_url)
    try:
        ctx = ServiceContext(engine=engine)
        row = lifecycle.create_account(ctx, lifecycle.NewAccount(preset="paper"))
        lifecycle.start(ctx, AccountId(row.id))
        keys = api_keys.create_key(engine, AccountId(row.id), clock=ctx.clock)
        _, token = create_token(engine, role=Role.SERVICE, name="bot", clock=ctx.clock)
    finally:
        engine.dispose()
    pair = {"APCA-API-KEY-ID": keys.key_id, "APCA-API-SECRET-KEY": keys.secret_key}
    bearer = {"Authorization": f"Bearer {token}"}
    packs = "/api/v1/risk/packs"

    with (
        httpx.Client(base_url=first, timeout=5) as one,
        httpx.Client(base_url=second, timeout=5) as two,
        connect(first.replace("http", "ws", 1) + "/stream", open_timeout=10) as ws,
    ):
        ws.send(
            json.dumps(
                {"action": "authenticate", "data": {"key_id": keys.key_id, "secret_key": keys.secret_key}}
            )
        )
        assert json.loads(ws.recv(timeout=10))["data"]["status"] == "authorized"
        ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert json.loads(ws.recv(timeout=10))["data"] == {"streams": ["trade_updates"]}
        for http in (one, two):  # both processes now remember the key and the token as valid
            assert http.get("/v2/account", headers=pair).status_code == 200
            assert http.get(packs, headers=bearer).status_code == 200

        revoking = create_engine_for(db_url)
        revoked = time.monotonic()  # from before the revoking transaction: an upper bound
        try:
            api_keys.revoke_key(revoking, keys.key_id, clock=ctx.clock)
        finally:
            revoking.dispose()
        message = json.loads(ws.recv(timeout=LIMIT))
        assert message["data"]["status"] == "unauthorized"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=LIMIT)
        stream_closed = time.monotonic() - revoked
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008
        refused = first_true(partial(refuses, two, "/v2/account", pair), LIMIT)
        assert refused is not None, "process 2 still accepted the revoked key after 1 s"
        key_refused = time.monotonic() - revoked
        assert stream_closed < LIMIT
        assert key_refused < LIMIT
        assert one.get("/v2/account", headers=pair).status_code == 401

        monkeypatch.setenv("PROPDESK_DATABASE_URL", db_url)
        result = CliRunner().invoke(build_cli(), ["token", "revoke", token.split("_")[1]])
        assert result.exit_code == 0, result.output
        revoked = time.monotonic()
        latencies = []
        for http in (one, two):
            took = first_true(partial(refuses, http, packs, bearer), LIMIT)
            assert took is not None, "a process still accepted the revoked token after 1 s"
            latencies.append(time.monotonic() - revoked)
        assert max(latencies) < LIMIT
    print(
        f"\n[{db_url.split(':')[0]}] stream closed {stream_closed * 1000:.0f} ms after the key's revocation; "
        f"key refused by process 2 after {key_refused * 1000:.0f} ms; token refused by both after "
        f"{max(latencies) * 1000:.0f} ms (from the CLI's return)"
    )
