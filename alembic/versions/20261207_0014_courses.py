"""Courses, their members and assignments; today's data moves into one default course.

Every account joins the default course (id 1) with its account role; every exercise gets an
assignment there (with its lesson's quiz), every quiz no exercise names gets one of its own,
and every submission and quiz attempt points at the assignment of its exercise or quiz.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:40:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_COURSE_ID = 1


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("join_code", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
    )
    op.create_index(op.f("ix_courses_join_code"), "courses", ["join_code"], unique=False)
    op.create_table(
        "course_members",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('learner', 'ta', 'instructor')", name=op.f("ck_course_members_role")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_members_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_course_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("course_id", "user_id", name=op.f("pk_course_members")),
    )
    op.create_index(op.f("ix_course_members_user_id"), "course_members", ["user_id"], unique=False)
    op.create_index(
        "ix_course_members_course_id_role_user_id", "course_members", ["course_id", "role", "user_id"], unique=False
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=True),
        sa.Column("quiz_id", sa.Integer(), nullable=True),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late_policy", sa.String(length=16), nullable=False),
        sa.Column("penalty_percent", sa.Float(), nullable=False),
        sa.Column("penalty_unit", sa.String(length=8), nullable=False),
        sa.Column("penalty_floor_percent", sa.Float(), nullable=False),
        sa.Column("reveal_answers", sa.String(length=32), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("exercise_id IS NOT NULL OR quiz_id IS NOT NULL", name=op.f("ck_assignments_has_work")),
        sa.CheckConstraint("late_policy IN ('none', 'penalty')", name=op.f("ck_assignments_late_policy")),
        sa.CheckConstraint("penalty_unit IN ('hour', 'day')", name=op.f("ck_assignments_penalty_unit")),
        sa.CheckConstraint(
            "reveal_answers IN ('after_last_attempt', 'after_due')", name=op.f("ck_assignments_reveal_answers")
        ),
        sa.CheckConstraint(
            "penalty_percent >= 0 AND penalty_percent <= 100", name=op.f("ck_assignments_penalty_percent")
        ),
        sa.CheckConstraint(
            "penalty_floor_percent >= 0 AND penalty_floor_percent <= 100", name=op.f("ck_assignments_penalty_floor")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_assignments_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["exercise_id"], ["exercises.id"], name=op.f("fk_assignments_exercise_id_exercises"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"], ["quizzes.id"], name=op.f("fk_assignments_quiz_id_quizzes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(op.f("ix_assignments_exercise_id"), "assignments", ["exercise_id"], unique=False)
    op.create_index(op.f("ix_assignments_quiz_id"), "assignments", ["quiz_id"], unique=False)
    op.create_index("ix_assignments_course_id_position", "assignments", ["course_id", "position"], unique=False)
    op.create_table(
        "extensions",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_extensions_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_extensions_granted_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_extensions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("assignment_id", "user_id", name=op.f("pk_extensions")),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("late_factor", sa.Float(), nullable=False, server_default="1.0"))
        batch_op.create_index(batch_op.f("ix_submissions_assignment_id"), ["assignment_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_submissions_assignment_id_assignments"),
            "assignments",
            ["assignment_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignment_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_quiz_attempts_assignment_id"), ["assignment_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_quiz_attempts_assignment_id_assignments"),
            "assignments",
            ["assignment_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _move_into_default_course()


def _move_into_default_course() -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    courses = sa.table("courses", sa.column("id"), sa.column("title"), sa.column("join_code"), sa.column("created_at"))
    connection.execute(courses.insert().values(id=DEFAULT_COURSE_ID, title="Course", join_code="", created_at=now))
    if connection.dialect.name == "postgresql":  # the explicit id above did not move the sequence
        connection.execute(sa.text("SELECT setval(pg_get_serial_sequence('courses', 'id'), 1)"))
    connection.execute(
        sa.text(
            "INSERT INTO course_members (course_id, user_id, role, created_at) "
            "SELECT :course, id, role, :now FROM users"
        ),
        {"course": DEFAULT_COURSE_ID, "now": now},
    )
    exercises = connection.execute(sa.text("SELECT id, title, spec FROM exercises ORDER BY id")).all()
    quizzes = {row.id: row for row in connection.execute(sa.text("SELECT id, slug, title FROM quizzes ORDER BY id"))}
    quiz_by_slug = {row.slug: row.id for row in quizzes.values()}
    assignments = sa.table(
        "assignments",
        *(
            sa.column(name)
            for name in (
                "course_id", "title", "exercise_id", "quiz_id", "late_policy", "penalty_percent", "penalty_unit",
                "penalty_floor_percent", "reveal_answers", "published", "position", "created_at",
            )
        ),
    )  # fmt: skip
    rows: list[dict[str, Any]] = []
    placed: set[int] = set()
    for exercise in exercises:
        quiz_id = quiz_by_slug.get(_spec_quiz(exercise.spec))
        if quiz_id is not None:
            placed.add(quiz_id)
        rows.append({"title": exercise.title, "exercise_id": exercise.id, "quiz_id": quiz_id})
    rows += [
        {"title": quiz.title, "exercise_id": None, "quiz_id": quiz.id}
        for quiz in quizzes.values()
        if quiz.id not in placed
    ]
    defaults = {
        "course_id": DEFAULT_COURSE_ID, "late_policy": "none", "penalty_percent": 0.0, "penalty_unit": "day",
        "penalty_floor_percent": 0.0, "reveal_answers": "after_last_attempt", "published": False, "created_at": now,
    }  # fmt: skip
    for position, row in enumerate(rows):
        connection.execute(assignments.insert().values(**defaults, **row, position=position))
    connection.execute(
        sa.text(
            "UPDATE submissions SET assignment_id = (SELECT a.id FROM assignments a "
            "WHERE a.course_id = :course AND a.exercise_id = submissions.exercise_id)"
        ),
        {"course": DEFAULT_COURSE_ID},
    )
    connection.execute(
        sa.text(
            "UPDATE quiz_attempts SET assignment_id = (SELECT MIN(a.id) FROM assignments a "
            "WHERE a.course_id = :course AND a.quiz_id = quiz_attempts.quiz_id)"
        ),
        {"course": DEFAULT_COURSE_ID},
    )


def _spec_quiz(spec: Any) -> str | None:
    """The lesson quiz an exercise's stored definition names (JSON text on some drivers)."""
    if isinstance(spec, str):
        spec = json.loads(spec)
    quiz = spec.get("quiz") if isinstance(spec, dict) else None
    return quiz if isinstance(quiz, str) else None


def downgrade() -> None:
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_quiz_attempts_assignment_id_assignments"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_assignment_id"))
        batch_op.drop_column("assignment_id")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_submissions_assignment_id_assignments"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_submissions_assignment_id"))
        batch_op.drop_column("late_factor")
        batch_op.drop_column("assignment_id")
    op.drop_table("extensions")
    op.drop_index("ix_assignments_course_id_position", table_name="assignments")
    op.drop_index(op.f("ix_assignments_quiz_id"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_exercise_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_index("ix_course_members_course_id_role_user_id", table_name="course_members")
    op.drop_index(op.f("ix_course_members_user_id"), table_name="course_members")
    op.drop_table("course_members")
    op.drop_index(op.f("ix_courses_join_code"), table_name="courses")
    op.drop_table("courses")
