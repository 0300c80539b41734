"""Position history: a record per position's life, closed by the fill that flattens it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.accounting.kernel import ApplyFill, VoidFill
from propdesk.model.orders import Side
from propdesk.services.accounts.commands import execute, get_state
from propdesk.store.pages import Page
from propdesk.store.position_history import PositionRecord
from propdesk.store.tables import position_history, positions
from propdesk.store.uow import UnitOfWork
from tests.db import AAPL, MES, T0, fill, started_account

D = Decimal
T = [T0 + timedelta(minutes=m) for m in range(10)]


def closed(engine: Engine, account_id: str, page: Page | None = None) -> list[PositionRecord]:
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.position_history.page(account_id, page or Page())


def still_open(engine: Engine, account_id: str) -> list[PositionRecord]:
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.position_history.open_records(account_id)


def trade(engine: Engine, account_id: str, side: Side, qty: str, price: str, fee: str, n: int) -> None:
    when = T[n]
    execute(
        engine,
        account_id,
        ApplyFill(at=when, fill=fill(AAPL, side, qty, price, fee=fee, fill_id=f"f{n}", when=when)),
    )


def test_open_add_partial_close_close_leaves_one_exact_record(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    trade(engine, account_id, Side.BUY, "10", "100", "1", 0)
    trade(engine, account_id, Side.BUY, "5", "106", "0.5", 1)
    assert closed(engine, account_id) == []
    [held] = still_open(engine, account_id)
    assert (held.opened_at, held.closed_at, held.entry_qty, held.max_qty) == (T[0], None, D(15), D(15))
    trade(engine, account_id, Side.SELL, "6", "110", "0.6", 2)
    assert closed(engine, account_id) == []
    trade(engine, account_id, Side.SELL, "9", "95", "0.9", 3)

    [record] = closed(engine, account_id)
    assert record.account_id == account_id
    assert (record.symbol, record.side, record.opened_at, record.closed_at) == ("AAPL", "long", T[0], T[3])
    assert record.closed_by == "fill"
    assert (record.max_qty, record.entry_qty, record.exit_qty) == (D(15), D(15), D(15))
    assert (record.entry_value, record.exit_value) == (D(1530), D(1515))
    assert (record.avg_entry_price, record.avg_exit_price) == (D(102), D(101))
    # 6 × 110 − 1530 × 6/15 = 48, then 9 × 95 − 918 = −63.
    assert record.realized_pnl == D(-15) == get_state(engine, account_id).realized_pnl
    assert record.fees == D("3.0")
    assert still_open(engine, account_id) == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(positions)).all() == []


def test_reopening_starts_a_new_open_record(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    trade(engine, account_id, Side.BUY, "2", "100", "0", 0)
    trade(engine, account_id, Side.SELL, "2", "101", "0", 1)
    trade(engine, account_id, Side.BUY, "3", "102", "0", 2)
    [first] = closed(engine, account_id)
    assert (first.opened_at, first.closed_at, first.realized_pnl) == (T[0], T[1], D(2))
    [again] = still_open(engine, account_id)
    assert again.id != first.id
    assert (again.opened_at, again.entry_qty, again.avg_entry_price) == (T[2], D(3), D(102))
    trade(engine, account_id, Side.SELL, "3", "100", "0", 3)
    assert [(r.opened_at, r.closed_at, r.realized_pnl) for r in closed(engine, account_id)] == [
        (T[0], T[1], D(2)),
        (T[2], T[3], D(-6)),
    ]
    assert [r.closed_at for r in closed(engine, account_id, Page(limit=1, offset=1))] == [T[3]]


def test_a_flip_closes_the_short_and_opens_a_long_with_the_rest(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    sell = fill(MES, Side.SELL, "3", "5000", fee="1.5", fill_id="s", when=T[0])
    buy = fill(MES, Side.BUY, "5", "4990", fee="2.5", fill_id="b", when=T[1])
    execute(engine, account_id, ApplyFill(at=T[0], fill=sell))
    execute(engine, account_id, ApplyFill(at=T[1], fill=buy))
    [short] = closed(engine, account_id)
    assert (short.side, short.max_qty, short.opened_at, short.closed_at) == ("short", D(3), T[0], T[1])
    assert (short.avg_entry_price, short.avg_exit_price) == (D(5000), D(4990))
    assert short.realized_pnl == D(150)  # 3 × 10 points × 5
    assert short.fees == D(4)  # the flipping fill's fee goes to the position it closed
    [long] = still_open(engine, account_id)
    assert (long.side, long.entry_qty, long.entry_value, long.opened_at) == ("long", D(2), D(49900), T[1])
    assert get_state(engine, account_id).positions["MES"].opened_at == T[1]


def test_a_position_from_before_the_history_gets_its_record_from_its_row(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    trade(engine, account_id, Side.BUY, "4", "100", "0", 0)
    with engine.begin() as conn:
        conn.execute(sa.delete(position_history))  # as a position opened before revision 0013
    trade(engine, account_id, Side.SELL, "4", "103", "0", 1)
    [record] = closed(engine, account_id)
    assert (record.opened_at, record.closed_at, record.entry_qty, record.avg_entry_price) == (
        T[0],
        T[1],
        D(4),
        D(100),
    )
    assert record.realized_pnl == D(12)


def test_open_positions_read_as_before(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    trade(engine, account_id, Side.BUY, "4", "100", "0", 0)
    trade(engine, account_id, Side.SELL, "1", "103", "0", 1)
    state = get_state(engine, account_id)
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.accounts.load_state(account_id) == state
    assert state.positions["AAPL"].qty == D(3)
    assert state.positions["AAPL"].cost == D(300)


def test_a_void_rewrites_the_open_record_from_the_corrected_position(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    first = fill(AAPL, Side.BUY, "2", "100", fill_id="f0", when=T[0])
    second = fill(AAPL, Side.BUY, "3", "110", fill_id="f1", when=T[1])
    execute(engine, account_id, ApplyFill(at=T[0], fill=first))
    execute(engine, account_id, ApplyFill(at=T[1], fill=second))
    execute(engine, account_id, VoidFill(at=T[2], fill_id="f1", history=[first, second], reason="bust"))
    [record] = still_open(engine, account_id)
    assert (record.opened_at, record.entry_qty, record.entry_value, record.max_qty) == (
        T[0],
        D(2),
        D(200),
        D(2),
    )
    execute(engine, account_id, VoidFill(at=T[3], fill_id="f0", history=[first], reason="bust"))
    assert still_open(engine, account_id) == []
    assert closed(engine, account_id) == []
