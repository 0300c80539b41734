"""End-of-day snapshots: each account as it stood after the close of a trading day.

A snapshot is the account folded from its ledger up to the session's close (the projection
itself when nothing was recorded after the close), repriced with each position's latest stored
quote at or before the close, without writing a mark to the ledger. It records equity, cash,
realized and unrealized PnL, the positions, and a summary of the rule state (for an account with
a rule pack). Because it is computed as of the close, running the job later (a missed day caught
up) records the same figures as running it on time.

Each account is snapshotted in its own transaction under the account lock; the row is keyed
(account_id, trading_date) and inserted with ``ON CONFLICT DO NOTHING``, so a rerun, a job killed
halfway and rerun, or a second worker repeating an account all leave one row per account per day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from propdesk.accounting.kernel import CommandRejected, MarkToPrices, handle, replay
from propdesk.accounting.state import AccountState
from propdesk.marketdata.calendars import get_calendar
from propdesk.model.ids import AccountId
from propdesk.services.accounts import rules
from propdesk.services.context import ServiceContext
from propdesk.services.transactions import open_tx
from propdesk.store.snapshots import AccountSnapshot, SnapshotRepository
from propdesk.store.uow import UnitOfWork

log = logging.getLogger(__name__)

NAME = "eod-snapshot"


@dataclass(frozen=True)
class SnapshotRun:
    """What one run of the snapshot job did for a trading date."""

    trading_date: date
    accounts: int
    written: int
    existing: int  # had a snapshot already (or did not exist yet on that day)
    failed: list[str] = field(default_factory=list)


def close_of(trading_date: date) -> datetime:
    """The NYSE close of ``trading_date`` (13:00 ET on early closes); end of day UTC on a non-session."""
    close = get_calendar().session_close(trading_date)
    if close is None:
        raise ValueError(f"{trading_date} is not a trading day")
    return close


def _state_at_close(uow: UnitOfWork, account_id: AccountId, close: datetime) -> AccountState:
    state = uow.accounts.load_state(account_id)
    if state.updated_at is None or state.updated_at <= close:
        return state
    return replay(account_id, [row.to_event() for row in uow.accounts.ledger_through(account_id, close)])


def _positions_json(state: AccountState) -> dict[str, Any]:
    return {
        symbol: {
            "qty": str(p.qty),
            "avgPrice": str(p.avg_price),
            "mark": str(p.mark),
            "marketValue": str(p.market_value),
            "unrealizedPnl": str(p.unrealized_pnl),
            "assetClass": p.instrument.asset_class.value,
        }
        for symbol, p in sorted(state.positions.items())
    }


def _rules_json(ctx: ServiceContext, uow: UnitOfWork, account_id: AccountId, state: AccountState) -> Any:
    account = uow.accounts.get(account_id)
    status = rules.status_in(ctx, uow, account, state)
    if status is None:
        return None
    return {
        "pack": status.pack_key,
        "tradingDay": status.trading_day.isoformat(),
        "outcome": str(status.outcome.value),
        "outcomeRule": status.outcome_rule,
        "dayLocked": status.day_locked,
        "canTrade": status.can_trade,
        "requiredAction": str(status.required_action.value),
        "breachLevel": str(status.breach_level.value),
        "profit": str(status.profit),
        "todayPnl": str(status.today_pnl),
        "highWatermark": str(status.high_watermark),
        "bindingFloor": None if status.binding_floor is None else str(status.binding_floor.value),
    }


def snapshot_in(ctx: ServiceContext, uow: UnitOfWork, account_id: AccountId, trading_date: date) -> bool:
    """Write the account's snapshot for ``trading_date`` inside the open, writing ``uow`` (the
    account is locked first); True if a row was written, False if the day had one already or the
    account was created after that day's close."""
    repo = SnapshotRepository(uow.connection)
    account = uow.lock_account(account_id)
    if repo.find(account_id, trading_date) is not None:
        return False
    close = close_of(trading_date)
    if account.created_at > close:
        return False  # the account did not exist on that day (a past day caught up)
    state = _state_at_close(uow, account_id, close)
    if state.status.is_open and state.positions:
        found = uow.prices.latest_quotes(sorted(state.positions), at_or_before=close)
        prices = {s: q.mark for s, q in found.items()}
        try:
            state = handle(state, MarkToPrices(at=close, prices=prices)).state
        except CommandRejected as exc:  # a stored negative price: keep the last marks
            log.warning(
                "snapshot of %s on %s kept the stored marks: %s", account_id, trading_date, exc.message
            )
    snapshot = AccountSnapshot(
        account_id=account_id,
        trading_date=trading_date,
        as_of=close,
        status=state.status.value,
        equity=state.equity,
        cash=state.cash,
        realized_pnl=state.realized_pnl,
        unrealized_pnl=state.unrealized_pnl,
        positions=_positions_json(state),
        rules=_rules_json(ctx, uow, account_id, state),
        created_at=ctx.clock(),
    )
    return repo.add(snapshot)


def snapshot_account(ctx: ServiceContext, account_id: AccountId, trading_date: date) -> bool:
    """Snapshot one account for ``trading_date`` in one transaction; False if it had one already."""
    with open_tx(ctx.engine) as uow:
        return snapshot_in(ctx, uow, account_id, trading_date)


def accounts_due(ctx: ServiceContext) -> list[AccountId]:
    """The accounts a day's snapshot covers: started and not ended."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return [AccountId(i) for i in SnapshotRepository(uow.connection).accounts_due()]


def snapshot_all(
    ctx: ServiceContext, trading_date: date, *, account_ids: list[AccountId] | None = None
) -> SnapshotRun:
    """Snapshot every due account (or ``account_ids``) for ``trading_date``, one transaction each;
    one account's failure is logged and counted and the run goes on."""
    close_of(trading_date)  # refuse a non-trading day before touching anything
    ids = accounts_due(ctx) if account_ids is None else account_ids
    written = existing = 0
    failed: list[str] = []
    for account_id in ids:
        try:
            if snapshot_account(ctx, account_id, trading_date):
                written += 1
            else:
                existing += 1
        except Exception:
            failed.append(account_id)
            log.exception("eod snapshot failed for account %s on %s", account_id, trading_date)
    return SnapshotRun(trading_date, len(ids), written, existing, failed)


def snapshots(ctx: ServiceContext, account_id: AccountId, start: date, end: date) -> list[AccountSnapshot]:
    """The account's snapshots from ``start`` to ``end`` (inclusive), oldest first."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return SnapshotRepository(uow.connection).between(account_id, start, end)
