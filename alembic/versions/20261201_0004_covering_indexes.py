"""Covering indexes for the dashboard's two largest aggregates.

Submissions per day read (exercise, time, learner) and the failure rate per case
reads (submission, case, passed) from their indexes alone: at 50,000 submissions
with their reports, reading the rows themselves took about half a second.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_exercise_id_created_at")
        batch_op.create_index(
            "ix_submissions_exercise_id_created_at_user_id", ["exercise_id", "created_at", "user_id"], unique=False
        )
    with op.batch_alter_table("case_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_case_outcomes_submission_id_name")
        batch_op.create_index(
            "ix_case_outcomes_submission_id_name_passed", ["submission_id", "name", "passed"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_case_outcomes_submission_id_name_passed")
        batch_op.create_index("ix_case_outcomes_submission_id_name", ["submission_id", "name"], unique=False)
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_exercise_id_created_at_user_id")
        batch_op.create_index("ix_submissions_exercise_id_created_at", ["exercise_id", "created_at"], unique=False)
