"""Request bodies over ``PROPDESK_MAX_BODY_BYTES`` answer 413 without being read (issue 14, hole 5).

In process: a declared length over the limit is refused before any byte is read; a chunked body
(no length) is refused as soon as the bytes streamed pass the limit, the rest never read. The
shape follows the route: ours on /api/v1, Alpaca's ``{code, message}`` on /v2.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from starlette.types import Message, Receive, Scope, Send

from propdesk.api.limits import BodyLimit
from propdesk.settings import Settings
from tests.api.conftest import Api, build_api

LIMIT = 4096


@pytest.fixture
def small(engine: Engine) -> Iterator[Api]:
    built = build_api(engine, Settings(max_body_bytes=LIMIT))
    with built.client:
        yield built


def padded(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    head = b'{"name": "a", "pad": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_the_default_limit_is_one_mebibyte() -> None:
    assert Settings().max_body_bytes == 1_048_576


def test_a_declared_length_over_the_limit_is_413_in_our_shape(small: Api) -> None:
    over = small.client.post(
        "/api/v1/prop/accounts",
        content=padded(LIMIT + 1),
        headers={**small.admin, "content-type": "application/json"},
    )
    assert over.status_code == 413
    assert over.json()["code"] == "body_too_large"
    assert str(LIMIT) in over.json()["message"]


def test_a_body_at_the_limit_reaches_the_route(small: Api) -> None:
    at = small.client.post(
        "/api/v1/prop/accounts",
        content=padded(LIMIT),
        headers={**small.admin, "content-type": "application/json"},
    )
    assert at.status_code == 422  # read and validated (no preset field): not refused for its size


def test_v2_answers_alpacas_shape(small: Api) -> None:
    over = small.client.post(
        "/v2/orders",
        content=padded(LIMIT + 1),
        headers={"content-type": "application/json", "APCA-API-KEY-ID": "k", "APCA-API-SECRET-KEY": "s"},
    )
    assert over.status_code == 413
    body = over.json()
    assert body["code"] == 41310000
    assert isinstance(body["message"], str)


@pytest.mark.parametrize("path", ["/api/v1/prop/accounts", "/v2/orders"])
def test_a_chunked_body_is_cut_at_the_limit(small: Api, path: str) -> None:
    headers = {**small.admin, "content-type": "application/json"}
    over = small.client.post(path, content=chunks(padded(LIMIT * 4)), headers=headers)
    assert "content-length" not in {k.lower() for k in over.request.headers}
    assert over.status_code == 413, over.text
    assert over.json()["code"] == ("body_too_large" if path.startswith("/api") else 41310000)


def test_the_middleware_stops_reading_at_the_limit() -> None:
    """A streamed body is read only until it passes the limit; the app's 413 is sent once."""
    read: list[int] = []
    sent: list[Message] = []
    parts = [b"x" * 1000] * 20

    async def receive() -> Message:
        read.append(1)
        return {"type": "http.request", "body": parts[len(read) - 1], "more_body": len(read) < len(parts)}

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        raise AssertionError("the whole body was read")

    scope: Scope = {"type": "http", "path": "/api/v1/x", "headers": [], "method": "POST"}
    asyncio.run(BodyLimit(app, max_bytes=2500)(scope, receive, send))
    assert len(read) == 3  # 3,000 bytes: the limit passed, nothing more read
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["code"] == "body_too_large"
