"""Initial schema: accounts, ledger, projections, records, quotes and bars.

Revision ID: 0001
Revises:
Create Date: 2026-01-05

Written by hand. Column types are spelled out here (not imported from propdesk.store.types) so
that this revision keeps building the same schema however the application types evolve:
exact decimals are NUMERIC on PostgreSQL and TEXT on SQLite, timestamps ``timestamptz`` and
SQLite DATETIME text. ``ledger_events`` gets triggers that refuse UPDATE and DELETE.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dec() -> sa.types.TypeEngine[Any]:
    """Exact decimal: NUMERIC (no precision, no scale) on PostgreSQL, text on SQLite."""
    return sa.Numeric().with_variant(sa.Text(), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(64), nullable=False)


def _account_fk(table: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(
        "account_id",
        sa.String(64),
        sa.ForeignKey("accounts.id", name=op.f(f"fk_{table}_account_id_accounts")),
        nullable=nullable,
    )


APPEND_ONLY_PG_FUNCTION = """
CREATE FUNCTION ledger_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_events is append-only: % refused', TG_OP;
END
$$
"""
APPEND_ONLY_PG_TRIGGER = """
CREATE TRIGGER ledger_events_append_only BEFORE UPDATE OR DELETE ON ledger_events
FOR EACH ROW EXECUTE FUNCTION ledger_events_append_only()
"""
APPEND_ONLY_SQLITE = [
    f"""
CREATE TRIGGER ledger_events_no_{op_name.lower()} BEFORE {op_name} ON ledger_events
BEGIN
    SELECT RAISE(ABORT, 'ledger_events is append-only: {op_name} refused');
