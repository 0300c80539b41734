"""Service-level errors with stable codes; the API maps each class to one HTTP status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ServiceError(Exception):
    """Base: ``code`` is stable for clients, ``message`` says what was wrong, ``details`` helps."""

    status = 400

    def __init__(self, code: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = dict(details or {})


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    """The account may not do this now (buying power, short selling, a limit of its policy)."""

    status = 403


class Conflict(ServiceError):
    status = 409


class Invalid(ServiceError):
    status = 422


class Refused(ServiceError):
    """The request is well formed but the account's state or a kill switch refuses it."""

    status = 409


class Disabled(ServiceError):
    status = 403
