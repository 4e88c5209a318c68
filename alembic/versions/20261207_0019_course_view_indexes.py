"""An index for the course dashboard's count of learners with late work; fresh statistics of the courses.

The summary line counts, per exercise, the course's learners with a submission counted
late (``late_factor`` below 1). Without this index the count reads every submission row
of the exercise, report and all; with it, only the few late entries of the index.

PostgreSQL: the courses migration (0014) filled ``course_members`` and ``assignments``,
which every course view now filters by. Until autovacuum analyzes them the planner takes
a course for one learner and loops over learners: the CSV export of 5,000 learners did
not finish in minutes, and took 0.4 s once analyzed (as 0008 does for the derived tables).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ANALYZED = ("course_members", "assignments", "submissions")


def upgrade() -> None:
    op.create_index(
        "ix_submissions_exercise_id_late_factor_user_id",
        "submissions",
        ["exercise_id", "late_factor", "user_id"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in ANALYZED:
            op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    op.drop_index("ix_submissions_exercise_id_late_factor_user_id", table_name="submissions")
