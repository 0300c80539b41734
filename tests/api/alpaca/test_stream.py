"""The ``/stream`` trade-updates WebSocket on a live server, on each database: the real alpaca-py
``TradingStream`` parses what it sends, and a raw websockets client checks the protocol edges
(refused keys, listening before authenticating, no replay, one account never sees another's)."""

from __future__ import annotations

import asyncio
import itertools
import json
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from alpaca.trading.enums import OrderStatus as SdkOrderStatus
from alpaca.trading.enums import TradeEvent
from alpaca.trading.models import TradeUpdate
from alpaca.trading.stream import TradingStream
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from propdesk.execution.order_book.requests import OrderRequest
from propdesk.model.ids import OrderId
from propdesk.model.orders import OrderType, Side, TimeInForce
from propdesk.services.access.api_keys import KeyPair
from propdesk.services.orders import commands as orders
from tests.api.alpaca.conftest import Paper

D = Decimal
WAIT = 10.0
_warmups = itertools.count(1)


def ws_url(paper: Paper) -> str:
    return paper.url.replace("http", "ws", 1) + "/stream"


def market_buy(coid: str, qty: str = "10", symbol: str = "AAPL") -> OrderRequest:
    return OrderRequest(client_order_id=coid, symbol=symbol, side=Side.BUY, qty=D(qty))


def limit_buy(coid: str, limit: str, qty: str = "10", tif: TimeInForce = TimeInForce.DAY) -> OrderRequest:
    return OrderRequest(
        client_order_id=coid,
        symbol="AAPL",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D(qty),
        limit_price=D(limit),
        time_in_force=tif,
    )


# --- alpaca-py's TradingStream ---------------------------------------------------------------


class SdkStream:
    """alpaca-py's stream running in its own thread, collecting the updates its handler gets."""

    def __init__(self, paper: Paper) -> None:
        self.paper = paper
        self.received: queue.Queue[TradeUpdate] = queue.Queue()
        self.stream = TradingStream(
            paper.keys.key_id, paper.keys.secret_key, paper=True, url_override=ws_url(paper)
        )

        async def handler(update: TradeUpdate) -> None:
            self.received.put(update)

        self.stream.subscribe_trade_updates(handler)
        self.thread = threading.Thread(target=self.stream.run, daemon=True)

    def start(self) -> None:
        """Run the stream and wait until the server listens for it: a listener only gets what
        happens after its listen, so rejected ``pd-reject-`` orders (they change nothing) are sent
        until one comes through."""
        self.thread.start()
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            orders.submit_order(
                self.paper.ctx,
                self.paper.account_id,
                limit_buy(f"pd-reject-warmup-{next(_warmups)}", "90"),
            )
            try:
                self.received.get(timeout=0.5)
            except queue.Empty:
                continue
            self.drain(0.3)
            return
        raise AssertionError("the SDK stream never started listening")

    def drain(self, quiet: float) -> list[TradeUpdate]:
        got: list[TradeUpdate] = []
        while True:
            try:
                got.append(self.received.get(timeout=quiet))
            except queue.Empty:
                return got

    def next(self, count: int) -> list[TradeUpdate]:
        got = [self.received.get(timeout=WAIT) for _ in range(count)]
        return got

    def stop(self) -> None:
        self.stream.stop()
        # The SDK checks for a stop between messages: one more update wakes it.
        orders.submit_order(
            self.paper.ctx, self.paper.account_id, limit_buy(f"pd-reject-stop-{next(_warmups)}", "90")
        )
        self.thread.join(timeout=WAIT)
        assert not self.thread.is_alive()


@pytest.fixture
def sdk_stream(paper: Paper) -> Iterator[SdkStream]:
    stream = SdkStream(paper)
    stream.start()
    try:
        yield stream
    finally:
        stream.stop()


