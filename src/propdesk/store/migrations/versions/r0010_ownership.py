"""Account ownership: the token that created an account, and grants of accounts to tokens.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain nullable column without a foreign key: SQLite adds it in place (no table rebuild).
    # Accounts made before this revision have no owning token: only admin tokens and grants see them.
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("owner_token_id", sa.String(32), nullable=True))
    op.create_index(op.f("ix_accounts_owner_token_id"), "accounts", ["owner_token_id"])
    op.create_table(
        "token_grants",
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_token_grants_token_id_api_tokens")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_token_grants_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("token_id", "account_id", name=op.f("pk_token_grants")),
    )
    op.create_index(op.f("ix_token_grants_account_id"), "token_grants", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_token_grants_account_id"), table_name="token_grants")
    op.drop_table("token_grants")
    op.drop_index(op.f("ix_accounts_owner_token_id"), table_name="accounts")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("owner_token_id")
