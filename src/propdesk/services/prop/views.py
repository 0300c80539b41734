"""Read models: account snapshot, decision context for an AI, paged lists.

Reads run in a read-only unit of work (one consistent snapshot, no lock), so dashboards and
agents never hold up trading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from propdesk.accounting.state import AccountState
from propdesk.model.ids import AccountId
from propdesk.model.market import Quote
from propdesk.model.orders import Order
from propdesk.model.policy import ExecutionPolicy
from propdesk.risk.rules.status import RuleStatus
from propdesk.services.access import ownership
from propdesk.services.access.tokens import Principal
from propdesk.services.accounts import rules
from propdesk.services.accounts.commands import policy_of
from propdesk.services.context import ServiceContext
from propdesk.services.prop.marking import HEARTBEAT
from propdesk.store.accounts import AccountRow
from propdesk.store.audit import AuditRecord
from propdesk.store.fills import FillRecord
from propdesk.store.heartbeats import Heartbeat
from propdesk.store.ledger import LedgerRow
from propdesk.store.pages import Page
from propdesk.store.uow import UnitOfWork


@dataclass(frozen=True)
class Snapshot:
    account: AccountRow
    state: AccountState
    policy: ExecutionPolicy
    heartbeat: Heartbeat | None
    as_of: datetime

    @property
    def heartbeat_age_seconds(self) -> Decimal | None:
        if self.heartbeat is None:
            return None
        return Decimal((self.as_of - self.heartbeat.beat_at).total_seconds()).quantize(Decimal("0.001"))


@dataclass(frozen=True)
class Headroom:
    """How much more each gate allows right now (never negative)."""

    order_notional: Decimal
    gross_exposure: Decimal
    positions: int
    orders: int
    buying_power: Decimal


@dataclass(frozen=True)
class DecisionContext:
    snapshot: Snapshot
    headroom: Headroom
    recent_fills: list[FillRecord]
    quotes: dict[str, Quote | None]
    open_orders: int
    rules: RuleStatus | None = None


def snapshot(ctx: ServiceContext, account_id: AccountId) -> Snapshot:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return _snapshot(ctx, uow, account_id)


def _snapshot(ctx: ServiceContext, uow: UnitOfWork, account_id: AccountId) -> Snapshot:
    account = uow.accounts.get(account_id)
    return Snapshot(
        account=account,
        state=uow.accounts.load_state(account_id),
        policy=policy_of(account),
        heartbeat=uow.heartbeats.find(HEARTBEAT),
        as_of=ctx.clock(),
    )


def decision_context(
    ctx: ServiceContext, account_id: AccountId, symbols: list[str], *, recent: int = 20
) -> DecisionContext:
    """Everything an agent needs to propose sensible actions, in one read."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        snap = _snapshot(ctx, uow, account_id)
        open_orders = uow.orders.count_open(account_id)
        fills = uow.fills.recent(account_id, recent)
        wanted = sorted({*snap.state.positions, *(s.upper() for s in symbols)})
        found = uow.prices.latest_quotes(wanted, at_or_before=snap.as_of) if wanted else {}
        quotes = {s: found.get(s) for s in wanted}
        rule_status = rules.status_in(ctx, uow, snap.account, snap.state)
    state, policy = snap.state, snap.policy
    zero = Decimal(0)
    headroom = Headroom(
        order_notional=policy.max_order_notional,
        gross_exposure=max(zero, state.equity * policy.max_leverage - state.gross_exposure),
        positions=max(0, policy.max_open_positions - len(state.positions)),
        orders=max(0, policy.max_open_orders - open_orders),
        buying_power=state.buying_power,
    )
    return DecisionContext(snap, headroom, fills, quotes, open_orders, rule_status)


def ledger(ctx: ServiceContext, account_id: AccountId, page: Page) -> list[LedgerRow]:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        uow.accounts.get(account_id)
        return uow.accounts.ledger_page(account_id, limit=page.limit, offset=page.offset)


def orders(ctx: ServiceContext, account_id: AccountId, page: Page) -> list[Order]:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        uow.accounts.get(account_id)
        return uow.orders.page(account_id, limit=page.limit, offset=page.offset)


def fills(ctx: ServiceContext, account_id: AccountId, page: Page) -> list[FillRecord]:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        uow.accounts.get(account_id)
        return uow.fills.page(account_id, page)


def audit_log(ctx: ServiceContext, account_id: AccountId, page: Page) -> list[AuditRecord]:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        uow.accounts.get(account_id)
        return uow.audit.page(account_id, page)


def clone_accounts(
    ctx: ServiceContext, clone_id: str, principal: Principal | None = None
) -> list[AccountRow]:
    """The clone's accounts that ``principal`` may use (all of them for an admin or no principal)."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        rows = uow.accounts.by_clone(clone_id)
        allowed = set(ownership.visible(uow, principal, [AccountId(r.id) for r in rows]))
    return [r for r in rows if r.id in allowed]


def account(ctx: ServiceContext, account_id: AccountId) -> AccountRow:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return uow.accounts.get(account_id)


def heartbeat(ctx: ServiceContext) -> dict[str, Any]:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        beat = uow.heartbeats.find(HEARTBEAT)
    now = ctx.clock()
    if beat is None:
        return {"name": HEARTBEAT, "beatAt": None, "ageSeconds": None, "details": {}}
    return {
        "name": HEARTBEAT,
        "beatAt": beat.beat_at.isoformat(),
        "ageSeconds": str(Decimal((now - beat.beat_at).total_seconds()).quantize(Decimal("0.001"))),
        "details": dict(beat.details),
    }
