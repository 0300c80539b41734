"""The refusal every order-book entry point raises: nothing changed, a stable code says why."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from propdesk.execution.policy.results import CheckResult


class OrderRejected(Exception):
    """An order (or a cancel or replace) that may not happen; nothing changed.

    ``code`` is stable; ``kind`` says how an API should answer: ``invalid`` (422: the request is
    wrong), ``forbidden`` (403: the account may not, e.g. buying power), ``not_found`` (404),
    ``conflict`` (422 on Alpaca's surface: e.g. the order is no longer open).
    """

    def __init__(self, code: str, message: str, kind: str = "invalid", **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind = kind
        self.details = details
        # The failed check when a policy check refused (see propdesk.execution.policy.order_checks).
        self.check: CheckResult | None = None
