"""Quiz starts: the seed each opening's order of options is drawn from, and the order an attempt was shown.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quiz_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_id"], ["quizzes.id"], name=op.f("fk_quiz_starts_quiz_id_quizzes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_quiz_starts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_starts")),
    )
    op.create_index(op.f("ix_quiz_starts_quiz_id"), "quiz_starts", ["quiz_id"], unique=False)
    op.create_index("ix_quiz_starts_user_id_quiz_id", "quiz_starts", ["user_id", "quiz_id"], unique=False)
    # Attempts stored before keep None in both: they were shown in the file's order.
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("choice_order", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_quiz_attempts_start_id"), ["start_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_quiz_attempts_start_id_quiz_starts"),
            "quiz_starts",
            ["start_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_quiz_attempts_start_id_quiz_starts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_start_id"))
        batch_op.drop_column("choice_order")
        batch_op.drop_column("start_id")
    op.drop_index("ix_quiz_starts_user_id_quiz_id", table_name="quiz_starts")
    op.drop_index(op.f("ix_quiz_starts_quiz_id"), table_name="quiz_starts")
    op.drop_table("quiz_starts")
