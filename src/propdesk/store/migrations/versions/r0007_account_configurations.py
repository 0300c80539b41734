"""Alpaca account configurations per account (``/v2/account/configurations``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_configurations",
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("fractional_trading", sa.Boolean(), nullable=False),
        sa.Column("no_shorting", sa.Boolean(), nullable=False),
        sa.Column("suspend_trade", sa.Boolean(), nullable=False),
        sa.Column("ptp_no_exception_entry", sa.Boolean(), nullable=False),
        sa.Column("dtbp_check", sa.String(8), nullable=False),
        sa.Column("pdt_check", sa.String(8), nullable=False),
        sa.Column("trade_confirm_email", sa.String(8), nullable=False),
        sa.Column("max_options_trading_level", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_configurations_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_configurations")),
    )


def downgrade() -> None:
    op.drop_table("account_configurations")
