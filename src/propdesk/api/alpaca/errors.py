"""Errors on /v2 as Alpaca sends them: ``{"code": <8-digit int>, "message": "..."}``.

alpaca-py raises ``APIError`` and reads ``code`` and ``message`` from the body, so every /v2
error, ours or a translated service error, has exactly that shape (extra context fields such
as ``buying_power`` are allowed, as Alpaca adds them to some 403s).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

MALFORMED = 40010000
INVALID_PARAMETER = 40010001
UNAUTHORIZED = 40110000
FORBIDDEN = 40310000
NOT_FOUND = 40410000
CONFLICT = 40910000  # not Alpaca's: only POST /v2/account/reset, propdesk's own route, answers 409
PAYLOAD_TOO_LARGE = 41310000
UNPROCESSABLE = 42210000
RATE_LIMITED = 42910000
INTERNAL = 50010000

_BY_STATUS = {
    400: MALFORMED,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    413: PAYLOAD_TOO_LARGE,
    429: RATE_LIMITED,
}


class AlpacaError(Exception):
    """An error raised by a /v2 route with Alpaca's status, code and message."""

    def __init__(self, status: int, code: int, message: str, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = dict(extra or {})


def response(status: int, code: int, message: str, extra: Mapping[str, Any] | None = None) -> JSONResponse:
    return JSONResponse({**(extra or {}), "code": code, "message": message}, status_code=status)


def translate(status: int, code: str, message: str) -> JSONResponse:
    """A propdesk error (stable string code) as Alpaca's: 409 becomes a 422 (Alpaca has no 409);
    field validation is 40010001, other refusals 42210000. Our own code goes along as ``reason``."""
    if status == 409:
        status = 422
    if status == 422:
        number = INVALID_PARAMETER if code in ("invalid_request", "invalid_order") else UNPROCESSABLE
    else:
        number = _BY_STATUS.get(status, INTERNAL if status >= 500 else MALFORMED)
    return response(status, number, message, {"reason": code})


class AlpacaErrorOut(BaseModel):
    """Every /v2 error body: Alpaca's ``code`` and ``message``; some add context (``buying_power``)."""

    model_config = ConfigDict(extra="allow")

    code: int
    message: str


# Every error status a /v2 route may answer (409 is translated to 422; 413 is a body over the
# size limit), declared in the OpenAPI document with Alpaca's body.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": AlpacaErrorOut} for status in (400, 401, 403, 404, 413, 422, 429)
}
