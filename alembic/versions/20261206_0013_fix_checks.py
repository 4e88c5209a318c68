"""Checked fixes: per diagnosis with a fix, whether grading the changed file proved it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fix_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("diagnosis", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'passed', 'failed', 'not_checked')", name=op.f("ck_fix_checks_status")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_fix_checks_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fix_checks")),
        sa.UniqueConstraint("submission_id", "diagnosis", name=op.f("uq_fix_checks_submission_id_diagnosis")),
        # Ids are never used twice (a regrade's new rows must not take an earlier check's id).
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("fix_checks")
