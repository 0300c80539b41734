"""Mark-to-market job: reprice every open account holding positions, persist marks by the ledger
cadence and auto-liquidate breaches.

The sweep itself is :func:`propdesk.services.prop.marking.mark_all` (also behind the admin
``POST /api/v1/prop/mark`` route, which sweeps only the caller's accounts); this module makes it a
worker job. Each account is marked in its own transaction; one account's failure is logged, recorded
as an incident and counted, and the sweep goes on. The ``mark_to_market`` heartbeat tells operators
the worker runs.
"""

from __future__ import annotations

from propdesk.jobs.worker import Job
from propdesk.services.context import ServiceContext
from propdesk.services.prop.marking import SweepResult, mark_all

NAME = "mark-to-market"


def mark_open_accounts(ctx: ServiceContext) -> SweepResult:
    """One sweep over every open account holding positions (the system sweep: beats the heartbeat)."""
    return mark_all(ctx)


def describe(result: SweepResult) -> str:
    """One line of what a sweep did (``propdesk mtm`` prints it)."""
    return (
        f"marked {result.accounts} account(s): {result.persisted} mark row(s), "
        f"{result.liquidated} liquidated, {len(result.failed)} failed"
    )


def idle(result: SweepResult) -> bool:
    """No account to mark."""
    return result.accounts == 0


def job(ctx: ServiceContext) -> Job[SweepResult]:
    """The mark-to-market sweep as a worker job (see :mod:`propdesk.jobs.worker`)."""
    return Job(NAME, lambda: mark_open_accounts(ctx), describe, idle)
