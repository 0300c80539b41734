"""Option expiry job: after the close of an expiry date, settle every option position expiring
that day (exercise, assignment or expiry at 0; see :mod:`propdesk.services.daily.expiry`).

Idempotent per trading date: a second run finds nothing left to settle, and a run that stopped
part-way resumes with the accounts not yet settled. ``propdesk expiry --date YYYY-MM-DD`` runs it
once; :func:`expiry_job` is the entry a scheduler registers.
"""

from __future__ import annotations

import logging
from datetime import date

from propdesk.services.context import ServiceContext
from propdesk.services.daily.expiry import ExpiryReport, run_expiry

NAME = "expiry"

log = logging.getLogger(__name__)


def expiry_job(ctx: ServiceContext, trading_date: date) -> ExpiryReport:
    """Settle the options expiring on ``trading_date``; logs and returns what it did."""
    report = run_expiry(ctx, trading_date)
    log.info("%s", describe(report))
    return report


def describe(report: ExpiryReport) -> str:
    """One line of what a run did (``propdesk expiry`` prints it)."""
    return report.summary()