END
"""
    for op_name in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "quotes",
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("time", _ts(), nullable=False),
        sa.Column("bid", _dec(), nullable=False),
        sa.Column("ask", _dec(), nullable=False),
        sa.Column("last", _dec(), nullable=True),
        sa.Column("bid_size", _dec(), nullable=False),
        sa.Column("ask_size", _dec(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "time", name=op.f("pk_quotes")),
    )
    op.create_table(
        "bars",
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("timeframe", sa.String(16), nullable=False),
        sa.Column("start", _ts(), nullable=False),
        sa.Column("open", _dec(), nullable=False),
        sa.Column("high", _dec(), nullable=False),
        sa.Column("low", _dec(), nullable=False),
        sa.Column("close", _dec(), nullable=False),
        sa.Column("volume", _dec(), nullable=False),
        sa.Column("vwap", _dec(), nullable=True),
        sa.Column("trade_count", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("symbol", "timeframe", "start", name=op.f("pk_bars")),
    )
    op.create_table(
        "accounts",
        _id(),
        sa.Column("owner_user_id", sa.String(64), nullable=True),
        sa.Column("clone_id", sa.String(64), nullable=True),
        sa.Column("parent_account_id", sa.String(64), nullable=True),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("policy", _json(), nullable=False),
        sa.Column("starting_balance", _dec(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_accounts_owner_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["parent_account_id"], ["accounts.id"], name=op.f("fk_accounts_parent_account_id_accounts")
        ),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_accounts_idempotency_key")),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'paused', 'locked', 'completed', 'liquidated')",
            name=op.f("ck_accounts_status"),
        ),
        sa.CheckConstraint("last_seq >= 0", name=op.f("ck_accounts_last_seq")),
    )
    op.create_index(op.f("ix_accounts_owner_user_id"), "accounts", ["owner_user_id"])
    op.create_table(
        "balances",
        _account_fk("balances"),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("starting_cash", _dec(), nullable=False),
        sa.Column("cash", _dec(), nullable=False),
        sa.Column("equity", _dec(), nullable=False),
        sa.Column("realized_pnl", _dec(), nullable=False),
        sa.Column("unrealized_pnl", _dec(), nullable=False),
        sa.Column("fees", _dec(), nullable=False),
        sa.Column("adjustments", _dec(), nullable=False),
        sa.Column("high_watermark", _dec(), nullable=False),
        sa.Column("day_start_equity", _dec(), nullable=False),
        sa.Column("day_start_balance", _dec(), nullable=False),
        sa.Column("trading_day", sa.Date(), nullable=True),
        sa.Column("reserved_for_orders", _dec(), nullable=False),
        sa.Column("margin_used", _dec(), nullable=False),
        sa.Column("leverage", _dec(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_balances")),
    )
    op.create_table(
        "positions",
        _account_fk("positions"),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("asset_class", sa.String(16), nullable=False),
        sa.Column("multiplier", _dec(), nullable=False),
        sa.Column("qty", _dec(), nullable=False),
        sa.Column("cost", _dec(), nullable=False),
        sa.Column("mark", _dec(), nullable=False),
        sa.Column("opened_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "symbol", name=op.f("pk_positions")),
    )
    op.create_table(
        "reservations",
        _account_fk("reservations"),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("amount", _dec(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("resolved_at", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "order_id", name=op.f("pk_reservations")),
        sa.CheckConstraint("status IN ('open', 'released')", name=op.f("ck_reservations_status")),
        sa.CheckConstraint(
            "(status = 'open' AND resolved_at IS NULL) OR (status = 'released' AND resolved_at IS NOT NULL)",
            name=op.f("ck_reservations_resolved"),
        ),
    )
    op.create_table(
        "orders",
        _id(),
        _account_fk("orders"),
        sa.Column("client_order_id", sa.String(128), nullable=True),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("asset_class", sa.String(16), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("time_in_force", sa.String(8), nullable=False),
        sa.Column("qty", _dec(), nullable=True),
        sa.Column("notional", _dec(), nullable=True),
        sa.Column("limit_price", _dec(), nullable=True),
        sa.Column("stop_price", _dec(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("filled_qty", _dec(), nullable=False),
        sa.Column("filled_avg_price", _dec(), nullable=True),
        sa.Column("reserved_amount", _dec(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint(
            "account_id", "client_order_id", name=op.f("uq_orders_account_id_client_order_id")
        ),
    )
    op.create_index(op.f("ix_orders_account_id_status"), "orders", ["account_id", "status"])
    op.create_table(
        "fills",
        _id(),
        _account_fk("fills"),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("asset_class", sa.String(16), nullable=False),
        sa.Column("multiplier", _dec(), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("qty", _dec(), nullable=False),
        sa.Column("price", _dec(), nullable=False),
        sa.Column("fee", _dec(), nullable=False),
        sa.Column("bid", _dec(), nullable=True),
        sa.Column("ask", _dec(), nullable=True),
        sa.Column("mark", _dec(), nullable=True),
        sa.Column("slippage", _dec(), nullable=False),
        sa.Column("liquidity", sa.String(16), nullable=False),
        sa.Column("time", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
    )
    op.create_index(op.f("ix_fills_account_id_time"), "fills", ["account_id", "time"])
    op.create_index(op.f("ix_fills_order_id"), "fills", ["order_id"])
    op.create_table(
        "decision_actions",
        _id(),
        _account_fk("decision_actions"),
        sa.Column("decision_run_id", sa.String(128), nullable=False),
        sa.Column("decision_action_id", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("payload_hash", sa.String(128), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("gate_results", _json(), nullable=True),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("fill_id", sa.String(64), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_actions")),
        sa.UniqueConstraint(
            "account_id", "decision_run_id", "decision_action_id", name=op.f("uq_decision_actions_run_action")
        ),
    )
    op.create_table(
        "ledger_events",
        sa.Column("id", _big_id(), nullable=False, autoincrement=True),
        _account_fk("ledger_events"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("cash_delta", _dec(), nullable=False),
        sa.Column("cash_after", _dec(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=True),
        sa.Column("causation_id", sa.String(128), nullable=True),
        sa.Column("recorded_at", _ts(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_events")),
        sa.UniqueConstraint("account_id", "seq", name=op.f("uq_ledger_events_account_id_seq")),
        sa.CheckConstraint("seq > 0", name=op.f("ck_ledger_events_seq")),
    )
    op.create_index(op.f("ix_ledger_events_correlation_id"), "ledger_events", ["correlation_id"])
    op.create_table(
        "admin_audit_log",
        sa.Column("id", _big_id(), nullable=False, autoincrement=True),
        _account_fk("admin_audit_log", nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", _json(), nullable=True),
        sa.Column("after", _json(), nullable=True),
        sa.Column("at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit_log")),
    )
    op.create_index(op.f("ix_admin_audit_log_account_id"), "admin_audit_log", ["account_id"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_PG_FUNCTION)
        op.execute(APPEND_ONLY_PG_TRIGGER)
    else:
        for statement in APPEND_ONLY_SQLITE:
            op.execute(statement)


def downgrade() -> None:
    # Dropping a table drops its indexes and triggers too.
    for table in (
        "admin_audit_log",
        "ledger_events",
        "decision_actions",
        "fills",
        "orders",
        "reservations",
        "positions",
        "balances",
        "accounts",
        "bars",
        "quotes",
        "users",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION ledger_events_append_only()")
