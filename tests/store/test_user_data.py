"""The ledger's one sanctioned delete: only rows of accounts listed in ``ledger_erasures``, and never an update."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.store.tables import ledger_erasures, ledger_events
from tests.db import started_account


def _count(engine: Engine, account_id: str) -> int:
    with engine.connect() as conn:
        stmt = sa.select(sa.func.count()).where(ledger_events.c.account_id == account_id)
        return int(conn.execute(stmt).scalar_one())


def test_a_permit_allows_deleting_its_accounts_rows_only_and_no_update(engine: Engine) -> None:
    permitted, _ = started_account(engine, prefix="a")
    other, _ = started_account(engine, prefix="b")
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.insert(ledger_erasures).values(account_id=permitted))
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            conn.execute(sa.delete(ledger_events))  # the other account's rows are refused
        conn.rollback()
    assert (_count(engine, permitted), _count(engine, other)) == (3, 3)
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.insert(ledger_erasures).values(account_id=permitted))
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            conn.execute(
                sa.update(ledger_events).where(ledger_events.c.account_id == permitted).values(cash_delta="0")
            )
        conn.rollback()
    with engine.begin() as conn:
        conn.execute(sa.insert(ledger_erasures).values(account_id=permitted))
        conn.execute(sa.delete(ledger_events).where(ledger_events.c.account_id == permitted))
        conn.execute(sa.delete(ledger_erasures))
    assert (_count(engine, permitted), _count(engine, other)) == (0, 3)
