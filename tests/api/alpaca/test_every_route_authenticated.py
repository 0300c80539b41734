"""Every /v2 route refuses a request without a valid key pair (401 in Alpaca's shape), and the
stream refuses an unknown pair: no route is reachable unauthenticated, including future ones."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine

from propdesk.settings import Settings
from tests.api.alpaca.conftest import Paper, build_paper


@pytest.fixture
def paper(engine: Engine) -> Iterator[Paper]:
    """The live server, with the failed-authentication throttle lifted: this test sends a wrong pair
    to every route from one address (the throttle is tested in tests/api/test_limits_and_revocation.py)."""
    yield from build_paper(engine, Settings(auth_failure_limit=10**6))


def test_every_v2_operation_needs_a_key_pair(paper: Paper) -> None:
    paths = paper.app.openapi()["paths"]
    operations = [
        (method.upper(), re.sub(r"\{[^}]+\}", "AAPL", path))
        for path, methods in paths.items()
        if path.startswith("/v2")
        for method in methods
    ]
    assert len(operations) >= 25
    wrong = {"APCA-API-KEY-ID": paper.keys.key_id, "APCA-API-SECRET-KEY": "x" * 40}
    with httpx.Client(base_url=paper.url, timeout=10) as http:
        for method, path in operations:
            for headers in ({}, wrong):
                response = http.request(method, path, headers=headers)
                assert response.status_code == 401, (method, path, response.text)
                assert response.json() == {"code": 40110000, "message": "request is not authorized"}
