"""Prop rule packs: the pack snapshot and outcome on accounts, and the rule-state projection.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("rule_pack", _json(), nullable=True))
        batch.add_column(sa.Column("rule_pack_key", sa.String(120), nullable=True))
        batch.add_column(sa.Column("rule_pack_fingerprint", sa.String(64), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(16), nullable=True))
    op.create_table(
        "rule_states",
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("locked_until", _ts(), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_rule_states_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_rule_states")),
    )


def downgrade() -> None:
    op.drop_table("rule_states")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("outcome")
        batch.drop_column("rule_pack_fingerprint")
        batch.drop_column("rule_pack_key")
        batch.drop_column("rule_pack")
