"""Each option of a quiz question carries the feedback a learner who picked it reads before the reveal.

Until now a quiz's explanations, which name the right value, were shown after every answer,
before the right option was marked. From now on the explanation waits for the reveal; before
it, the learner reads why the option they picked is or is not right (``choices.feedback``,
from the quiz file). Rows stored before are empty until the content is synced again.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("choices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feedback", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("choices", schema=None) as batch_op:
        batch_op.drop_column("feedback")
