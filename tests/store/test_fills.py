"""Fills written by save and read back with the quote they used."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.accounting.kernel import ApplyFill
from propdesk.model.orders import Side
from propdesk.services.accounts.commands import execute
from propdesk.store.tables import fills
from tests.db import BTC, T0, fill, started_account


def test_fills_are_recorded_with_the_quote_they_used(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    audited = fill(BTC, Side.BUY, "0.5", "97000.5", fee="4.85", fill_id="f-btc", order_id="ord-9")
    execute(engine, account_id, ApplyFill(at=T0, fill=audited))
    with engine.connect() as conn:
        row = conn.execute(sa.select(fills)).mappings().one()
    assert row["id"] == "f-btc"
    assert row["order_id"] == "ord-9"
    assert row["account_id"] == account_id
    assert (row["bid"], row["ask"], row["mark"]) == (audited.bid, audited.ask, audited.mark)
    assert row["slippage"] == Decimal("0.01")
    assert row["side"] == "buy"
    assert row["time"] == T0
