"""Position history: a row per position's life, kept after the position closes.

Until 0013 a closed position's row in ``positions`` was deleted and nothing but the ledger
remembered it. ``position_history`` now records each position from the fill that opened it to
the fill (or account reset) that ended it: side, largest size, entry and exit sums (whose
quotients are the average prices), fees and realized PnL. ``positions`` itself is unchanged, so
reading open positions costs what it did. Positions already open when this revision runs get
their record when they are next touched (their stored cost as their entry); nothing is
backfilled from the ledger. The downgrade drops the table and with it the history.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dec() -> sa.types.TypeEngine[Any]:
    return sa.Numeric().with_variant(sa.Text(), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "position_history",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("asset_class", sa.String(16), nullable=False),
        sa.Column("multiplier", _dec(), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("max_qty", _dec(), nullable=False),
        sa.Column("entry_qty", _dec(), nullable=False),
        sa.Column("entry_value", _dec(), nullable=False),
        sa.Column("exit_qty", _dec(), nullable=False),
        sa.Column("exit_value", _dec(), nullable=False),
        sa.Column("realized_pnl", _dec(), nullable=False),
        sa.Column("fees", _dec(), nullable=False),
        sa.Column("opened_at", _ts(), nullable=False),
        sa.Column("closed_at", _ts(), nullable=True),
        sa.Column("closed_by", sa.String(16), nullable=True),
        sa.CheckConstraint("side IN ('long', 'short')", name=op.f("ck_position_history_side")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_position_history_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_history")),
    )
    op.create_index(
        op.f("ix_position_history_account_id_symbol_closed_at"),
        "position_history",
        ["account_id", "symbol", "closed_at"],
    )
    op.create_index(
        op.f("ix_position_history_account_id_closed_at"), "position_history", ["account_id", "closed_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_position_history_account_id_closed_at"), table_name="position_history")
    op.drop_index(op.f("ix_position_history_account_id_symbol_closed_at"), table_name="position_history")
    op.drop_table("position_history")
