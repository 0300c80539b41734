"""Request bodies decoded exactly: every JSON number becomes a ``Decimal``, never a float.

FastAPI reads a JSON body with ``await request.json()``; :class:`ExactJsonRoute` hands each
endpoint an :class:`ExactJsonRequest` whose ``json()`` decodes with ``parse_float=Decimal``, so
alpaca-py's ``1e-05`` is exactly ``Decimal("0.00001")`` and ``0.1`` is exactly one tenth. ``NaN``,
``Infinity`` and text that is not UTF-8 are a JSON decode error (422), as is any other malformed
body; an integer too long for Python's int parsing stays a ``Decimal`` and fails its field's bounds.
Every router of the app is built by :func:`api_router`, and a test checks that every HTTP route of
the app is an :class:`ExactJsonRoute`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

# Python refuses to parse an int of more digits than this (sys.get_int_max_str_digits).
_MAX_INT_DIGITS = 4000


class _Refused(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number propdesk accepts")


def _integer(text: str) -> int | Decimal:
    return int(text) if len(text) <= _MAX_INT_DIGITS else Decimal(text)


def loads_exact(data: bytes | str) -> Any:
    """``json.loads`` with exact decimals; any refusal is a :class:`json.JSONDecodeError`."""
    try:
        return json.loads(data, parse_float=Decimal, parse_int=_integer, parse_constant=_constant)
    except json.JSONDecodeError:
        raise
    except (_Refused, UnicodeDecodeError) as exc:
        doc = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
        raise json.JSONDecodeError(str(exc), doc, 0) from None


# Bodies at least this long are decoded in a worker thread: decoding 1 MiB of small numbers takes
# about 100 ms, which on the event loop would hold up every other client (``/healthz`` included).
THREAD_DECODE_BYTES = 64 * 1024


class ExactJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            if len(body) < THREAD_DECODE_BYTES:
                self._json = loads_exact(body)
            else:
                self._json = await anyio.to_thread.run_sync(loads_exact, body)
        return self._json


class ExactJsonRoute(APIRoute):
    """An API route whose endpoint reads the body through :class:`ExactJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact(request: Request) -> Response:
            return await handler(ExactJsonRequest(request.scope, request.receive))

        return exact


def api_router(**options: Any) -> APIRouter:
    """An ``APIRouter`` whose routes decode JSON bodies exactly (see the module docstring)."""
    return APIRouter(route_class=ExactJsonRoute, **options)
