"""The corporate-actions job: apply the dividends, splits and name changes of a trading date.

Scheduled before the session opens on each trading day (the scheduler calls
:func:`corporate_actions_job`); running it again for the same date changes nothing.
"""

from __future__ import annotations

from datetime import date

from propdesk.services.context import ServiceContext
from propdesk.services.daily.corporate_actions import Applied, run_corporate_actions


def corporate_actions_job(ctx: ServiceContext, trading_date: date) -> list[Applied]:
    """Apply the corporate actions whose ex-date is ``trading_date`` to every account they touch."""
    return run_corporate_actions(ctx, trading_date)
