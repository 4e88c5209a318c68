"""The course an audit entry was taken in.

An instructor reads the audit log of the courses they instruct (and their own actions), so every
entry names its course. Entries stored before are given the course their words name: a course
("course 3 (Fall)"), an assignment ("assignment 7 (Echo)", whose course it is), a course's gradebook
("gradebook of course 3"), a regraded submission (the course of its assignment), or the course kept
in their details; an entry that names none keeps no course and is read by its actor alone.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 07:40:00
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COURSE = re.compile(r"\bcourse (\d+)\b")
_ASSIGNMENT = re.compile(r"^assignment (\d+) \(")
_SUBMISSION = re.compile(r"^submission (\d+)$")


def _course_named(connection: sa.Connection, target: str, details: Any) -> int | None:
    """The course an entry's words name, if it still exists."""
    if isinstance(details, str):
        details = json.loads(details)
    words = [target, str(details.get("course", "")) if isinstance(details, dict) else ""]
    for text in words:
        found = _COURSE.search(text)
        if found:
            return connection.execute(
                sa.text("SELECT id FROM courses WHERE id = :id"), {"id": int(found.group(1))}
            ).scalar()
    if found := _ASSIGNMENT.match(target):
        return connection.execute(
            sa.text("SELECT course_id FROM assignments WHERE id = :id"), {"id": int(found.group(1))}
        ).scalar()
    if found := _SUBMISSION.match(target):
        return connection.execute(
            sa.text(
                "SELECT assignments.course_id FROM submissions"
                " JOIN assignments ON assignments.id = submissions.assignment_id WHERE submissions.id = :id"
            ),
            {"id": int(found.group(1))},
        ).scalar()
    return None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("course_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_events_course_id_courses"), "courses", ["course_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_audit_events_course_id_created_at", ["course_id", "created_at"], unique=False)
    connection = op.get_bind()
    entries = connection.execute(sa.text("SELECT id, target, details FROM audit_events")).all()
    for entry_id, target, details in entries:
        course_id = _course_named(connection, target or "", details)
        if course_id is not None:
            connection.execute(
                sa.text("UPDATE audit_events SET course_id = :course WHERE id = :id"),
                {"course": course_id, "id": entry_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_course_id_created_at")
        batch_op.drop_constraint(batch_op.f("fk_audit_events_course_id_courses"), type_="foreignkey")
        batch_op.drop_column("course_id")
