"""Users get a retention tier: how long the retention job keeps their closed trading history.

``users.retention_tier`` is one of ``free`` (90 days), ``pro`` (3 years) or ``pro_plus`` (kept
forever). Existing rows and new users default to ``pro_plus``: adding the column must not make
the next retention run delete anyone's history; an operator opts a user into a shorter tier with
``propdesk users tier``. The downgrade drops the column.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("retention_tier", sa.String(16), nullable=False, server_default="pro_plus"),
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("retention_tier")
