"""Erasing a user: the one sanctioned delete of ledger rows.

``ledger_events`` stays append-only: its triggers still refuse every UPDATE and every DELETE,
except a DELETE of a row whose account is listed in ``ledger_erasures``. Only the user erasure
(``services/access/users.py``) writes that table, inside its one transaction: it lists the user's
accounts, deletes their ledger rows and empties the table again before committing, so no other
transaction ever sees a permit. The same mechanism works on SQLite (a ``WHEN`` clause on the
trigger) and PostgreSQL (the trigger function checks the table).

The downgrade restores the unconditional triggers and drops the table.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_FUNCTION_WITH_ERASURE = """
CREATE OR REPLACE FUNCTION ledger_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM ledger_erasures WHERE ledger_erasures.account_id = OLD.account_id
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'ledger_events is append-only: % refused', TG_OP;
END
$$
"""
PG_FUNCTION_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION ledger_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_events is append-only: % refused', TG_OP;
END
$$
"""
SQLITE_DELETE_WITH_ERASURE = """
CREATE TRIGGER ledger_events_no_delete BEFORE DELETE ON ledger_events
WHEN NOT EXISTS (SELECT 1 FROM ledger_erasures WHERE ledger_erasures.account_id = OLD.account_id)
BEGIN
    SELECT RAISE(ABORT, 'ledger_events is append-only: DELETE refused');
END
"""
SQLITE_DELETE_APPEND_ONLY = """
CREATE TRIGGER ledger_events_no_delete BEFORE DELETE ON ledger_events
BEGIN
    SELECT RAISE(ABORT, 'ledger_events is append-only: DELETE refused');
END
"""


def upgrade() -> None:
    op.create_table(
        "ledger_erasures",
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_ledger_erasures")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION_WITH_ERASURE)
    else:
        op.execute("DROP TRIGGER ledger_events_no_delete")
        op.execute(SQLITE_DELETE_WITH_ERASURE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION_APPEND_ONLY)
    else:
        op.execute("DROP TRIGGER ledger_events_no_delete")
        op.execute(SQLITE_DELETE_APPEND_ONLY)
    op.drop_table("ledger_erasures")
