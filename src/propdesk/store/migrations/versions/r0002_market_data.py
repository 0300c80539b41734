"""Market data: the market-data access log and the per-account watchlist.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Written by hand, like 0001, with column types spelled out so the revision keeps building the
same schema however the application types evolve. Quotes and bars themselves were created by
0001; their primary keys ((symbol, time) and (symbol, timeframe, start)) already serve "latest
quote of these symbols" and "bars after T in time order", so no index is added for them.
``admin_audit_log.account_id`` is already nullable, so market-wide admin actions (manual quotes)
need no change there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "market_data_access_log",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True
        ),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("data_type", sa.String(32), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_data_access_log")),
    )
    op.create_index(op.f("ix_market_data_access_log_at"), "market_data_access_log", ["at"])
    op.create_index(op.f("ix_market_data_access_log_user_id_at"), "market_data_access_log", ["user_id", "at"])
    op.create_table(
        "watchlist",
        sa.Column(
            "account_id",
            sa.String(64),
            sa.ForeignKey("accounts.id", name=op.f("fk_watchlist_account_id_accounts")),
            nullable=False,
        ),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "symbol", name=op.f("pk_watchlist")),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes too.
    op.drop_table("watchlist")
    op.drop_table("market_data_access_log")
