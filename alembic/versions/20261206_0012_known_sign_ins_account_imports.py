"""Known sign-ins (an e-mail's right password from an address) and account imports hashed in the background.

``known_sign_ins`` lets an e-mail that signed in from an address past that address's
ceiling on failed sign-ins; ``account_imports`` follows a CSV import while its
passwords are hashed. Sign-in throttles were counted per e-mail and are now counted per
(e-mail, address) pair: the old per-e-mail counts are dropped.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_sign_ins",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_known_sign_ins")),
    )
    op.create_index(op.f("ix_known_sign_ins_last_success_at"), "known_sign_ins", ["last_success_at"])
    op.create_table(
        "account_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("hashed", sa.Integer(), nullable=False),
        sa.Column("emails", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')", name=op.f("ck_account_imports_status")),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_account_imports_requested_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_imports")),
    )
    op.execute(sa.text("DELETE FROM throttles WHERE key LIKE 'sign-in:account:%'"))


def downgrade() -> None:
    op.drop_table("account_imports")
    op.drop_index(op.f("ix_known_sign_ins_last_success_at"), table_name="known_sign_ins")
    op.drop_table("known_sign_ins")
