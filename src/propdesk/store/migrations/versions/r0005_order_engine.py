"""The order engine: order lifecycle columns, trade updates, evaluator cursors and asset flags.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dec() -> sa.types.TypeEngine[Any]:
    return sa.Numeric().with_variant(sa.Text(), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


ORDER_COLUMNS: tuple[tuple[str, Callable[[], sa.Column[Any]]], ...] = (
    ("order_class", lambda: sa.Column("order_class", sa.String(16), nullable=False, server_default="simple")),
    ("trail_price", lambda: sa.Column("trail_price", _dec(), nullable=True)),
    ("trail_percent", lambda: sa.Column("trail_percent", _dec(), nullable=True)),
    ("watermark", lambda: sa.Column("watermark", _dec(), nullable=True)),
    ("triggered", lambda: sa.Column("triggered", sa.Boolean(), nullable=False, server_default=sa.false())),
    ("filled_value", lambda: sa.Column("filled_value", _dec(), nullable=False, server_default="0")),
    ("active_from", lambda: sa.Column("active_from", _ts(), nullable=True)),
    ("expires_at", lambda: sa.Column("expires_at", _ts(), nullable=True)),
    ("parent_id", lambda: sa.Column("parent_id", sa.String(64), nullable=True)),
    ("leg_role", lambda: sa.Column("leg_role", sa.String(16), nullable=True)),
    ("ratio_qty", lambda: sa.Column("ratio_qty", sa.Integer(), nullable=True)),
    ("replaces", lambda: sa.Column("replaces", sa.String(64), nullable=True)),
    ("replaced_by", lambda: sa.Column("replaced_by", sa.String(64), nullable=True)),
    ("filled_at", lambda: sa.Column("filled_at", _ts(), nullable=True)),
    ("canceled_at", lambda: sa.Column("canceled_at", _ts(), nullable=True)),
    ("expired_at", lambda: sa.Column("expired_at", _ts(), nullable=True)),
    ("replaced_at", lambda: sa.Column("replaced_at", _ts(), nullable=True)),
    ("failed_at", lambda: sa.Column("failed_at", _ts(), nullable=True)),
    ("reason", lambda: sa.Column("reason", sa.Text(), nullable=True)),
    ("evaluations", lambda: sa.Column("evaluations", sa.Integer(), nullable=False, server_default="0")),
    ("voided_at", lambda: sa.Column("voided_at", _ts(), nullable=True)),
    (
        "extended_hours",
        lambda: sa.Column("extended_hours", sa.Boolean(), nullable=False, server_default=sa.false()),
    ),
)


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        for _, column in ORDER_COLUMNS:
            batch.add_column(column())
        batch.create_index("ix_orders_status_symbol", ["status", "symbol"])
        batch.create_index("ix_orders_parent_id", ["parent_id"])
    op.create_table(
        "order_updates",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("fill_id", sa.String(64), nullable=True),
        sa.Column("qty", _dec(), nullable=True),
        sa.Column("price", _dec(), nullable=True),
        sa.Column("position_qty", _dec(), nullable=True),
        sa.Column("order", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_order_updates_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_updates")),
    )
    op.create_index("ix_order_updates_account_id_id", "order_updates", ["account_id", "id"])
    op.create_table(
        "order_evaluations",
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("evaluated_through", _ts(), nullable=False),
        sa.Column("last_run_at", _ts(), nullable=False),
        sa.Column("last_run_ticks", sa.Integer(), nullable=False),
        sa.Column("total_ticks", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_order_evaluations_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_order_evaluations")),
    )
    op.create_table(
        "assets",
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("asset_class", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("exchange", sa.String(32), nullable=False, server_default=""),
        sa.Column("tradable", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("shortable", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("easy_to_borrow", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("fractionable", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("marginable", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_assets")),
    )


def downgrade() -> None:
    op.drop_table("assets")
    op.drop_table("order_evaluations")
    op.drop_index("ix_order_updates_account_id_id", table_name="order_updates")
    op.drop_table("order_updates")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_parent_id")
        batch.drop_index("ix_orders_status_symbol")
        for name, _ in reversed(ORDER_COLUMNS):
            batch.drop_column(name)
