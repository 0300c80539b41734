"""Key pairs and rate-limit headers on /v2, over a live server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine

from propdesk.services.access import api_keys
from propdesk.settings import Settings
from propdesk.store.uow import UnitOfWork
from tests.api.alpaca.conftest import Paper, build_paper


def test_a_missing_or_wrong_pair_is_a_401_in_alpacas_shape(paper: Paper) -> None:
    with httpx.Client(base_url=paper.url) as http:
        for headers in (
            {},
            {"APCA-API-KEY-ID": paper.keys.key_id},
            {"APCA-API-KEY-ID": paper.keys.key_id, "APCA-API-SECRET-KEY": paper.keys.secret_key + "x"},
            {"APCA-API-KEY-ID": "PK" + "A" * 18, "APCA-API-SECRET-KEY": paper.keys.secret_key},
        ):
            response = http.get("/v2/clock", headers=headers)
            assert response.status_code == 401, headers
            assert response.json() == {"code": 40110000, "message": "request is not authorized"}
            assert response.headers["X-RateLimit-Limit"] == "200"


def test_the_secret_is_stored_hashed_and_a_revoked_key_stops_working(paper: Paper) -> None:
    with UnitOfWork(paper.ctx.engine, read_only=True) as uow:
        record = uow.api_keys.find(paper.keys.key_id)
    assert record is not None
    assert record.account_id == paper.account_id
    assert paper.keys.secret_key not in record.secret_hash
    assert len(paper.keys.key_id) == 20
    assert len(paper.keys.secret_key) == 40
    _, other = paper.open_account()
    api_keys.revoke_key(paper.ctx.engine, other.key_id, clock=paper.clock)
    assert api_keys.authenticate_key(paper.ctx.engine, other.key_id, other.secret_key) is None
    assert api_keys.authenticate_key(paper.ctx.engine, paper.keys.key_id, paper.keys.secret_key) is not None


@pytest.fixture
def limited(engine: Engine) -> Iterator[Paper]:
    yield from build_paper(engine, Settings(trading_api_rate_limit=3))


def test_over_the_limit_is_a_429_with_the_headers(limited: Paper) -> None:
    with limited.http() as http:
        seen = [http.get("/v2/clock") for _ in range(4)]
    assert [r.headers["X-RateLimit-Remaining"] for r in seen] == ["2", "1", "0", "0"]
    assert seen[3].status_code == 429
    assert seen[3].json()["code"] == 42910000
    assert seen[3].json()["message"] == "rate limit exceeded"
    reset = int(seen[0].headers["X-RateLimit-Reset"])
    assert reset % 60 == 0
