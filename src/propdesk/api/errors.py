"""Every error is JSON ``{code, message, details}`` with a 4xx status; a bug is a 500 with no internals."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from propdesk.accounting.kernel import CommandRejected
from propdesk.services.errors import ServiceError
from propdesk.store.errors import AccountNotFound, ProjectionConflict, StaleStateError, UserNotFound

log = logging.getLogger(__name__)


def body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(CommandRejected)
    async def rejected(_: Request, exc: CommandRejected) -> JSONResponse:
        return JSONResponse(body(exc.code, exc.message), status_code=409)

    @app.exception_handler(AccountNotFound)
    async def no_account(_: Request, exc: AccountNotFound) -> JSONResponse:
        return JSONResponse(body("account_not_found", str(exc)), status_code=404)

    @app.exception_handler(UserNotFound)
    async def no_user(_: Request, exc: UserNotFound) -> JSONResponse:
        return JSONResponse(body("user_not_found", str(exc)), status_code=404)

    @app.exception_handler(StaleStateError)
    @app.exception_handler(ProjectionConflict)
    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(body("concurrent_update", f"{exc}; retry the request"), status_code=409)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
        first = errors[0] if errors else {"field": "body", "message": "invalid request"}
        return JSONResponse(
            body("invalid_request", f"{first['field']}: {first['message']}", {"errors": errors}),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            body("internal_error", "an unexpected error occurred; it was logged"), status_code=500
        )
