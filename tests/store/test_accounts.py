"""The account repository: records, exact state round trips, projections kept in step."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.accounting.kernel import ReserveForOrder, handle
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.services.accounts.commands import execute, get_state
from propdesk.store.errors import AccountNotFound, StaleStateError
from propdesk.store.tables import balances, fills, ledger_events, positions
from propdesk.store.uow import UnitOfWork
from tests.db import T0, run_history, started_account


def test_insert_and_get_an_account(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.users.insert(user_id="u1", name="Ada", created_at=T0)
        row = uow.accounts.insert(
            account_id="a1",
            mode="audition",
            currency="USDC",
            policy={"starting_balance": "100000", "max_leverage": "5"},
            starting_balance=Decimal(100000),
            created_at=T0,
            owner_user_id="u1",
            idempotency_key="key-1",
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        loaded = uow.accounts.get("a1")
        by_key = uow.accounts.find_by_idempotency_key("key-1")
        state = uow.accounts.load_state("a1")
        with pytest.raises(AccountNotFound):
            uow.accounts.get("a2")
        with pytest.raises(AccountNotFound):
            uow.accounts.load_state("a2")
    assert loaded == row
    assert by_key == row
    assert loaded.status is AccountStatus.PENDING
    assert loaded.policy == {"starting_balance": "100000", "max_leverage": "5"}
    assert loaded.created_at == T0
    assert loaded.last_seq == 0
    # The empty balances row inserted with the account is exactly a fresh kernel state.
    assert state == AccountState(account_id="a1")


def test_every_state_field_round_trips(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    final = run_history(engine, account_id)
    stored = get_state(engine, account_id)
    for field in dataclasses.fields(AccountState):
        assert getattr(stored, field.name) == getattr(final, field.name), field.name
    assert stored == final
    # The history leaves a long equity and a dust BTC position, and an open partial reservation.
    assert set(stored.positions) == {"AAPL", "BTC/USD"}
    assert dict(stored.reservations) == {"o-1": Decimal(600)}
    assert stored.trading_day is not None
    assert stored.updated_at is not None


def test_exact_values_survive_positions_balances_and_ledger(engine: Engine) -> None:
    account_id, _ = started_account(engine, "123456789.123456")
    run_history(engine, account_id)
    with engine.connect() as conn:
        btc = conn.execute(
            sa.select(positions.c.qty, positions.c.cost).where(
                positions.c.account_id == account_id, positions.c.symbol == "BTC/USD"
            )
        ).one()
        first = conn.execute(
            sa.select(ledger_events.c.cash_delta, ledger_events.c.cash_after).where(
                ledger_events.c.account_id == account_id, ledger_events.c.type == "account_started"
            )
        ).one()
        adjustment = conn.execute(
            sa.select(ledger_events.c.cash_delta).where(
                ledger_events.c.account_id == account_id, ledger_events.c.type == "cash_adjusted"
            )
        ).scalar_one()
        balance = (
            conn.execute(sa.select(balances).where(balances.c.account_id == account_id)).mappings().one()
        )
        btc_fill_qty = conn.execute(sa.select(fills.c.qty).where(fills.c.symbol == "BTC/USD")).scalar_one()
    assert str(btc.qty) == "1E-9"
    assert btc.qty == Decimal("0.000000001")
    assert btc.cost == Decimal("0.0000970005")
    assert btc_fill_qty == Decimal("0.000000001")
    assert first.cash_delta == Decimal("123456789.123456")
    assert first.cash_after == Decimal("123456789.123456")
    assert balance["starting_cash"] == Decimal("123456789.123456")
    assert adjustment == Decimal("-0.5")
    assert balance["adjustments"] == Decimal("-0.5")
    # Cash to the last digit: start - AAPL buy - BTC buy - fees + MES realized - adjustment + AAPL sale
    expected_cash = (
        Decimal("123456789.123456")
        - Decimal("1502.50")
        - Decimal("0.15")
        - Decimal("0.0000970005")
        - Decimal("1.24")
        - Decimal("0.5")
        + Decimal("608")
        - Decimal("0.06")
        + (Decimal("5000.25") - Decimal("4980")) * 2 * 5
        - Decimal("1.24")
    )
    assert balance["cash"] == expected_cash


def test_saving_a_stale_state_is_refused(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    with UnitOfWork(engine) as uow:
        before = uow.accounts.load_state(account_id)
    stale = handle(before, ReserveForOrder(at=T0, order_id="late", amount=Decimal(1)))
    execute(engine, account_id, ReserveForOrder(at=T0, order_id="first", amount=Decimal(1)))
    with UnitOfWork(engine) as uow, pytest.raises(StaleStateError):
        uow.accounts.save(account_id, stale.state, stale.events)
    assert set(get_state(engine, account_id).reservations) == {"first"}


def test_save_refuses_another_accounts_state(engine: Engine) -> None:
    _, state = started_account(engine)
    decision = handle(state, ReserveForOrder(at=T0, order_id="o", amount=Decimal(1)))
    with UnitOfWork(engine) as uow, pytest.raises(ValueError, match="saved to account"):
        uow.accounts.save("someone-else", decision.state, decision.events)
