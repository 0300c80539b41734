"""The position-history read of services.orders.positions, and a reset archiving what it ends."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.accounting.kernel import ApplyFill
from propdesk.model.ids import AccountId
from propdesk.model.orders import Side
from propdesk.services.accounts.commands import execute, get_state, recompute
from propdesk.services.alpaca import paper_accounts
from propdesk.services.orders import positions
from propdesk.store.errors import AccountNotFound
from propdesk.store.pages import Page
from propdesk.store.tables import position_history
from propdesk.store.uow import UnitOfWork
from tests.api.conftest import Api, build_api
from tests.db import AAPL, BTC, T0, fill, started_account

D = Decimal


@pytest.fixture
def api(engine: Engine) -> Api:
    return build_api(engine)


def test_a_reset_archives_the_positions_it_ends(api: Api) -> None:
    engine = api.ctx.engine
    account_id, _ = started_account(engine)
    execute(engine, account_id, ApplyFill(at=T0, fill=fill(AAPL, Side.BUY, "3", "100", fee="1", fill_id="a")))
    execute(engine, account_id, ApplyFill(at=T0, fill=fill(BTC, Side.SELL, "0.5", "90000", fill_id="b")))
    reset_at = api.clock.advance(3600)
    paper_accounts.reset_account(api.ctx, account_id, actor="ops")

    archived = positions.position_history(api.ctx, account_id, Page())
    assert [(r.symbol, r.side, r.closed_at, r.closed_by) for r in archived] == [
        ("AAPL", "long", reset_at, "reset"),
        ("BTC/USD", "short", reset_at, "reset"),
    ]
    assert reset_at == T0 + timedelta(hours=1)
    aapl, btc = archived
    assert (aapl.opened_at, aapl.entry_qty, aapl.avg_entry_price, aapl.fees) == (T0, D(3), D(100), D(1))
    assert (aapl.exit_qty, aapl.avg_exit_price, aapl.realized_pnl) == (D(0), None, D(0))
    assert (btc.max_qty, btc.entry_value) == (D("0.5"), D(45000))
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.position_history.open_records(account_id) == []
    assert not get_state(engine, account_id).positions
    assert recompute(engine, account_id) == {}

    # The account trades on: a new position is a new record, the archived ones stay.
    execute(engine, account_id, ApplyFill(at=T0, fill=fill(AAPL, Side.BUY, "1", "101", fill_id="c")))
    assert positions.position_history(api.ctx, account_id, Page()) == archived
    assert positions.position_history(api.ctx, account_id, Page(limit=1, offset=1)) == [btc]


def test_an_unknown_account_has_no_history(api: Api) -> None:
    with pytest.raises(AccountNotFound):
        positions.position_history(api.ctx, AccountId("nope"), Page())


def test_a_reset_archives_a_position_held_since_before_the_history(api: Api) -> None:
    engine = api.ctx.engine
    account_id, _ = started_account(engine)
    execute(engine, account_id, ApplyFill(at=T0, fill=fill(AAPL, Side.BUY, "2", "150", fill_id="a")))
    with engine.begin() as conn:
        conn.execute(sa.delete(position_history))  # as a position opened before revision 0013
    reset_at = api.clock.advance(60)
    paper_accounts.reset_account(api.ctx, account_id, actor="ops")
    [record] = positions.position_history(api.ctx, account_id, Page())
    assert (record.symbol, record.opened_at, record.closed_at, record.closed_by) == (
        "AAPL",
        T0,
        reset_at,
        "reset",
    )
    assert (record.entry_qty, record.avg_entry_price) == (D(2), D(150))
