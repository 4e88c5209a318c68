"""What the instructor's views need, stored with each result; backfilled from the stored reports.

Four tables: ``submission_results`` (what a grading came to), ``case_outcomes``
(each case passed or not), ``diagnoses`` (the report's diagnoses, when it has
them) and ``exercise_standings`` (each learner's best, latest, count and last
activity per exercise); and indexes for the dashboard's aggregates. The data
step reads every stored report once, a batch at a time, so a course database of
the previous version upgrades in place with ``autograder migrate``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 05:21:08
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def upgrade() -> None:
    op.create_table(
        "case_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_case_outcomes_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_outcomes")),
    )
    with op.batch_alter_table("case_outcomes", schema=None) as batch_op:
        batch_op.create_index("ix_case_outcomes_submission_id_name", ["submission_id", "name"], unique=False)

    op.create_table(
        "diagnoses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("fix", sa.Text(), nullable=False),
        sa.Column("cases", sa.JSON(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_diagnoses_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnoses")),
    )
    with op.batch_alter_table("diagnoses", schema=None) as batch_op:
        batch_op.create_index("ix_diagnoses_submission_id_position", ["submission_id", "position"], unique=False)

    op.create_table(
        "exercise_standings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("last_activity", sa.DateTime(timezone=True), nullable=True),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column("best_submission_id", sa.Integer(), nullable=True),
        sa.Column("latest_score", sa.Float(), nullable=True),
        sa.Column("latest_submission_id", sa.Integer(), nullable=True),
        sa.Column("latest_error_kind", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["best_submission_id"],
            ["submissions.id"],
            name=op.f("fk_exercise_standings_best_submission_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_exercise_standings_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["latest_submission_id"],
            ["submissions.id"],
            name=op.f("fk_exercise_standings_latest_submission_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_exercise_standings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "exercise_id", name=op.f("pk_exercise_standings")),
    )
    with op.batch_alter_table("exercise_standings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exercise_standings_exercise_id_best_score", ["exercise_id", "best_score"], unique=False
        )
        batch_op.create_index("ix_exercise_standings_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "submission_results",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("error_kind", sa.String(length=32), nullable=True),
        sa.Column("cases_passed", sa.Integer(), nullable=False),
        sa.Column("cases_total", sa.Integer(), nullable=False),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_results_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_submission_results")),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index("ix_submissions_exercise_id_created_at", ["exercise_id", "created_at"], unique=False)
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_quiz_attempts_created_at", ["created_at"], unique=False)
    backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_attempts_created_at")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_exercise_id_created_at")
    op.drop_table("submission_results")
    with op.batch_alter_table("exercise_standings", schema=None) as batch_op:
        batch_op.drop_index("ix_exercise_standings_updated_at")
        batch_op.drop_index("ix_exercise_standings_exercise_id_best_score")

    op.drop_table("exercise_standings")
    with op.batch_alter_table("diagnoses", schema=None) as batch_op:
        batch_op.drop_index("ix_diagnoses_submission_id_position")

    op.drop_table("diagnoses")
    with op.batch_alter_table("case_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_case_outcomes_submission_id_name")

    op.drop_table("case_outcomes")


# --- the data step: a frozen copy of what ``gradebook.record_result`` derives ----------------

_submissions = sa.table(
    "submissions",
    sa.column("id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("exercise_id", sa.Integer),
    sa.column("score", sa.Float),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("report", sa.JSON),
)
_results = sa.table(
    "submission_results",
    sa.column("submission_id", sa.Integer),
    sa.column("error_kind", sa.String),
    sa.column("cases_passed", sa.Integer),
    sa.column("cases_total", sa.Integer),
    sa.column("graded_at", sa.DateTime(timezone=True)),
)
_outcomes = sa.table(
    "case_outcomes",
    sa.column("submission_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("passed", sa.Boolean),
)
_diagnoses = sa.table(
    "diagnoses",
    sa.column("submission_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("title", sa.Text),
    sa.column("explanation", sa.Text),
    sa.column("fix", sa.Text),
    sa.column("cases", sa.JSON),
    sa.column("line", sa.Integer),
)
_standings = sa.table(
    "exercise_standings",
    sa.column("user_id", sa.Integer),
    sa.column("exercise_id", sa.Integer),
    sa.column("submissions", sa.Integer),
    sa.column("last_activity", sa.DateTime(timezone=True)),
    sa.column("best_score", sa.Float),
    sa.column("best_submission_id", sa.Integer),
    sa.column("latest_score", sa.Float),
    sa.column("latest_submission_id", sa.Integer),
    sa.column("latest_error_kind", sa.String),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def backfill(connection: sa.Connection) -> None:
    """Derive the four tables from the submissions already stored."""
    now = datetime.now(UTC)
    error_kinds = _backfill_results(connection, now)
    _backfill_standings(connection, error_kinds, now)


def _backfill_results(connection: sa.Connection, now: datetime) -> dict[int, str | None]:
    """Outcomes, diagnoses and results of every scored submission; returns each one's error kind."""
    kinds: dict[int, str | None] = {}
    last_id = 0
    while True:
        batch = connection.execute(
            sa.select(_submissions.c.id, _submissions.c.report)
            .where(_submissions.c.id > last_id, _submissions.c.report.is_not(None), _submissions.c.score.is_not(None))
            .order_by(_submissions.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return kinds
        results, outcomes, diagnoses = [], [], []
        for submission_id, report in batch:
            report = report if isinstance(report, dict) else {}
            cases = [case for case in report.get("tests") or [] if isinstance(case, dict)]
            error = report.get("error") or {}
            kind = str(error.get("kind"))[:32] if error else None
            kinds[submission_id] = kind
            passed = [case.get("status") == "passed" for case in cases]
            results.append(
                {
                    "submission_id": submission_id,
                    "error_kind": kind,
                    "cases_passed": sum(passed),
                    "cases_total": len(cases),
                    "graded_at": now,
                }
            )
            outcomes += [
                {"submission_id": submission_id, "name": str(case.get("name", ""))[:200], "passed": ok}
                for case, ok in zip(cases, passed, strict=True)
            ]
            for position, diagnosis in enumerate(report.get("diagnoses") or []):
                if not isinstance(diagnosis, dict) or not diagnosis.get("title"):
                    continue
                line = diagnosis.get("line")
                diagnoses.append(
                    {
                        "submission_id": submission_id,
                        "position": position,
                        "title": str(diagnosis["title"]),
                        "explanation": str(diagnosis.get("explanation") or ""),
                        "fix": str(diagnosis.get("fix") or ""),
                        "cases": [str(name) for name in diagnosis.get("cases") or []],
                        "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
                    }
                )
        for table, rows in ((_results, results), (_outcomes, outcomes), (_diagnoses, diagnoses)):
            if rows:
                connection.execute(table.insert(), rows)
        last_id = batch[-1][0]


def _backfill_standings(connection: sa.Connection, error_kinds: dict[int, str | None], now: datetime) -> None:
    """One standing per learner and exercise with submissions: best, latest, count, last activity."""
    rows = connection.execute(
        sa.select(
            _submissions.c.user_id,
            _submissions.c.exercise_id,
            _submissions.c.id,
            _submissions.c.score,
            _submissions.c.created_at,
        ).order_by(_submissions.c.user_id, _submissions.c.exercise_id, _submissions.c.created_at, _submissions.c.id)
    ).all()
    pending: list[dict] = []
    current: dict | None = None
    for user_id, exercise_id, submission_id, score, created_at in rows:
        if current is None or (current["user_id"], current["exercise_id"]) != (user_id, exercise_id):
            if current is not None:
                pending.append(current)
            current = {
                "user_id": user_id,
                "exercise_id": exercise_id,
                "submissions": 0,
                "last_activity": None,
                "best_score": None,
                "best_submission_id": None,
                "latest_score": None,
                "latest_submission_id": None,
                "latest_error_kind": None,
                "updated_at": now,
            }
        current["submissions"] += 1
        current["last_activity"] = created_at  # rows come oldest first
        if score is not None:
            if current["best_score"] is None or score > current["best_score"]:
                current["best_score"], current["best_submission_id"] = score, submission_id
            current["latest_score"], current["latest_submission_id"] = score, submission_id
            current["latest_error_kind"] = error_kinds.get(submission_id)
        if len(pending) >= BATCH:
            connection.execute(_standings.insert(), pending)
            pending = []
    if current is not None:
        pending.append(current)
    if pending:
        connection.execute(_standings.insert(), pending)