def test_the_sdk_receives_new_fill_and_canceled_parsed_by_its_own_model(
    paper: Paper, sdk_stream: SdkStream
) -> None:
    paper.quote("AAPL", "100.00", "100.02")
    filled = orders.submit_order(paper.ctx, paper.account_id, market_buy("m-1")).order
    new, fill = sdk_stream.next(2)
    assert all(isinstance(u, TradeUpdate) for u in (new, fill))
    assert (new.event, new.order.id, new.order.status, new.price, new.qty) == (
        TradeEvent.NEW,
        UUID(filled.id),
        SdkOrderStatus.NEW,
        None,
        None,
    )
    assert (fill.event, fill.order.status, fill.order.client_order_id) == (
        TradeEvent.FILL,
        SdkOrderStatus.FILLED,
        "m-1",
    )
    # The fill's figures: at the ask, the whole 10, the position after it.
    assert (fill.price, fill.qty, fill.position_qty) == (100.02, 10.0, 10.0)
    assert (fill.order.filled_qty, fill.order.filled_avg_price) == ("10", "100.02")
    assert fill.timestamp == paper.clock().replace(tzinfo=UTC)
    assert fill.execution_id is not None
    assert fill.execution_id != new.execution_id

    resting = orders.submit_order(paper.ctx, paper.account_id, limit_buy("l-1", "90")).order
    (rested,) = sdk_stream.next(1)
    assert (rested.event, rested.order.status, rested.order.limit_price) == (
        TradeEvent.NEW,
        SdkOrderStatus.NEW,
        "90",
    )
    orders.cancel_order(paper.ctx, paper.account_id, OrderId(resting.id))
    (canceled,) = sdk_stream.next(1)
    assert (canceled.event, canceled.order.id, canceled.order.status) == (
        TradeEvent.CANCELED,
        UUID(resting.id),
        SdkOrderStatus.CANCELED,
    )
    assert canceled.order.canceled_at is not None
    assert sdk_stream.drain(0.3) == []


def test_outside_market_hours_pd_fill_and_pd_reject_reach_the_sdk(
    paper: Paper, sdk_stream: SdkStream
) -> None:
    """Alpaca-API#173: trade updates testable on a Saturday."""
    paper.quote("AAPL", "100.00", "100.02")
    paper.clock.current = datetime(2026, 1, 10, 15, 0, tzinfo=UTC)  # Saturday
    plain = orders.submit_order(paper.ctx, paper.account_id, limit_buy("weekend", "99")).order
    (accepted,) = sdk_stream.next(1)
    assert (accepted.event, accepted.order.id, accepted.order.status) == (
        TradeEvent.ACCEPTED,
        UUID(plain.id),
        SdkOrderStatus.ACCEPTED,
    )
    orders.submit_order(paper.ctx, paper.account_id, limit_buy("pd-fill-1", "99.5", qty="4"))
    new, fill = sdk_stream.next(2)
    assert (new.event, fill.event, fill.order.status) == (
        TradeEvent.NEW,
        TradeEvent.FILL,
        SdkOrderStatus.FILLED,
    )
    assert (fill.price, fill.qty, fill.position_qty) == (99.5, 4.0, 4.0)
    orders.submit_order(paper.ctx, paper.account_id, limit_buy("pd-reject-1", "99"))
    (rejected,) = sdk_stream.next(1)
    assert (rejected.event, rejected.order.status, rejected.order.client_order_id) == (
        TradeEvent.REJECTED,
        SdkOrderStatus.REJECTED,
        "pd-reject-1",
    )
    assert rejected.order.failed_at is not None


# --- a raw client -------------------------------------------------------------------------------


