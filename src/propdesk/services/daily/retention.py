"""Retention: each user's closed trading history is kept as long as their tier says, then purged.

A user's tier (``users.retention_tier``) sets the horizon: ``free`` keeps 90 days, ``pro`` three
years, ``pro_plus`` everything (the default, so that no history disappears unless an operator
chose a shorter tier). For every account the user owns, the job deletes, older than the horizon:

* closed orders (filled, canceled, expired, rejected, replaced; by their last update) and their
  order updates, updates first; a closed parent of a still-open order stays;
* closed position-history records (by their closing time);
* daily account snapshots, compacted to the last snapshot of each month.

Fills rows are kept: recompute checks the recorded fills against the ledger's fill events, so
deleting them would show as drift. The ledger (``ledger_events``) is never touched: it is the
account's truth, and only erasing the user (``propdesk users erase``) removes it.

Each account is purged in its own transaction; a rerun at the same time deletes nothing more.
Accounts without an owner have no tier and are kept whole.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from propdesk.model.ids import AccountId
from propdesk.services.access.users import DEFAULT_RETENTION_TIER, RETENTION_TIERS
from propdesk.services.context import ServiceContext
from propdesk.services.transactions import open_tx
from propdesk.store import retention as store
from propdesk.store.uow import UnitOfWork

log = logging.getLogger(__name__)

NAME = "retention"
FREE, PRO, PRO_PLUS = RETENTION_TIERS
TIERS = RETENTION_TIERS
DEFAULT_TIER = DEFAULT_RETENTION_TIER


@dataclass(frozen=True)
class RetentionRun:
    """What one run purged: accounts looked at, and rows deleted per table."""

    accounts: int = 0
    purged: int = 0  # accounts where something was deleted
    orders: int = 0
    order_updates: int = 0
    position_history: int = 0
    account_snapshots: int = 0
    failed: list[str] = field(default_factory=list)


def cutoff_for(tier: str, now: datetime) -> datetime | None:
    """The time before which a ``tier`` user's closed history is purged; None keeps everything."""
    if tier == FREE:
        return now - timedelta(days=90)
    if tier == PRO:
        return _months_before(now, 36)
    if tier == PRO_PLUS:
        return None
    raise ValueError(f"unknown retention tier {tier!r}; known: {', '.join(TIERS)}")


def _months_before(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def purge_account_in(uow: UnitOfWork, account_id: AccountId, cutoff: datetime) -> dict[str, int]:
    """Purge one account's closed history older than ``cutoff`` inside the caller's transaction."""
    conn = uow.connection
    orders, updates = store.purge_closed_orders(conn, account_id, cutoff)
    return {
        "orders": orders,
        "order_updates": updates,
        "position_history": store.purge_closed_positions(conn, account_id, cutoff),
        "account_snapshots": store.compact_snapshots(conn, account_id, cutoff.date()),
    }


def run_retention(ctx: ServiceContext, trading_date: date) -> RetentionRun:
    """Purge every owned account by its owner's tier, one transaction per account."""
    now = ctx.clock()
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        tiers = uow.users.by_retention_tier()
        owned = store.owned_accounts(uow.connection)
    totals = {"orders": 0, "order_updates": 0, "position_history": 0, "account_snapshots": 0}
    purged = 0
    failed: list[str] = []
    for account_id, owner in sorted(owned.items()):
        cutoff = cutoff_for(tiers.get(owner, DEFAULT_TIER), now)
        if cutoff is None:
            continue
        try:
            with open_tx(ctx.engine) as uow:
                uow.lock_account(AccountId(account_id))
                counts = purge_account_in(uow, AccountId(account_id), cutoff)
        except Exception:
            log.exception("retention failed for account %s on %s", account_id, trading_date)
            failed.append(account_id)
            continue
        purged += any(counts.values())
        for name, count in counts.items():
            totals[name] += count
    return RetentionRun(accounts=len(owned), purged=purged, failed=failed, **totals)
