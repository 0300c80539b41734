"""Every error is JSON ``{code, message, details}`` with a 4xx status; a bug is a 500 with no internals."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from propdesk.accounting.kernel import CommandRejected
from propdesk.api.alpaca import errors as alpaca_errors
from propdesk.api.alpaca.errors import AlpacaError
from propdesk.model.text import escape_text
from propdesk.services.errors import ServiceError
from propdesk.store.errors import AccountNotFound, ProjectionConflict, StaleStateError, UserNotFound

log = logging.getLogger(__name__)


def body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


def _field(loc: tuple[Any, ...]) -> str:
    # A location may hold a client's dict key: escaped, so a lone surrogate cannot break the response.
    parts = [escape_text(str(p)) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def reply(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The error response: ours, or Alpaca's ``{code, message}`` on the Alpaca-compatible /v2 routes."""
    if request.url.path.startswith("/v2"):
        translated = alpaca_errors.translate(status, code, message)
        translated.headers.update(headers or {})
        return translated
    return JSONResponse(body(code, message, details), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return reply(request, exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(AlpacaError)
    async def alpaca_error(_: Request, exc: AlpacaError) -> JSONResponse:
        return alpaca_errors.response(exc.status, exc.code, exc.message, exc.extra)

    @app.exception_handler(CommandRejected)
    async def rejected(request: Request, exc: CommandRejected) -> JSONResponse:
        return reply(request, 409, exc.code, exc.message)

    @app.exception_handler(AccountNotFound)
    async def no_account(request: Request, exc: AccountNotFound) -> JSONResponse:
        return reply(request, 404, "account_not_found", str(exc))

    @app.exception_handler(UserNotFound)
    async def no_user(request: Request, exc: UserNotFound) -> JSONResponse:
        return reply(request, 404, "user_not_found", str(exc))

    @app.exception_handler(StaleStateError)
    @app.exception_handler(ProjectionConflict)
    async def conflict(request: Request, exc: Exception) -> JSONResponse:
        return reply(request, 409, "concurrent_update", f"{exc}; retry the request")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(tuple(e["loc"])), "message": escape_text(e["msg"])} for e in exc.errors()]
        first = errors[0] if errors else {"field": "body", "message": "invalid request"}
        return reply(
            request, 422, "invalid_request", f"{first['field']}: {first['message']}", {"errors": errors}
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "http_error"
        )
        return reply(request, exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return reply(request, 500, "internal_error", "an unexpected error occurred; it was logged")
