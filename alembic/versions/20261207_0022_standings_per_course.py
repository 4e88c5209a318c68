"""Standings per course: a learner's standing on an exercise counts only the work made for one course.

``exercise_standings`` was keyed by learner and exercise and counted every submission,
so a learner who repeats a course (the same exercise placed in last term's course and
this term's) showed last term's best score, counts and activity in this term's views.
Its key becomes (learner, course, exercise); a standing counts the submissions made
for that course's assignments, and a submission made for no assignment counts in none.

The table is made anew and filled from the stored submissions in one statement (the
same rules as ``standings.refresh_standing``: the best is the highest late-adjusted
score, the earliest of equals; the latest is the most recent scored submission). Every
row takes the next number of the sequence of changes, so a page opened before the
upgrade is sent its rows again. The downgrade rebuilds the old table from every
submission the same way. PostgreSQL: the new table is analyzed (as 0019 does).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 04:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _drop()
    _create(per_course=True)
    _fill(per_course=True)


def downgrade() -> None:
    _drop()
    _create(per_course=False)
    _fill(per_course=False)


def _drop() -> None:
    op.drop_table("exercise_standings")  # its indexes go with it


def _create(*, per_course: bool) -> None:
    key = ["user_id", "course_id", "exercise_id"] if per_course else ["user_id", "exercise_id"]
    course: list[sa.SchemaItem] = []
    if per_course:
        course = [
            sa.Column("course_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["course_id"], ["courses.id"], name=op.f("fk_exercise_standings_course_id_courses"), ondelete="CASCADE"
            ),
        ]
    op.create_table(
        "exercise_standings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("last_activity", sa.DateTime(timezone=True), nullable=True),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column("best_submission_id", sa.Integer(), nullable=True),
        sa.Column("latest_score", sa.Float(), nullable=True),
        sa.Column("latest_submission_id", sa.Integer(), nullable=True),
        sa.Column("latest_error_kind", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False, server_default="1"),
        *course,
        sa.ForeignKeyConstraint(
            ["best_submission_id"],
            ["submissions.id"],
            name=op.f("fk_exercise_standings_best_submission_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_exercise_standings_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["latest_submission_id"],
            ["submissions.id"],
            name=op.f("fk_exercise_standings_latest_submission_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_exercise_standings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_exercise_standings")),
    )
    with op.batch_alter_table("exercise_standings", schema=None) as batch_op:
        if per_course:
            batch_op.create_index(
                "ix_exercise_standings_course_id_exercise_id_best_score",
                ["course_id", "exercise_id", "best_score"],
                unique=False,
            )
        else:
            batch_op.create_index(
                "ix_exercise_standings_exercise_id_best_score", ["exercise_id", "best_score"], unique=False
            )
        batch_op.create_index("ix_exercise_standings_updated_at", ["updated_at"], unique=False)
        batch_op.create_index("ix_exercise_standings_change", ["change"], unique=False)


def _fill(*, per_course: bool) -> None:
    """Every standing the stored submissions imply, in one INSERT … SELECT; one new change number for all."""
    bind = op.get_bind()
    change = bind.execute(sa.text("UPDATE change_sequence SET value = value + 1 WHERE id = 1 RETURNING value"))
    number = change.scalar_one_or_none() or 1
    if per_course:
        made = (
            "SELECT s.id, s.user_id, a.course_id, s.exercise_id, s.score * s.late_factor AS score, s.created_at"
            " FROM submissions s JOIN assignments a ON a.id = s.assignment_id"
        )
        group = "user_id, course_id, exercise_id"
    else:
        made = (
            "SELECT s.id, s.user_id, s.exercise_id, s.score * s.late_factor AS score, s.created_at FROM submissions s"
        )
        group = "user_id, exercise_id"
    same = " AND ".join(f"l.{name} = b.{name}" for name in group.split(", "))
    unscored_last = "CASE WHEN score IS NULL THEN 1 ELSE 0 END"
    bind.execute(
        sa.text(
            f"INSERT INTO exercise_standings ({group}, submissions, last_activity, best_score, best_submission_id,"
            " latest_score, latest_submission_id, latest_error_kind, updated_at, change)"
            f" WITH made AS ({made}),"
            " ranked AS (SELECT made.*,"
            f"  ROW_NUMBER() OVER (PARTITION BY {group} ORDER BY {unscored_last}, score DESC, created_at, id)"
            "   AS best_rank,"
            f"  ROW_NUMBER() OVER (PARTITION BY {group} ORDER BY {unscored_last}, created_at DESC, id DESC)"
            "   AS latest_rank,"
            f"  COUNT(*) OVER (PARTITION BY {group}) AS total,"
            f"  MAX(created_at) OVER (PARTITION BY {group}) AS last_activity"
            "  FROM made)"
            f" SELECT {', '.join(f'b.{name}' for name in group.split(', '))}, b.total, b.last_activity,"
            "  b.score, CASE WHEN b.score IS NULL THEN NULL ELSE b.id END,"
            "  l.score, CASE WHEN l.score IS NULL THEN NULL ELSE l.id END,"
            "  CASE WHEN l.score IS NULL THEN NULL"
            "   ELSE (SELECT r.error_kind FROM submission_results r WHERE r.submission_id = l.id) END,"
            "  CURRENT_TIMESTAMP, :change"
            f" FROM ranked b JOIN ranked l ON {same} AND l.latest_rank = 1"
            " WHERE b.best_rank = 1"
        ),
        {"change": number},
    )
    if bind.dialect.name == "postgresql":
        op.execute("ANALYZE exercise_standings")