def receive(ws: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    frame = ws.recv(timeout=timeout)
    assert isinstance(frame, bytes), "Alpaca's trade stream sends binary frames"
    message: dict[str, Any] = json.loads(frame)
    return message


def nothing_within(ws: ClientConnection, seconds: float) -> bool:
    try:
        ws.recv(timeout=seconds)
    except TimeoutError:
        return True
    return False


def authenticate(ws: ClientConnection, keys: KeyPair) -> dict[str, Any]:
    ws.send(
        json.dumps({"action": "authenticate", "data": {"key_id": keys.key_id, "secret_key": keys.secret_key}})
    )
    return receive(ws)


def listen(ws: ClientConnection) -> dict[str, Any]:
    ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
    return receive(ws)


@pytest.fixture
def client(paper: Paper) -> Iterator[ClientConnection]:
    with connect(ws_url(paper), open_timeout=WAIT) as ws:
        yield ws


def test_a_wrong_secret_is_unauthorized_and_the_connection_closes(
    paper: Paper, client: ClientConnection
) -> None:
    wrong = KeyPair(paper.account_id, paper.keys.key_id, paper.keys.secret_key + "x")
    assert authenticate(client, wrong) == {
        "stream": "authorization",
        "data": {"action": "authenticate", "status": "unauthorized"},
    }
    with pytest.raises(ConnectionClosed) as closed:
        client.recv(timeout=WAIT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008


def test_listening_before_authenticating_is_unauthorized(paper: Paper, client: ClientConnection) -> None:
    assert listen(client) == {
        "stream": "authorization",
        "data": {"action": "listen", "status": "unauthorized"},
    }
    with pytest.raises(ConnectionClosed):
        client.recv(timeout=WAIT)


def test_the_handshake_and_no_replay_of_earlier_updates(paper: Paper, client: ClientConnection) -> None:
    paper.quote("AAPL", "100.00", "100.02")
    orders.submit_order(paper.ctx, paper.account_id, market_buy("before"))
    assert authenticate(client, paper.keys) == {
        "stream": "authorization",
        "data": {"action": "authenticate", "status": "authorized"},
    }
    assert listen(client) == {"stream": "listening", "data": {"streams": ["trade_updates"]}}
    assert nothing_within(client, 0.5)
    placed = orders.submit_order(paper.ctx, paper.account_id, market_buy("after", qty="2")).order
    new, fill = receive(client), receive(client)
    assert (new["stream"], new["data"]["event"], new["data"]["order"]["id"]) == (
        "trade_updates",
        "new",
        placed.id,
    )
    assert "price" not in new["data"]
    assert "qty" not in new["data"]
    assert {k: fill["data"][k] for k in ("event", "price", "qty", "position_qty")} == {
        "event": "fill",
        "price": "100.02",
        "qty": "2",
        "position_qty": "12",
    }
    # An empty list stops the stream.
    client.send(json.dumps({"action": "listen", "data": {"streams": []}}))
    assert receive(client) == {"stream": "listening", "data": {"streams": []}}
    orders.submit_order(paper.ctx, paper.account_id, market_buy("unheard", qty="1"))
    assert nothing_within(client, 0.5)


def test_an_account_never_sees_another_accounts_updates(paper: Paper, client: ClientConnection) -> None:
    other_id, other_keys = paper.open_account()
    assert authenticate(client, paper.keys)["data"]["status"] == "authorized"
    listen(client)
    with connect(ws_url(paper), open_timeout=WAIT) as other:
        # The older ``auth`` message works too.
        other.send(json.dumps({"action": "auth", "key": other_keys.key_id, "secret": other_keys.secret_key}))
        assert receive(other)["data"]["status"] == "authorized"
        listen(other)
        paper.quote("AAPL", "100.00", "100.02")
        mine = orders.submit_order(paper.ctx, paper.account_id, market_buy("mine")).order
        assert [receive(client)["data"]["order"]["id"] for _ in range(2)] == [mine.id, mine.id]
        assert nothing_within(other, 0.6)
        theirs = orders.submit_order(paper.ctx, other_id, market_buy("theirs", qty="3")).order
        first = receive(other)["data"]
        assert (first["order"]["id"], first["order"]["client_order_id"]) == (theirs.id, "theirs")
        assert receive(other)["data"]["position_qty"] == "3"
        assert nothing_within(client, 0.5)


def test_garbage_gets_an_error_and_the_connection_stays(paper: Paper, client: ClientConnection) -> None:
    client.send("not json")
    assert receive(client) == {"stream": "listening", "data": {"error": "invalid syntax"}}
    assert authenticate(client, paper.keys)["data"]["status"] == "authorized"


def test_asyncio_is_not_blocked_by_polling(paper: Paper) -> None:
    """Ten listening connections polling do not stall the server's HTTP answers."""

    async def main() -> float:
        from websockets.asyncio.client import connect as aconnect

        sockets = [await aconnect(ws_url(paper)) for _ in range(10)]
        try:
            for ws in sockets:
                await ws.send(
                    json.dumps(
                        {
                            "action": "authenticate",
                            "data": {"key_id": paper.keys.key_id, "secret_key": paper.keys.secret_key},
                        }
                    )
                )
                await ws.recv()
                await ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
                await ws.recv()
            started = time.monotonic()
            with paper.http() as http:
                for _ in range(5):
                    assert http.get("/v2/clock").status_code == 200
            return time.monotonic() - started
        finally:
            for ws in sockets:
                await ws.close()

    assert asyncio.run(main()) < 2.0
