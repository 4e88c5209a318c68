"""Live updates follow a sequence of changes instead of timestamps: no writer's clock is trusted.

``change_sequence`` holds the number of the latest change; each standing and quiz
attempt keeps the number of its last change. Rows already stored are change 1,
so a page opened before the upgrade (its cursor was a time) is sent everything once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    sequence = op.create_table(
        "change_sequence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_sequence")),
    )
    op.bulk_insert(sequence, [{"id": 1, "value": 1}])
    for table in ("exercise_standings", "quiz_attempts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("change", sa.BigInteger(), nullable=False, server_default="1"))
            batch_op.create_index(f"ix_{table}_change", ["change"], unique=False)


def downgrade() -> None:
    for table in ("quiz_attempts", "exercise_standings"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_change")
            batch_op.drop_column("change")
    op.drop_table("change_sequence")
