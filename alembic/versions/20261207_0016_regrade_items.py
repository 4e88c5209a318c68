"""Regrade items: each regraded submission's score before and after, for the regrade's summary.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 00:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "regrade_items",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("old_score", sa.Float(), nullable=True),
        sa.Column("old_max_score", sa.Float(), nullable=False),
        sa.Column("new_score", sa.Float(), nullable=True),
        sa.Column("new_max_score", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('pending', 'graded', 'not_graded', 'superseded')", name=op.f("ck_regrade_items_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["regrade_batches.id"],
            name=op.f("fk_regrade_items_batch_id_regrade_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_regrade_items_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", "submission_id", name=op.f("pk_regrade_items")),
    )
    with op.batch_alter_table("regrade_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_regrade_items_submission_id"), ["submission_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("regrade_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regrade_items_submission_id"))
    op.drop_table("regrade_items")
