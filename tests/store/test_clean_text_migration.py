"""Revision 0012 cleans stored control characters (issue 14, hole 3), keeping unique columns unique.

Seeded at revision 0011 (the one before 0012) with what each database could hold before the API refused it: SQLite
kept NUL and every other control character; PostgreSQL refused NUL but kept the others.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from propdesk.store import migrate
from propdesk.store.engine import create_engine_for
from propdesk.store.tables import admin_audit_log, alpaca_watchlists, api_tokens, orders, users
from tests.db import started_account

AT = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
BAD = "\ufffd"


def order(
    order_id: str, account_id: str, client_order_id: str | None, reason: str | None = None
) -> dict[str, Any]:
    return {
        "id": order_id,
        "account_id": account_id,
        "client_order_id": client_order_id,
        "symbol": "AAPL",
        "asset_class": "us_equity",
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "status": "canceled",
        "filled_qty": Decimal(0),
        "reserved_amount": Decimal(0),
        "created_at": AT,
        "updated_at": AT,
        "payload": {},
        "reason": reason,
    }


def test_revision_0012_replaces_control_characters_and_keeps_ids_unique(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0011")
    engine = create_engine_for(empty_db_url)
    sqlite = engine.dialect.name == "sqlite"
    worst = "\x00" if sqlite else "\x1b"  # PostgreSQL text cannot hold NUL
    try:
        account, _ = started_account(engine, prefix="a")
        other, _ = started_account(engine, prefix="b")
        with engine.begin() as conn:
            conn.execute(
                sa.insert(users),
                [
                    {"id": "u1", "name": f"Ann{worst}\nLee", "email": f"ann{worst}@x.org", "created_at": AT},
                    {"id": "u2", "name": "Bob\tok", "email": f"ann{BAD}@x.org", "created_at": AT},
                ],
            )
            conn.execute(
                sa.insert(orders),
                [
                    order("o1", account, f"c{worst}1"),
                    order("o2", account, f"c{BAD}1"),  # what o1's id becomes: taken
                    order("o3", account, "c\x011"),  # cleans to the same as o1: taken again
                    order("o4", other, f"c{worst}1"),  # another account: its own scope
                    order("o5", account, "x" * 127 + worst),  # a suffix must still fit 128
                    order("o6", account, "x" * 127 + BAD),
                    order("o7", account, "plain", reason=f"why{worst}\nbecause\x7f"),
                ],
            )
            conn.execute(
                sa.insert(alpaca_watchlists),
                [
                    {
                        "id": "w1",
                        "account_id": account,
                        "name": f"Main{worst}",
                        "symbols": [],
                        "created_at": AT,
                        "updated_at": AT,
                    },
                    {
                        "id": "w2",
                        "account_id": account,
                        "name": f"Main{BAD}",
                        "symbols": [],
                        "created_at": AT,
                        "updated_at": AT,
                    },
                ],
            )
            conn.execute(
                sa.insert(admin_audit_log),
                {
                    "account_id": account,
                    "actor": "ops\x85",
                    "action": "pause",
                    "reason": "line\r\nend\x00" if sqlite else "line\r\nend\x07",
                    "at": AT,
                },
            )
            conn.execute(
                sa.insert(api_tokens),
                {
                    "id": "t1",
                    "name": f"bot{worst}",
                    "role": "service",
                    "secret_hash": "0" * 64,
                    "created_at": AT,
                },
            )
    finally:
        engine.dispose()

    migrate.upgrade(empty_db_url)

    engine = create_engine_for(empty_db_url)
    try:
        with engine.connect() as conn:
            ids = dict(conn.execute(sa.select(orders.c.id, orders.c.client_order_id)).all())
            reason = conn.execute(sa.select(orders.c.reason).where(orders.c.id == "o7")).scalar_one()
            names = dict(conn.execute(sa.select(users.c.id, users.c.name)).all())
            emails = dict(conn.execute(sa.select(users.c.id, users.c.email)).all())
            lists = dict(conn.execute(sa.select(alpaca_watchlists.c.id, alpaca_watchlists.c.name)).all())
            audit = conn.execute(sa.select(admin_audit_log.c.actor, admin_audit_log.c.reason)).one()
            token = conn.execute(sa.select(api_tokens.c.name)).scalar_one()
    finally:
        engine.dispose()
    assert ids["o2"] == f"c{BAD}1"  # clean rows are never touched
    assert {ids["o1"], ids["o3"]} == {f"c{BAD}1~2", f"c{BAD}1~3"}
    assert ids["o4"] == f"c{BAD}1"
    assert ids["o5"] == "x" * 126 + "~2"
    assert len(ids["o5"]) == 128
    assert ids["o6"] == "x" * 127 + BAD
    assert ids["o7"] == "plain"
    assert reason == f"why{BAD}\nbecause{BAD}"  # free text keeps its line breaks
    assert names == {"u1": f"Ann{BAD}\nLee", "u2": "Bob\tok"}
    assert emails == {"u1": f"ann{BAD}@x.org~2", "u2": f"ann{BAD}@x.org"}
    assert lists == {"w1": f"Main{BAD}~2", "w2": f"Main{BAD}"}
    assert audit == (f"ops{BAD}", f"line\r\nend{BAD}")
    assert token == f"bot{BAD}"
    # Idempotent: running the cleaning again changes nothing.
    migrate.downgrade(empty_db_url, "0011")
    migrate.upgrade(empty_db_url)
    engine = create_engine_for(empty_db_url)
    try:
        with engine.connect() as conn:
            assert dict(conn.execute(sa.select(orders.c.id, orders.c.client_order_id)).all()) == ids
    finally:
        engine.dispose()
