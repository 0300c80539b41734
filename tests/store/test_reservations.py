"""The reservations projection: opened once, released partly or fully, never twice."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.accounting.events import ReservationReleased
from propdesk.accounting.kernel import CommandRejected, ReleaseReservation, ReserveForOrder, handle
from propdesk.services.accounts.commands import execute, get_state
from propdesk.store.errors import ProjectionConflict
from propdesk.store.tables import ledger_events, reservations
from propdesk.store.uow import UnitOfWork
from tests.db import T0, run_history, started_account


def test_partial_release_reduces_and_full_release_resolves(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    run_history(engine, account_id)
    with engine.connect() as conn:
        rows = {
            r["order_id"]: r
            for r in conn.execute(sa.select(reservations).order_by(reservations.c.order_id)).mappings()
        }
    assert rows["o-1"]["status"] == "open"
    assert rows["o-1"]["amount"] == Decimal(600)
    assert rows["o-1"]["resolved_at"] is None
    assert rows["o-2"]["status"] == "released"
    assert rows["o-2"]["resolved_at"] is not None
    assert get_state(engine, account_id).reserved_for_orders == Decimal(600)


def _ledger_count(engine: Engine, account_id: str) -> int:
    with engine.connect() as conn:
        stmt = sa.select(sa.func.count()).where(ledger_events.c.account_id == account_id)
        return conn.execute(stmt).scalar_one()


def test_a_reservation_released_twice_is_refused_and_nothing_changes(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    execute(engine, account_id, ReserveForOrder(at=T0, order_id="o-1", amount=Decimal(700)))
    released = execute(engine, account_id, ReleaseReservation(at=T0, order_id="o-1", reason="filled"))
    ledger_before = _ledger_count(engine, account_id)
    with pytest.raises(CommandRejected) as info:
        execute(engine, account_id, ReleaseReservation(at=T0, order_id="o-1", reason="again"))
    assert info.value.code == "unknown_reservation"
    assert _ledger_count(engine, account_id) == ledger_before
    assert get_state(engine, account_id) == released
    with engine.connect() as conn:
        row = conn.execute(sa.select(reservations)).mappings().one()
    assert row["status"] == "released"
    assert row["amount"] == Decimal(700)


def test_the_store_refuses_to_resolve_a_reservation_twice(engine: Engine) -> None:
    """Even if a caller bypasses the kernel, a released reservation is never released again."""
    account_id, _ = started_account(engine)
    execute(engine, account_id, ReserveForOrder(at=T0, order_id="o-1", amount=Decimal(700)))
    with UnitOfWork(engine) as uow:
        holding = uow.accounts.load_state(account_id)
    execute(engine, account_id, ReleaseReservation(at=T0, order_id="o-1", reason="filled"))
    forged = handle(holding, ReleaseReservation(at=T0, order_id="o-1", reason="again"))
    assert isinstance(forged.events[0], ReservationReleased)
    # Re-base the forged decision on the current seq, so only the reservation check can stop it.
    current_seq = get_state(engine, account_id).seq
    state = dataclasses.replace(forged.state, seq=current_seq + 1)
    with UnitOfWork(engine) as uow:
        uow.lock_account(account_id)
        with pytest.raises(ProjectionConflict, match="no open reservation"):
            uow.accounts.save(account_id, state, forged.events)
    assert get_state(engine, account_id).seq == current_seq


def test_reusing_a_released_order_id_for_a_new_reservation_is_refused(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    execute(engine, account_id, ReserveForOrder(at=T0, order_id="o-1", amount=Decimal(700)))
    after_release = execute(engine, account_id, ReleaseReservation(at=T0, order_id="o-1", reason="cancel"))
    with pytest.raises(ProjectionConflict, match="already had a reservation"):
        execute(engine, account_id, ReserveForOrder(at=T0, order_id="o-1", amount=Decimal(100)))
    assert get_state(engine, account_id) == after_release
