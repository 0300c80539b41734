"""Day boundaries: roll every tracked rule state over its pack's day boundary (DST-correct).

Each account is rolled in its own transaction under its lock; a failure on one account is logged
and the job goes on. Rolling is idempotent: within a trading day it changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from propdesk.jobs.worker import Job
from propdesk.services.accounts import rules
from propdesk.services.context import ServiceContext

log = logging.getLogger(__name__)
NAME = "day boundaries"


@dataclass(frozen=True)
class BoundaryResult:
    accounts: int
    rolled: int
    failed: list[str]


def advance_all(ctx: ServiceContext) -> BoundaryResult:
    """Advance every tracked account's rule state to now."""
    account_ids = rules.tracked_accounts(ctx)
    rolled = 0
    failed: list[str] = []
    for account_id in account_ids:
        try:
            rolled += rules.advance_account(ctx, account_id)
        except Exception:
            failed.append(account_id)
            log.exception("day boundary failed for account %s", account_id)
    return BoundaryResult(len(account_ids), rolled, failed)


def describe(result: BoundaryResult) -> str:
    """One line of what a pass did (``propdesk boundaries`` prints it)."""
    return f"{result.accounts} account(s) tracked: {result.rolled} rolled, {len(result.failed)} failed"


def idle(result: BoundaryResult) -> bool:
    """Nothing rolled and nothing failed (the usual pass within a trading day)."""
    return not (result.rolled or result.failed)


def job(ctx: ServiceContext) -> Job[BoundaryResult]:
    """The day-boundary pass as a worker job (see :mod:`propdesk.jobs.worker`)."""
    return Job(NAME, lambda: advance_all(ctx), describe, idle)
