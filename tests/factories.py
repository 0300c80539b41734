"""Builders shared by the tests: fills and started accounts with the seed defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from propdesk.accounting.kernel import Start, handle
from propdesk.accounting.state import AccountState
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId
from propdesk.model.instruments import Instrument
from propdesk.model.orders import Side

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
_fill_ids = itertools.count(1)


def at(minutes: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


def make_fill(
    instrument: Instrument,
    side: Side,
    quantity: str | Decimal,
    fill_price: str | Decimal,
    *,
    fee: str | Decimal = "0",
    when: datetime = T0,
) -> Fill:
    return Fill(
        fill_id=f"f-{next(_fill_ids)}",
        order_id=None,
        instrument=instrument.spec,
        side=side,
        qty=Decimal(quantity),
        price=Decimal(fill_price),
        fee=Decimal(fee),
        time=when,
    )


def started_account(
    cash: str | Decimal = "100000", *, leverage: str | Decimal = "5", account_id: str = "acct-1"
) -> AccountState:
    start = Start(at=T0, starting_cash=Decimal(cash), currency="USD", leverage=Decimal(leverage))
    return handle(AccountState(account_id=AccountId(account_id)), start).state
