"""Constraints that intake idempotency and bookkeeping rely on, enforced by the database itself."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.store.tables import decision_actions, orders, reservations
from tests.db import T0, started_account


def _order(order_id: str, account_id: str, client_order_id: str | None) -> dict[str, Any]:
    return {
        "id": order_id,
        "account_id": account_id,
        "client_order_id": client_order_id,
        "symbol": "AAPL",
        "asset_class": "us_equity",
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "qty": Decimal(1),
        "status": "new",
        "filled_qty": Decimal(0),
        "reserved_amount": Decimal(0),
        "created_at": T0,
        "updated_at": T0,
        "payload": {},
    }


def test_client_order_id_is_unique_per_account_and_optional(engine: Engine) -> None:
    first, _ = started_account(engine, prefix="a")
    second, _ = started_account(engine, prefix="b")
    with engine.begin() as conn:
        conn.execute(
            sa.insert(orders),
            [
                _order("o1", first, "c-1"),
                _order("o2", second, "c-1"),  # same client id, other account: fine
                _order("o3", first, None),
                _order("o4", first, None),  # several orders without a client id: fine
            ],
        )
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(orders).values(**_order("o5", first, "c-1")))


def test_decision_action_key_is_unique_per_account(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    row = {
        "account_id": account_id,
        "decision_run_id": "run-1",
        "decision_action_id": "act-1",
        "action": "open_long",
        "symbol": "AAPL",
        "payload": {"qty": "1"},
        "payload_hash": "h",
        "status": "accepted",
        "created_at": T0,
    }
    with engine.begin() as conn:
        conn.execute(sa.insert(decision_actions).values(id="d1", **row))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(decision_actions).values(id="d2", **row))


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(orders).values(**_order("o1", "no-such-account", None)))


def test_a_released_reservation_must_say_when(engine: Engine) -> None:
    account_id, _ = started_account(engine)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.insert(reservations).values(
                account_id=account_id,
                order_id="o1",
                amount=Decimal(1),
                status="released",
                created_at=T0,
                resolved_at=None,
            )
        )
