"""End-of-day snapshots: one row per account per trading day.

``account_snapshots`` holds what the ``eod-snapshot`` job recorded after each close: equity,
cash, realized and unrealized PnL, the positions as JSON and a summary of the rule state. The
primary key (account_id, trading_date) makes the job idempotent (a rerun inserts nothing). Nothing
is backfilled; the downgrade drops the table and the snapshots with it.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dec() -> sa.types.TypeEngine[Any]:
    return sa.Numeric().with_variant(sa.Text(), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "account_snapshots",
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("trading_date", sa.Date(), nullable=False),
        sa.Column("as_of", _ts(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("equity", _dec(), nullable=False),
        sa.Column("cash", _dec(), nullable=False),
        sa.Column("realized_pnl", _dec(), nullable=False),
        sa.Column("unrealized_pnl", _dec(), nullable=False),
        sa.Column("positions", _json(), nullable=False),
        sa.Column("rules", _json(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_snapshots_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "trading_date", name=op.f("pk_account_snapshots")),
    )
    op.create_index(op.f("ix_account_snapshots_trading_date"), "account_snapshots", ["trading_date"])


def downgrade() -> None:
    op.drop_index(op.f("ix_account_snapshots_trading_date"), table_name="account_snapshots")
    op.drop_table("account_snapshots")
