"""The evaluator remembers each symbol's latest quote time, to feed late-stored quotes once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("order_evaluations") as batch:
        batch.add_column(sa.Column("latest_quotes", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_evaluations") as batch:
        batch.drop_column("latest_quotes")
