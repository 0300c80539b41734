"""Revision 0002 adds the access log and the watchlist, and its downgrade removes exactly them."""

from __future__ import annotations

import sqlalchemy as sa

from propdesk.store import migrate
from propdesk.store.engine import create_engine_for

MARKET_DATA_TABLES = {"market_data_access_log", "watchlist"}


def _inspect(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine_for(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            tables = set(inspector.get_table_names())
            indexes = (
                {i["name"] or "" for i in inspector.get_indexes("market_data_access_log")}
                if "market_data_access_log" in tables
                else set()
            )
            return tables, indexes
    finally:
        engine.dispose()


def test_revision_0002_adds_and_removes_the_market_data_tables(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0002")
    tables, indexes = _inspect(empty_db_url)
    assert tables >= MARKET_DATA_TABLES
    assert indexes == {"ix_market_data_access_log_at", "ix_market_data_access_log_user_id_at"}
    migrate.downgrade(empty_db_url, "0001")
    tables, _ = _inspect(empty_db_url)
    assert not tables & MARKET_DATA_TABLES
    assert {"quotes", "bars", "admin_audit_log"} <= tables
    migrate.upgrade(empty_db_url)
    assert _inspect(empty_db_url)[0] >= MARKET_DATA_TABLES
