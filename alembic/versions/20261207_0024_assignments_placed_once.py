"""A course places each exercise and each quiz once: unique indexes decide it.

The service refused a second placement by reading the course's assignments before adding
one, so two simultaneous placements could both pass. Two partial unique indexes on
(course_id, exercise_id) and (course_id, quiz_id), over the rows where the column is set,
make the database refuse the second.

A database that already holds such a pair is not changed: the upgrade stops, naming each
course and its assignments, so that an instructor chooses which to keep. Nothing is deleted
here: an assignment carries its dates, extensions and the work made for it.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, the table it names, what it is called in words)
PLACED = (("exercise_id", "exercises", "exercise"), ("quiz_id", "quizzes", "quiz"))


class PlacedTwice(RuntimeError):
    """A course already places an exercise or a quiz in more than one assignment."""


def _index(column: str) -> str:
    return f"uq_assignments_course_id_{column}"


def upgrade() -> None:
    problems = [problem for column, table, word in PLACED for problem in _placed_twice(column, table, word)]
    if problems:
        raise PlacedTwice(
            "Cannot upgrade: a course places each exercise and each quiz once, and\n"
            + "\n".join(f"  - {problem}" for problem in problems)
            + "\nTake all but one of each out of its course (the course's Assignments page in the version "
            "running before this upgrade, or DELETE FROM assignments WHERE id = ...; work made for a removed "
            "assignment stays, counted for no assignment), then upgrade again. Nothing was changed."
        )
    for column, _table, _word in PLACED:
        op.create_index(
            _index(column),
            "assignments",
            ["course_id", column],
            unique=True,
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )


def _placed_twice(column: str, table: str, word: str) -> list[str]:
    """One line per course and exercise (or quiz) placed in more than one of the course's assignments."""
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT a.course_id, c.title AS course, w.slug, a.id, a.title FROM assignments a"
                f" JOIN courses c ON c.id = a.course_id JOIN {table} w ON w.id = a.{column}"
                f" WHERE (a.course_id, a.{column}) IN"
                f" (SELECT course_id, {column} FROM assignments WHERE {column} IS NOT NULL"
                f"  GROUP BY course_id, {column} HAVING count(*) > 1)"
                f" ORDER BY a.course_id, w.slug, a.id"
            )
        )
        .all()
    )
    grouped: dict[tuple[int, str, str], list[str]] = {}
    for course_id, course, slug, assignment_id, title in rows:
        grouped.setdefault((course_id, course, slug), []).append(f"{assignment_id} “{title}”")
    return [
        f"course {course_id} “{course}” places the {word} {slug} in the assignments {', '.join(held)}"
        for (course_id, course, slug), held in grouped.items()
    ]


def downgrade() -> None:
    for column, _table, _word in PLACED:
        op.drop_index(_index(column), table_name="assignments")
