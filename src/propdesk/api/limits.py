"""The request body limit: a pure ASGI middleware that answers 413 before reading a large body.

A request announcing more than ``max_bytes`` in ``Content-Length`` is refused at once, without a
single body byte read. A body sent without a length (chunked) is counted as it streams: the
message that crosses the limit raises :class:`BodyTooLarge` into whatever is reading it, the
response the app makes of that is dropped for the 413, and the rest of the body is never read
(the server closes the connection after the 413). So no request
can make the server buffer or parse more than ``max_bytes``.

The 413 has our error shape on ``/api/v1`` (``{code: "body_too_large", message, details}``) and
Alpaca's ``{code, message}`` on ``/v2``.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propdesk.api.alpaca import errors as alpaca_errors

BODY_TOO_LARGE = "body_too_large"


class BodyTooLarge(HTTPException):
    """Raised by the counting ``receive`` when a streamed body passes the limit.

    An :class:`HTTPException` so that FastAPI's body reader lets it through unchanged (it turns
    any other exception into a 400). Whatever response the app makes of it is dropped: once the
    limit is passed, :class:`BodyLimit` itself answers the 413.
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, _message(max_bytes))


def _message(max_bytes: int) -> str:
    return f"the request body is larger than the limit of {max_bytes} bytes (PROPDESK_MAX_BODY_BYTES)"


def too_large_response(path: str, max_bytes: int) -> JSONResponse:
    """The 413, with ``Connection: close``: the server then closes the connection instead of
    reading (and discarding) the rest of the body to keep it alive."""
    message = _message(max_bytes)
    if path.startswith("/v2"):
        response = alpaca_errors.response(
            413, alpaca_errors.PAYLOAD_TOO_LARGE, message, {"reason": BODY_TOO_LARGE}
        )
    else:
        response = JSONResponse(
            {"code": BODY_TOO_LARGE, "message": message, "details": {"limit": max_bytes}}, status_code=413
        )
    response.headers["connection"] = "close"
    return response


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before the app sees it
    return None


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await too_large_response(scope["path"], self.max_bytes)(scope, receive, send)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # whatever the app made of the cut body (a 400, a 500) is replaced by the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except Exception:
            # Middleware between here and the route may wrap BodyTooLarge (an ExceptionGroup).
            if not exceeded or started:
                raise
        if exceeded and not started:
            await too_large_response(scope["path"], self.max_bytes)(scope, receive, send)
