"""Database helpers shared by the store and services tests (the fixtures live in conftest.py)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from propdesk.accounting.kernel import (
    AdjustCash,
    ApplyFill,
    Command,
    MarkToPrices,
    ReleaseReservation,
    ReserveForOrder,
    StartTradingDay,
)
from propdesk.accounting.state import AccountState
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId, sequential_ids
from propdesk.model.instruments import Instrument, crypto_pair, equity, future
from propdesk.model.orders import Side
from propdesk.model.policy import ExecutionPolicy
from propdesk.services.accounts.commands import execute, open_account, start_account
from propdesk.store.tables import TABLES_CHILD_FIRST

PG_ADMIN_URL = os.environ.get("PROPDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def worker_id() -> str:
    """This test process's unique database suffix: run id and xdist worker, or the process id.

    Unique per run so that several test runs on one machine (developers, CI) never share a
    database; each session drops its databases when it ends.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run:
        return f"{run[:8]}_{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')}"
    return f"p{os.getpid()}"


@cache
def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be reached, or None if it can (checked once per process)."""
    engine = sa.create_engine(PG_ADMIN_URL, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except sa.exc.OperationalError as exc:
        return str(exc.orig or exc).strip().splitlines()[0]
    finally:
        engine.dispose()


def recreate_postgres_database(name: str) -> str:
    """Drop (forcibly) and create database ``name``; returns its URL."""
    admin = sa.create_engine(PG_ADMIN_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def empty_postgres_tables(url: str) -> None:
    """Empty every application table (not alembic_version) and reset identities."""
    names = ", ".join(f'"{t.name}"' for t in TABLES_CHILD_FIRST)
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE")
    finally:
        engine.dispose()


class StepClock:
    """A deterministic clock: ``start``, then one ``step`` later on every call."""

    def __init__(self, start: datetime = T0, step: timedelta = timedelta(seconds=1)) -> None:
        self._next = start
        self._step = step

    def __call__(self) -> datetime:
        now = self._next
        self._next += self._step
        return now


def policy(starting_balance: str = "100000", **overrides: object) -> ExecutionPolicy:
    return ExecutionPolicy.model_validate({"starting_balance": starting_balance, **overrides})


def started_account(
    engine: Engine,
    starting_balance: str = "100000",
    *,
    clock: StepClock | None = None,
    prefix: str = "acct",
    **policy_overrides: object,
) -> tuple[AccountId, AccountState]:
    """An account opened and started through the services, as production creates one."""
    clock = clock or StepClock()
    account_id = open_account(
        engine,
        policy=policy(starting_balance, **policy_overrides),
        clock=clock,
        ids=sequential_ids(prefix),
    )
    return account_id, start_account(engine, account_id, clock)


# --- a history touching every projection -----------------------------------------------------

AAPL = equity("AAPL")
BTC = crypto_pair("BTC/USD")
MES = future("MES")


def fill(
    instrument: Instrument,
    side: Side,
    quantity: str,
    fill_price: str,
    *,
    fee: str = "0",
    fill_id: str,
    order_id: str | None = None,
    when: datetime = T0,
) -> Fill:
    """A fill that records the quote it used (bid/ask one cent around the price, mark = price)."""
    price = Decimal(fill_price)
    return Fill(
        fill_id=fill_id,
        order_id=order_id,
        instrument=instrument.spec,
        side=side,
        qty=Decimal(quantity),
        price=price,
        fee=Decimal(fee),
        time=when,
        bid=price - Decimal("0.01"),
        ask=price + Decimal("0.01"),
        mark=price,
        slippage=Decimal("0.01"),
    )


def history(account_id: str) -> list[Command]:
    """Fills on three asset classes (one a short future), marks, reservations opened and partly
    and fully released, a negative adjustment, a new trading day, a partial and a full close."""
    t = [T0 + timedelta(minutes=m) for m in range(20)]
    return [
        ApplyFill(
            at=t[1],
            fill=fill(AAPL, Side.BUY, "10", "150.25", fee="0.15", fill_id=f"{account_id}-f1", when=t[1]),
        ),
        ApplyFill(
            at=t[2], fill=fill(BTC, Side.BUY, "0.000000001", "97000.5", fill_id=f"{account_id}-f2", when=t[2])
        ),
        ApplyFill(
            at=t[3],
            fill=fill(MES, Side.SELL, "2", "5000.25", fee="1.24", fill_id=f"{account_id}-f3", when=t[3]),
        ),
        MarkToPrices(
            at=t[4], prices={"AAPL": Decimal("151.10"), "BTC/USD": Decimal(97100), "MES": Decimal("4990.75")}
        ),
        ReserveForOrder(at=t[5], order_id="o-1", amount=Decimal(1000)),
        ReserveForOrder(at=t[6], order_id="o-2", amount=Decimal("250.5")),
        ReleaseReservation(at=t[7], order_id="o-1", reason="partial fill", amount=Decimal(400)),
        ReleaseReservation(at=t[8], order_id="o-2", reason="cancelled"),
        AdjustCash(at=t[9], amount=Decimal("-0.5"), reason="fee correction"),
        StartTradingDay(at=t[10], trading_day=date(2026, 1, 6)),
        ApplyFill(
            at=t[11],
            fill=fill(AAPL, Side.SELL, "4", "152", fee="0.06", fill_id=f"{account_id}-f4", when=t[11]),
        ),
        ApplyFill(
            at=t[12],
            fill=fill(MES, Side.BUY, "2", "4980", fee="1.24", fill_id=f"{account_id}-f5", when=t[12]),
        ),
    ]


def run_history(engine: Engine, account_id: str) -> AccountState:
    """Execute :func:`history` through the service, one transaction per command."""
    state: AccountState | None = None
    for command in history(account_id):
        state = execute(engine, AccountId(account_id), command, clock=StepClock(command.at))
    assert state is not None
    return state
