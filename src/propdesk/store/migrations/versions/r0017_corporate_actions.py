"""Corporate actions: dividends, splits and name changes, and which account each was applied to.

``corporate_actions`` holds one row per (type, symbol, ex_date), imported from a CSV file or
fetched from Alpaca; ``corporate_action_applications`` records each (account, action) the daily
job applied, in the same transaction as the account's ledger events, so a rerun applies nothing
twice. The downgrade drops both tables (the ledger events the job wrote stay).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dec() -> sa.types.TypeEngine[Any]:
    return sa.Numeric().with_variant(sa.Text(), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "corporate_actions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("ex_date", sa.Date(), nullable=False),
        sa.Column("payable_date", sa.Date(), nullable=True),
        sa.Column("cash", _dec(), nullable=True),
        sa.Column("old_rate", _dec(), nullable=True),
        sa.Column("new_rate", _dec(), nullable=True),
        sa.Column("new_symbol", sa.String(64), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.CheckConstraint(
            "type IN ('dividend', 'split', 'name_change')", name=op.f("ck_corporate_actions_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corporate_actions")),
        sa.UniqueConstraint(
            "type", "symbol", "ex_date", name=op.f("uq_corporate_actions_type_symbol_ex_date")
        ),
    )
    op.create_index(op.f("ix_corporate_actions_ex_date"), "corporate_actions", ["ex_date"])
    op.create_table(
        "corporate_action_applications",
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("action_id", sa.String(64), nullable=False),
        sa.Column("applied_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_corporate_action_applications_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["corporate_actions.id"],
            name=op.f("fk_corporate_action_applications_action_id_corporate_actions"),
        ),
        sa.PrimaryKeyConstraint("account_id", "action_id", name=op.f("pk_corporate_action_applications")),
    )


def downgrade() -> None:
    op.drop_table("corporate_action_applications")
    op.drop_index(op.f("ix_corporate_actions_ex_date"), table_name="corporate_actions")
    op.drop_table("corporate_actions")
