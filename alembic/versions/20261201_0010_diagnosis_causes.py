"""Diagnoses keep their cause (the report's stable code for the kind of mistake); backfilled from the stored reports.

The dashboard groups common mistakes by cause: one mistake worded in several
ways (a title that names the key or the line) is counted once. The data step
reads the reports of submissions that have diagnoses, a batch at a time; a
diagnosis whose report names no cause keeps ``other``, as a report read back
without one does.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500

_submissions = sa.table("submissions", sa.column("id", sa.Integer), sa.column("report", sa.JSON))
_diagnoses = sa.table(
    "diagnoses",
    sa.column("submission_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("cause", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("diagnoses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause", sa.String(length=64), nullable=False, server_default="other"))
    backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("diagnoses", schema=None) as batch_op:
        batch_op.drop_column("cause")


def backfill(connection: sa.Connection) -> None:
    """Each stored diagnosis's cause, from its submission's report (matched by position)."""
    update = (
        sa.update(_diagnoses)
        .where(
            _diagnoses.c.submission_id == sa.bindparam("submission"),
            _diagnoses.c.position == sa.bindparam("at"),
        )
        .values(cause=sa.bindparam("code"))
    )
    diagnosed = sa.select(_diagnoses.c.submission_id).distinct().scalar_subquery()
    last_id = 0
    while True:
        batch = connection.execute(
            sa.select(_submissions.c.id, _submissions.c.report)
            .where(_submissions.c.id > last_id, _submissions.c.id.in_(diagnosed))
            .order_by(_submissions.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        changes = []
        for submission_id, report in batch:
            report = report if isinstance(report, dict) else {}
            for position, diagnosis in enumerate(report.get("diagnoses") or []):
                cause = diagnosis.get("cause") if isinstance(diagnosis, dict) else None
                if cause and cause != "other":
                    changes.append({"submission": submission_id, "at": position, "code": str(cause)[:64]})
        if changes:
            connection.execute(update, changes)
        last_id = batch[-1].id
