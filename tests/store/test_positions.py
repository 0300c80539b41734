"""The positions projection: exact signed rows, closed ones removed, unknown events handled."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from types import MappingProxyType
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.accounting.events import EventBase
from propdesk.accounting.kernel import ApplyFill
from propdesk.model.orders import Side
from propdesk.services.accounts.commands import execute, get_state
from propdesk.store.tables import positions
from propdesk.store.uow import UnitOfWork
from tests.db import AAPL, BTC, MES, T0, fill, started_account


def test_a_short_future_stores_negative_quantity_and_cost(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    execute(
        engine,
        account_id,
        ApplyFill(at=T0, fill=fill(MES, Side.SELL, "3", "5000.25", fill_id="f-short", when=T0)),
    )
    with engine.connect() as conn:
        row = conn.execute(sa.select(positions).where(positions.c.symbol == "MES")).mappings().one()
    assert row["qty"] == Decimal(-3)
    assert row["cost"] == Decimal("-75003.75")
    assert row["multiplier"] == Decimal(5)
    assert row["asset_class"] == "future"


def test_closed_position_row_is_deleted(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    execute(engine, account_id, ApplyFill(at=T0, fill=fill(AAPL, Side.BUY, "2", "100", fill_id="f1")))
    execute(engine, account_id, ApplyFill(at=T0, fill=fill(AAPL, Side.SELL, "2", "101", fill_id="f2")))
    with engine.connect() as conn:
        assert conn.execute(sa.select(positions)).all() == []
    assert get_state(engine, account_id).realized_pnl == Decimal(2)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _PositionsRebuilt(EventBase):
    """An event type the store has never heard of (stands in for a future kernel addition).

    Outside the closed :data:`~propdesk.accounting.events.Event` union, so mypy is told to let it
    through below: the store's fallback is for a ledger written by newer code than it runs."""

    type: ClassVar[str] = "positions_rebuilt_for_test"


def test_an_unknown_event_type_makes_save_rewrite_every_position(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    execute(engine, account_id, ApplyFill(at=T0, fill=fill(AAPL, Side.BUY, "2", "100", fill_id="f1")))
    execute(engine, account_id, ApplyFill(at=T0, fill=fill(BTC, Side.BUY, "1", "90000", fill_id="f2")))
    with UnitOfWork(engine) as uow:
        uow.lock_account(account_id)
        state = uow.accounts.load_state(account_id)
        aapl = state.positions["AAPL"]
        # Whatever the unknown event did: AAPL doubled and BTC vanished.
        changed = dataclasses.replace(
            state,
            positions=MappingProxyType({"AAPL": dataclasses.replace(aapl, qty=aapl.qty * 2)}),
            seq=state.seq + 1,
        )
        uow.accounts.save(account_id, changed, [_PositionsRebuilt(at=T0)])  # type: ignore[list-item]
        uow.commit()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(positions.c.symbol, positions.c.qty)).all()
    assert [tuple(r) for r in rows] == [("AAPL", Decimal(4))]
