"""A fake Alpaca Market Data server on 127.0.0.1: real HTTP, scripted replies, recorded requests.

Tests script the replies of each path (status, raw JSON text shaped as in reference/alpaca.md
§3, rate-limit headers) and read back what the client sent. Bodies are written as JSON *text*
with bare numbers, as Alpaca sends them, so the client's exact-decimal decoding is exercised and
no float is ever built on the test side.

The server is uvicorn in a daemon thread, serving a socket that is bound and listening before
the thread starts: a client can connect at once (the kernel queues the connection until uvicorn
accepts it), so no test waits or polls for start-up.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOT_FOUND = '{"code":40410000,"message":"endpoint not found"}'


def epoch_seconds(moment: datetime) -> int:
    """UNIX seconds without going through a float."""
    return (moment - EPOCH) // timedelta(seconds=1)


class FakeTime:
    """The test's clock and sleep: sleeping records the wait and moves the clock, instantly."""

    def __init__(self, start: datetime) -> None:
        self.current = start
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def __call__(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(microseconds=round(seconds * 1_000_000))


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str = "{}"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: datetime | None


class FakeAlpaca:
    """Scripted replies per path; unscripted paths answer 404."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: dict[str, deque[Reply]] = {}
        self.requests: list[Recorded] = []
        self.time: FakeTime | None = None
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET"])])

    def reset(self, time: FakeTime | None = None) -> None:
        with self._lock:
            self._replies.clear()
            self.requests.clear()
            self.time = time

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._replies.setdefault(path, deque()).extend(replies)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        with self._lock:
            self.requests.append(
                Recorded(
                    path,
                    dict(request.query_params),
                    {k.lower(): v for k, v in request.headers.items()},
                    self.time.now() if self.time is not None else None,
                )
            )
            queue = self._replies.get(path)
            reply = queue.popleft() if queue else Reply(404, NOT_FOUND)
        return Response(
            reply.body, status_code=reply.status, headers=reply.headers, media_type="application/json"
        )


class ServerThread:
    """uvicorn serving ``app`` on a free 127.0.0.1 port in a daemon thread."""

    def __init__(self, app: Callable[..., object]) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        host, port = self._socket.getsockname()
        self.url = f"http://{host}:{port}"
        config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True, name="fake-alpaca"
        )

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def rate_headers(remaining: int, reset: datetime, limit: int = 200) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(epoch_seconds(reset)),
    }


def stock_quote(
    bp: str, ap: str, t: str = "2024-03-08T15:00:00.123456789Z", bs: str = "2", as_: str = "1"
) -> str:
    """A stock quote object as JSON text (bare numbers, as Alpaca sends)."""
    return f'{{"ap":{ap},"as":{as_},"ax":"Q","bp":{bp},"bs":{bs},"bx":"Q","c":["R"],"t":"{t}","z":"C"}}'


def bar(
    t: str, o: str, h: str, low: str, c: str, v: str = "1000", n: str = "10", vw: str | None = None
) -> str:
    vwap = f',"vw":{vw}' if vw is not None else ""
    return f'{{"t":"{t}","o":{o},"h":{h},"l":{low},"c":{c},"v":{v},"n":{n}{vwap}}}'
