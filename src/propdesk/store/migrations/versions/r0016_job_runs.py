"""Daily job bookkeeping: runs, per-account claims of fanned-out runs, and the scheduler lease.

``job_runs`` has one row per (job, trading_date) with its status, times, attempts and result;
``job_claims`` one row per (job, trading_date, account) of a run fanned out over Celery workers,
taken with ``FOR UPDATE SKIP LOCKED`` and marked done with the account's work; ``job_leases`` the
row that tells which server process runs the embedded schedule. The downgrade drops all three.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("trading_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", _ts(), nullable=False),
        sa.Column("finished_at", _ts(), nullable=True),
        sa.Column("result", _json(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('running', 'completed', 'failed')", name=op.f("ck_job_runs_status")),
        sa.PrimaryKeyConstraint("job", "trading_date", name=op.f("pk_job_runs")),
    )
    op.create_table(
        "job_claims",
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("trading_date", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("done_by", sa.String(128), nullable=True),
        sa.Column("done_at", _ts(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'done')", name=op.f("ck_job_claims_status")),
        sa.PrimaryKeyConstraint("job", "trading_date", "account_id", name=op.f("pk_job_claims")),
    )
    op.create_index(
        op.f("ix_job_claims_job_trading_date_chunk"), "job_claims", ["job", "trading_date", "chunk"]
    )
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
    op.drop_index(op.f("ix_job_claims_job_trading_date_chunk"), table_name="job_claims")
    op.drop_table("job_claims")
    op.drop_table("job_runs")
