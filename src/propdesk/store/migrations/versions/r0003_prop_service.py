"""Prop-trading service: API tokens, worker heartbeats, voided fills, decision-action review.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("revoked_at", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.CheckConstraint("role IN ('service', 'admin')", name=op.f("ck_api_tokens_role")),
    )
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("beat_at", _ts(), nullable=False),
        sa.Column("details", _json(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeats")),
    )
    with op.batch_alter_table("fills") as batch:
        batch.add_column(sa.Column("voided_at", _ts(), nullable=True))
    with op.batch_alter_table("decision_actions") as batch:
        batch.add_column(sa.Column("updated_at", _ts(), nullable=True))
        batch.add_column(sa.Column("review", _json(), nullable=True))
    op.create_index(op.f("ix_accounts_clone_id"), "accounts", ["clone_id"])
    op.create_index(op.f("ix_ledger_events_account_id_at"), "ledger_events", ["account_id", "at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_events_account_id_at"), table_name="ledger_events")
    op.drop_index(op.f("ix_accounts_clone_id"), table_name="accounts")
    with op.batch_alter_table("decision_actions") as batch:
        batch.drop_column("review")
        batch.drop_column("updated_at")
    with op.batch_alter_table("fills") as batch:
        batch.drop_column("voided_at")
    op.drop_table("worker_heartbeats")
    op.drop_table("api_tokens")
