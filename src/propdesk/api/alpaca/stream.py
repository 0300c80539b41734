"""The ``/stream`` WebSocket: Alpaca's ``trade_updates`` protocol (docs/alpaca.md, "Endpoints").

A client authenticates with an account key pair, asks to listen to ``trade_updates`` and then
receives every trade update of that key's account (and only that account) stored from then on,
in order: the engine writes each order change to ``order_updates`` in the transaction that made
it, and each connection polls that table with its own cursor (one indexed query per poll, run
in the thread pool so the event loop never waits on the database). Updates made before the
listen are not replayed, as on Alpaca.

Revocation: every connection re-checks its key whenever this process sees the revocation version
change (it looks every ``PROPDESK_AUTH_VERSION_INTERVAL_SECONDS``, 0.25 s by default); a revoked key
gets an ``authorization`` message with status ``unauthorized`` and the socket is closed (1008), so
a stream never outlives its key by more than about half a second. Failed ``authenticate`` messages
count against the client address like failed REST authentications.

Frames: the server answers in binary frames carrying JSON, as Alpaca's trade stream does (its
clients, alpaca-py included, read either kind); it reads the client's JSON from text or binary
frames. MessagePack is not offered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from fastapi import WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from propdesk.api import auth_failures
from propdesk.api.alpaca.auth import TOO_MANY_FAILURES, check_pair
from propdesk.api.alpaca.present import order as present_order
from propdesk.api.alpaca.wire import dec, ts
from propdesk.api.routing import api_router
from propdesk.model.text import TextError, check_texts
from propdesk.services.access import api_keys
from propdesk.services.access.api_keys import KeyPrincipal
from propdesk.services.access.tokens import AuthVersionWatcher
from propdesk.services.alpaca.paper_accounts import PAPER_TRADING_OFF
from propdesk.services.context import ServiceContext
from propdesk.services.orders import trade_updates

log = logging.getLogger(__name__)

router = api_router(tags=["alpaca"])

TRADE_UPDATES = "trade_updates"
# How often a listening connection looks for new updates (seconds).
POLL_INTERVAL = 0.2
# A policy-violation close after a refused authentication, as a hint to clients that read codes.
UNAUTHORIZED_CLOSE = 1008


def update_message(update: trade_updates.TradeUpdate) -> dict[str, Any]:
    """One ``trade_updates`` message; fill figures (strings) only on fills, as Alpaca sends them."""
    data: dict[str, Any] = {
        "event": update.event,
        "execution_id": update.execution_id,
        "order": present_order(update.order),
        "timestamp": ts(update.at),
    }
    if update.qty is not None:
        data["qty"] = dec(update.qty)
        data["price"] = dec(update.price)
        data["position_qty"] = dec(update.position_qty)
    return {"stream": TRADE_UPDATES, "data": data}


def _credentials(message: dict[str, Any]) -> tuple[str, str] | None:
    """The key pair of an ``authenticate`` message, or of the older ``auth`` one (key/secret)."""
    action = message.get("action")
    if action == "authenticate":
        data = message.get("data")
        if isinstance(data, dict):
            return str(data.get("key_id") or ""), str(data.get("secret_key") or "")
        return "", ""
    if action == "auth":
        return str(message.get("key") or ""), str(message.get("secret") or "")
    return None


@dataclass
class _Connection:
    """One client: who it is, whether it listens, and how far it has been sent."""

    websocket: WebSocket
    ctx: ServiceContext
    principal: KeyPrincipal | None = None
    # The revocation version seen when ``principal`` was last known valid.
    auth_version: int = 0
    listening: bool = False
    cursor: int = 0
    closed: bool = False
    send_lock: anyio.Lock = field(default_factory=anyio.Lock)

    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            if not self.closed:
                await self.websocket.send_bytes(json.dumps(message).encode())

    async def close(self, code: int = 1000) -> None:
        async with self.send_lock:
            if not self.closed:
                self.closed = True
                if self.websocket.application_state is WebSocketState.CONNECTED:
                    await self.websocket.close(code)

    async def read(self) -> None:
        """Answer the client's messages until it goes away or is refused."""
        while not self.closed:
            try:
                frame = await self.websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if frame["type"] == "websocket.disconnect":
                return
            raw = frame.get("text")
            if raw is None and frame.get("bytes") is not None:
                raw = frame["bytes"].decode("utf-8", errors="replace")
            await self.handle(raw or "")

    async def handle(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            await self.send({"stream": "listening", "data": {"error": "invalid syntax"}})
            return
        try:  # no control character or lone surrogate reaches a key lookup (PostgreSQL refuses NUL)
            check_texts(message, field="message")
        except TextError as exc:
            await self.send({"stream": "listening", "data": {"error": str(exc)}})
            return
        credentials = _credentials(message)
        if credentials is not None:
            await self.authenticate(*credentials)
            return
        if message.get("action") == "listen":
            await self.listen(message.get("data"))
            return
        await self.send(
            {"stream": "listening", "data": {"error": f"unknown action {message.get('action')!r}"}}
        )

    @property
    def watcher(self) -> AuthVersionWatcher:
        watcher: AuthVersionWatcher = self.websocket.app.state.auth_version
        return watcher

    async def refuse(self, error: str | None = None) -> None:
        data = {"action": "authenticate", "status": "unauthorized"}
        if error is not None:
            data["error"] = error
        await self.send({"stream": "authorization", "data": data})
        await self.close(UNAUTHORIZED_CLOSE)

    async def authenticate(self, key_id: str, secret: str) -> None:
        if not self.ctx.settings.paper_trading:
            await self.refuse(PAPER_TRADING_OFF)
            return

        def check() -> tuple[int, KeyPrincipal] | None:
            # The version is read before the key: a revocation committed after it is seen by the pump.
            version = self.watcher.current()
            found = check_pair(self.websocket, key_id, secret)
            return None if found is None else (version, found)

        try:
            version, principal = await run_in_threadpool(
                auth_failures.authenticate, self.websocket, check, presented=True
            )
        except auth_failures.TooManyFailures:
            await self.refuse(TOO_MANY_FAILURES)
            return
        except auth_failures.NotAuthenticated:
            await self.refuse()
            return
        self.auth_version = version
        if self.principal is not None and principal.account_id != self.principal.account_id:
            self.listening = False  # another account: its stream starts with its own listen
        self.principal = principal
        await self.send(
            {"stream": "authorization", "data": {"action": "authenticate", "status": "authorized"}}
        )

    async def listen(self, data: object) -> None:
        if self.principal is None:
            await self.send(
                {"stream": "authorization", "data": {"action": "listen", "status": "unauthorized"}}
            )
            await self.close(UNAUTHORIZED_CLOSE)
            return
        streams = data.get("streams") if isinstance(data, dict) else None
        wanted = [s for s in streams if isinstance(s, str)] if isinstance(streams, list) else []
        if TRADE_UPDATES in wanted:
            if not self.listening:
                account_id = self.principal.account_id
                self.cursor = await run_in_threadpool(trade_updates.latest_id, self.ctx, account_id)
                self.listening = True
            await self.send({"stream": "listening", "data": {"streams": [TRADE_UPDATES]}})
        else:  # an empty (or unknown) list stops the stream, as on Alpaca
            self.listening = False
            await self.send({"stream": "listening", "data": {"streams": []}})

    async def revoked(self, principal: KeyPrincipal) -> bool:
        """Whether the key was revoked: looked up only when the revocation version has moved."""
        watcher = self.watcher
        version = await run_in_threadpool(watcher.current) if watcher.stale else watcher.current()
        if version == self.auth_version:
            return False
        active = await run_in_threadpool(api_keys.is_active, self.ctx.engine, principal.key_id)
        if active and self.principal is principal:
            self.auth_version = version
        return not active

    async def pump(self) -> None:
        """Send the account's new updates while the client listens; end the connection when its
        key is revoked."""
        while not self.closed:
            await anyio.sleep(POLL_INTERVAL)
            principal = self.principal
            if principal is None:
                continue
            if await self.revoked(principal):
                await self.refuse("the key was revoked")
                return
            if not self.listening:
                continue
            found = await run_in_threadpool(
                trade_updates.updates_after, self.ctx, principal.account_id, self.cursor
            )
            for update in found:
                if not self.listening or self.principal is not principal:
                    break
                await self.send(update_message(update))
                self.cursor = update.id

    async def guarded(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work``; a client that went away ends the connection quietly, a bug is logged and
        closes it with 1011 (internal error)."""
        try:
            await work()
        except (WebSocketDisconnect, OSError, anyio.ClosedResourceError):
            self.closed = True
        except Exception:
            log.exception("trade-updates stream failed")
            try:
                await self.close(1011)
            except Exception:  # the socket is gone as well
                self.closed = True


async def stream(websocket: WebSocket) -> None:
    """Alpaca's trading stream: authenticate, listen to ``trade_updates``, receive them."""
    await websocket.accept()
    connection = _Connection(websocket, websocket.app.state.ctx)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(connection.guarded, connection.pump)
        await connection.guarded(connection.read)
        connection.closed = True
        tasks.cancel_scope.cancel()


# A plain Starlette route: the app-wide HTTP dependencies (they take a Request) do not apply to a
# WebSocket, and the stream has no path or query parameters to check.
router.add_websocket_route("/stream", stream, name="alpaca_stream")
