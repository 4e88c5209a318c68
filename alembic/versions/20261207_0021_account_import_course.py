"""The course a CSV import of accounts puts its accounts in.

An instructor manages only the accounts of the courses they instruct: an import names the
course its accounts join, and its progress is shown to whoever started it and to that
course's instructors. Imports made before name none (their accounts joined the default course).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 04:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("course_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_account_imports_course_id_courses"), "courses", ["course_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("account_imports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_account_imports_course_id_courses"), type_="foreignkey")
        batch_op.drop_column("course_id")
