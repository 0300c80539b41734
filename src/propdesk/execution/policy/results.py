"""One check's verdict (:class:`CheckResult`) and a door's list of them (:class:`CheckReport`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from propdesk.execution.policy.codes import CheckCode, CheckValue

if TYPE_CHECKING:
    from propdesk.execution.actions import ResolvedOrder
    from propdesk.execution.fill_models import PricedFill


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict with what it measured (``value``) and what it compared against.

    A check that does not apply (or cannot measure because an input is missing) passes with
    ``applicable=False`` and says why in ``message``.
    """

    code: CheckCode
    passed: bool
    value: CheckValue
    limit: CheckValue
    message: str
    applicable: bool = True

    def as_json(self) -> dict[str, Any]:
        """The wire shape (a decision action's ``gateResults`` item); decimals as strings."""

        def show(value: CheckValue) -> object:
            return str(value) if isinstance(value, Decimal) else value

        return {
            "gate": self.code.value,
            "passed": self.passed,
            "applicable": self.applicable,
            "value": show(self.value),
            "limit": show(self.limit),
            "message": self.message,
        }


def failed_checks(results: Iterable[CheckResult]) -> list[CheckResult]:
    """Only the checks that failed, in report order."""
    return [r for r in results if not r.passed]


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every check's result, in report order.

    For a decision action, ``order``, ``fill`` (the estimated execution) and ``fee`` are set when
    every check passed, so the caller executes exactly what the checks approved. ``adds_exposure``
    says whether the trade checked adds exposure (None where the door does not say).
    """

    results: tuple[CheckResult, ...]
    order: ResolvedOrder | None = None
    fill: PricedFill | None = None
    fee: Decimal | None = None
    adds_exposure: bool | None = None

    @property
    def failures(self) -> list[CheckResult]:
        return failed_checks(self.results)

    @property
    def passed(self) -> bool:
        return not self.failures

    def result(self, code: CheckCode) -> CheckResult:
        """The result of ``code`` (KeyError when this report has none)."""
        for r in self.results:
            if r.code is code:
                return r
        raise KeyError(code)
