"""Account services: one transaction each, idempotent opening, all-or-nothing commands, recompute."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.accounting.events import AccountCreated
from propdesk.accounting.kernel import (
    ApplyFill,
    Command,
    CommandRejected,
    Liquidate,
    ReleaseReservation,
    ReserveForOrder,
)
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.model.ids import AccountId, UserId, sequential_ids
from propdesk.model.orders import Side
from propdesk.services.accounts.commands import (
    FieldDrift,
    IdempotencyConflict,
    execute,
    get_state,
    open_account,
    policy_of,
    recompute,
    start_account,
)
from propdesk.store.errors import AccountNotFound, UserNotFound
from propdesk.store.tables import balances, ledger_events, reservations
from propdesk.store.uow import UnitOfWork
from tests.db import AAPL, BTC, T0, StepClock, fill, policy, run_history, started_account


def _snapshot(engine: Engine, account_id: str) -> tuple[list[Any], dict[str, Any], list[Any]]:
    """Everything a command could touch: ledger rows, the balances row, reservation rows."""
    with engine.connect() as conn:
        ledger = list(conn.execute(sa.select(ledger_events).where(ledger_events.c.account_id == account_id)))
        balance = dict(
            conn.execute(sa.select(balances).where(balances.c.account_id == account_id)).mappings().one()
        )
        held = list(conn.execute(sa.select(reservations).order_by(reservations.c.order_id)))
    return ledger, balance, held


def test_open_account_stores_a_pending_account_with_its_policy(engine: Engine) -> None:
    chosen = policy("25000", currency="USD", max_leverage="2")
    account_id = open_account(
        engine, policy=chosen, clock=StepClock(), ids=sequential_ids("acct"), mode="audition"
    )
    with UnitOfWork(engine) as uow:
        row = uow.accounts.get(account_id)
    assert account_id == "acct-1"
    assert row.status is AccountStatus.PENDING
    assert row.mode == "audition"
    assert row.currency == "USD"
    assert row.starting_balance == Decimal(25000)
    assert row.created_at == T0
    assert policy_of(row) == chosen
    assert get_state(engine, account_id) == AccountState(account_id=account_id, seq=1, updated_at=T0)
    with UnitOfWork(engine) as uow:
        (created,) = uow.accounts.load_events(account_id)
    assert created == AccountCreated(at=T0, mode="audition", currency="USD", starting_balance=Decimal(25000))


def test_open_account_is_idempotent_by_key(engine: Engine) -> None:
    ids = sequential_ids("acct")
    first = open_account(engine, policy=policy(), idempotency_key="k1", clock=StepClock(), ids=ids)
    again = open_account(engine, policy=policy(), idempotency_key="k1", clock=StepClock(), ids=ids)
    other = open_account(engine, policy=policy(), idempotency_key="k2", clock=StepClock(), ids=ids)
    assert first == again
    assert other != first
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM accounts")).scalar_one() == 2


def test_reusing_a_key_with_another_policy_is_a_conflict(engine: Engine) -> None:
    ids = sequential_ids("acct")
    first = open_account(engine, policy=policy(), idempotency_key="k1", clock=StepClock(), ids=ids)
    with pytest.raises(IdempotencyConflict, match="policy") as info:
        open_account(engine, policy=policy("5"), idempotency_key="k1", clock=StepClock(), ids=ids)
    assert info.value.account_id == first
    with pytest.raises(IdempotencyConflict, match="mode"):
        open_account(engine, policy=policy(), idempotency_key="k1", clock=StepClock(), ids=ids, mode="prop")


def test_open_account_for_an_unknown_owner_fails(engine: Engine) -> None:
    with pytest.raises(UserNotFound):
        open_account(engine, policy=policy(), owner=UserId("ghost"), clock=StepClock(), ids=sequential_ids())
    with UnitOfWork(engine) as uow:
        uow.users.insert(user_id="u1", name="Ada", created_at=T0)
        uow.commit()
    account_id = open_account(
        engine, policy=policy(), owner=UserId("u1"), clock=StepClock(), ids=sequential_ids()
    )
    with UnitOfWork(engine) as uow:
        assert uow.accounts.get(account_id).owner_user_id == "u1"


def test_start_account_funds_from_the_policy(engine: Engine) -> None:
    account_id, state = started_account(engine, "10000", currency="USDC", max_leverage="5")
    assert state.status is AccountStatus.ACTIVE
    assert state.cash == state.starting_cash == state.high_watermark == Decimal(10000)
    assert state.currency == "USDC"
    assert state.leverage == Decimal(5)
    assert get_state(engine, account_id) == state
    with pytest.raises(CommandRejected) as info:
        start_account(engine, account_id, StepClock())
    assert info.value.code == "account_already_started"


def test_services_refuse_an_unknown_account(engine: Engine) -> None:
    with pytest.raises(AccountNotFound):
        start_account(engine, AccountId("nope"), StepClock())
    with pytest.raises(AccountNotFound):
        execute(engine, AccountId("nope"), ReserveForOrder(at=T0, order_id="o", amount=Decimal(1)))
    with pytest.raises(AccountNotFound):
        recompute(engine, AccountId("nope"))


def test_a_rejected_command_stores_nothing(engine: Engine) -> None:
    account_id, _ = started_account(engine, "10000")
    execute(engine, account_id, ReserveForOrder(at=T0, order_id="o-1", amount=Decimal(9000)))
    before = _snapshot(engine, account_id)
    with pytest.raises(CommandRejected) as info:
        execute(engine, account_id, ReserveForOrder(at=T0, order_id="o-2", amount=Decimal("1000.01")))
    assert info.value.code == "insufficient_buying_power"
    assert _snapshot(engine, account_id) == before
    assert recompute(engine, account_id) == {}


def test_a_command_factory_sees_the_locked_state(engine: Engine) -> None:
    account_id, _ = started_account(engine, "10000")
    seen: list[Decimal] = []

    def reserve_half(state: AccountState) -> Command:
        seen.append(state.available_capital)
        return ReserveForOrder(at=T0, order_id="half", amount=state.available_capital / 2)

    after = execute(engine, account_id, reserve_half)
    assert seen == [Decimal(10000)]
    assert after.reservations == {"half": Decimal(5000)}


def test_recompute_finds_no_drift_after_a_full_history(engine: Engine) -> None:
    account_id, _ = started_account(engine, "123456789.123456")
    run_history(engine, account_id)
    assert recompute(engine, account_id) == {}


def test_recompute_reports_a_tampered_projection(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    run_history(engine, account_id)
    true_cash = get_state(engine, account_id).cash
    with engine.begin() as conn:
        conn.execute(
            sa.update(balances)
            .where(balances.c.account_id == account_id)
            .values(cash=true_cash + Decimal("0.01"))
        )
        conn.execute(
            sa.update(reservations).where(reservations.c.order_id == "o-1").values(amount=Decimal(1))
        )
    drift = recompute(engine, account_id)
    assert drift["cash"] == FieldDrift(true_cash + Decimal("0.01"), true_cash)
    assert drift["reservations"] == FieldDrift({"o-1": Decimal(1)}, {"o-1": Decimal(600)})
    assert set(drift) == {"cash", "reservations"}


def test_liquidation_closes_positions_and_releases_reservations(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    execute(engine, account_id, ApplyFill(at=T0, fill=fill(AAPL, Side.BUY, "10", "150", fill_id="f1")))
    execute(
        engine, account_id, ApplyFill(at=T0, fill=fill(BTC, Side.BUY, "0.000000001", "97000", fill_id="f2"))
    )
    execute(engine, account_id, ReserveForOrder(at=T0, order_id="o-1", amount=Decimal(100)))

    def close_everything(state: AccountState) -> Command:
        closing = [
            fill(
                AAPL if symbol == "AAPL" else BTC, Side.SELL, str(p.qty), str(p.mark), fill_id=f"liq-{symbol}"
            )
            for symbol, p in sorted(state.positions.items())
        ]
        return Liquidate(at=T0, fills=closing, reason="drawdown breached")

    final = execute(engine, account_id, close_everything)
    assert final.status is AccountStatus.LIQUIDATED
    assert final.positions == {}
    assert final.reservations == {}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM positions")).scalar_one() == 0
        assert conn.execute(sa.select(reservations.c.status)).scalars().all() == ["released"]
    with UnitOfWork(engine) as uow:
        assert uow.accounts.get(account_id).status is AccountStatus.LIQUIDATED
    assert recompute(engine, account_id) == {}
    with pytest.raises(CommandRejected):
        execute(engine, account_id, ReleaseReservation(at=T0, order_id="o-1", reason="late"))
