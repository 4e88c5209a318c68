"""Quiz attempts take the late policy: the share of an attempt's score that counts.

Until now a late quiz attempt under a ``penalty`` policy counted in full. Every stored attempt
keeps counting in full (``late_factor`` 1.0); attempts from now on store the share, and a
change of dates, policy or extension recomputes it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 02:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late_factor", sa.Float(), nullable=False, server_default="1.0"))


def downgrade() -> None:
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_column("late_factor")
