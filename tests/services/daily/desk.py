"""A desk for expiry tests: one started paper account, a hand-set clock in the 2026-01-07 session,
and helpers to hold positions (fills through the kernel) and store prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.engine import Engine

from propdesk.accounting.kernel import ApplyFill, handle
from propdesk.accounting.state import AccountState
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId, uuid_ids
from propdesk.model.instruments import AssetClass, parse_instrument
from propdesk.model.market import Bar, Quote
from propdesk.model.orders import Side
from propdesk.services.accounts import commands as accounts
from propdesk.services.accounts import lifecycle
from propdesk.services.context import ServiceContext
from propdesk.services.daily import expiry
from propdesk.services.transactions import account_tx
from propdesk.settings import Settings
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import SetClock

DAY = date(2026, 1, 7)  # a Wednesday
IN_SESSION = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)  # 10:00 New York
AFTER = datetime(2026, 1, 7, 21, 20, tzinfo=UTC)  # 16:20 New York
CALL = "AAPL260107C00150000"
PUT = "AAPL260107P00150000"
START = Decimal(100_000)


@dataclass
class Desk:
    ctx: ServiceContext
    clock: SetClock
    account_id: AccountId

    def hold(self, symbol: str, qty: str, price: str, account_id: AccountId | None = None) -> None:
        """A position of ``qty`` (signed) bought or sold at ``price``, as a fill leaves it."""
        asset_class = AssetClass.US_OPTION if len(symbol) > 10 else AssetClass.US_EQUITY
        size = Decimal(qty)
        fill = Fill(
            fill_id=self.ctx.ids(),
            order_id=None,
            instrument=parse_instrument(symbol, asset_class).spec,
            side=Side.BUY if size > 0 else Side.SELL,
            qty=abs(size),
            price=Decimal(price),
            fee=Decimal(0),
            time=self.clock(),
        )
        with account_tx(self.ctx.engine, account_id or self.account_id) as tx:
            step = handle(tx.state, ApplyFill(at=self.clock(), fill=fill))
            tx.save(step.state, step.events, recorded_at=self.clock())

    def daily_bar(self, symbol: str, day: date, open_: str, close: str) -> None:
        start = datetime(day.year, day.month, day.day, 5, 0, tzinfo=UTC)  # midnight in New York
        low, high = sorted((Decimal(open_), Decimal(close)))
        with UnitOfWork(self.ctx.engine) as uow:
            uow.prices.insert_bars([Bar(symbol, "1Day", start, Decimal(open_), high, low, Decimal(close))])
            uow.commit()

    def quote(self, symbol: str, at: datetime, bid: str, ask: str, last: str | None = None) -> None:
        with UnitOfWork(self.ctx.engine) as uow:
            uow.prices.write_quote(
                Quote(symbol, at, Decimal(bid), Decimal(ask), None if last is None else Decimal(last)),
                source="test",
            )
            uow.commit()

    def open_account(self) -> AccountId:
        row = lifecycle.create_account(self.ctx, lifecycle.NewAccount(preset="paper"))
        lifecycle.start(self.ctx, AccountId(row.id))
        return AccountId(row.id)

    def state(self, account_id: AccountId | None = None) -> AccountState:
        return accounts.get_state(self.ctx.engine, account_id or self.account_id)

    def run(self, day: date = DAY, at: datetime = AFTER) -> expiry.ExpiryReport:
        self.clock.current = at
        return expiry.run_expiry(self.ctx, day)

    def settled_payloads(self) -> list[dict[str, object]]:
        with UnitOfWork(self.ctx.engine, read_only=True) as uow:
            rows = uow.accounts.ledger_of_types(self.account_id, ["option_settled"])
        return [dict(r.payload) for r in rows]


def make_desk(engine: Engine) -> Desk:
    clock = SetClock(IN_SESSION)
    ctx = ServiceContext(engine=engine, settings=Settings(), clock=clock, ids=uuid_ids)
    row = lifecycle.create_account(ctx, lifecycle.NewAccount(preset="paper"))
    account_id = AccountId(row.id)
    lifecycle.start(ctx, account_id)
    return Desk(ctx, clock, account_id)
