"""The gradebook as CSV (one streamed query, one line per learner) and as the API's pages of rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from grader.config import Settings, get_settings
from grader.grading.report import format_points
from grader.models import CourseMember, ExerciseStanding, User
from grader.services.gradebook.columns import Columns, GradebookRow, aware, columns, counted_attempts, rows_for
from grader.services.gradebook.table import with_last_activity
from grader.services.scope import CourseScope

EXPORT_CHUNK = 500


def csv_header(cols: Columns) -> list[str]:
    """The CSV's column names."""
    header = ["email", "name"]
    for exercise in cols.exercises:
        header += [f"{exercise.slug} {part}" for part in ("best", "latest", "max", "submissions")]
    for quiz in cols.quizzes:
        header += [f"{quiz.slug} {part}" for part in ("score", "max", "attempts")]
    return [*header, "submissions", "last activity"]


def _export_statement(cols: Columns, scoring: str) -> Any:
    """Every learner of the columns' scope with what the CSV shows, in name order: one row per learner, in one query.

    Per active exercise the stored standing; per active quiz the counted attempt;
    then the submissions to every exercise and the latest activity (standings of
    inactive exercises count too, as in ``rows_for``). Only columns are read: no
    object is made per learner.
    """
    fields: list[Any] = [col(User.email), col(User.display_name)]
    joins: list[tuple[Any, Any]] = []
    for exercise in cols.exercises:
        standing = aliased(ExerciseStanding, name=f"standing_{exercise.id}")
        fields += [col(standing.best_score), col(standing.latest_score), col(standing.submissions)]
        on = and_(
            col(standing.user_id) == col(User.id),
            col(standing.course_id) == cols.scope.course_id,
            col(standing.exercise_id) == exercise.id,
        )
        joins.append((standing, on))
    if cols.quizzes:
        ranked = counted_attempts(
            user_ids=None,
            quiz_ids=[quiz.id for quiz in cols.quizzes],
            assignment_ids=cols.assignment_ids,
            scoring=scoring,
        )
        # Grouped although each group holds just the counted attempt: SQLite then indexes
        # the subquery for the join, where it would scan it again for each learner.
        counted = (
            sa_select(
                ranked.c.user_id,
                ranked.c.quiz_id,
                func.min(ranked.c.score).label("score"),
                func.min(ranked.c.max_score).label("max_score"),
                func.min(ranked.c.attempts).label("attempts"),
            )
            .where(ranked.c.rank == 1)
            .group_by(ranked.c.user_id, ranked.c.quiz_id)
            .cte("counted")
        )
        for quiz in cols.quizzes:
            attempt = counted.alias(f"counted_{quiz.id}")
            fields += [attempt.c.score, attempt.c.max_score, attempt.c.attempts]
            joins.append((attempt, and_(attempt.c.user_id == col(User.id), attempt.c.quiz_id == quiz.id)))
    scope = cols.scope
    submissions = (
        sa_select(func.coalesce(func.sum(col(ExerciseStanding.submissions)), 0))
        .where(
            col(ExerciseStanding.user_id) == col(User.id),
            col(ExerciseStanding.course_id) == scope.course_id,
            col(ExerciseStanding.exercise_id).in_(cols.exercise_ids),
        )
        .scalar_subquery()
    )
    statement = sa_select(*fields).select_from(User)
    for joined, on in joins:
        statement = statement.outerjoin(joined, on)
    statement, moment = with_last_activity(statement, cols)
    return (
        statement.add_columns(submissions, moment)
        .where(col(User.id).in_(scope.learner_ids()))
        .order_by(col(User.display_name), col(User.id))
    )


def _export_line(row: Sequence[Any], maxima: list[str], quizzes: int) -> list[object]:
    """One row of ``_export_statement`` as a CSV line (cells a spreadsheet would run as formulas made plain)."""
    line: list[object] = [_safe(row[0]), _safe(row[1])]
    at = 2
    for maximum in maxima:
        line += [format_points(row[at], missing=""), format_points(row[at + 1], missing=""), maximum, row[at + 2] or 0]
        at += 3
    for _ in range(quizzes):
        line += [format_points(row[at], missing=""), format_points(row[at + 1], missing=""), row[at + 2] or 0]
        at += 3
    submissions, moment = row[at], row[at + 1]
    return [*line, submissions, aware(moment).isoformat(timespec="seconds") if moment is not None else ""]


def iter_csv(*, session: Session, scope: CourseScope, settings: Settings | None = None) -> Iterator[str]:
    """The course's gradebook as CSV text, ``EXPORT_CHUNK`` lines at a time (header first), from one streamed query."""
    settings = settings or get_settings()
    cols = columns(session=session, scope=scope)
    maxima = [format_points(exercise.max_score) for exercise in cols.exercises]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_header(cols))
    # A server-side cursor where the database has one: the rows are read as they are sent.
    result = session.execute(
        _export_statement(cols, settings.quiz_scoring), execution_options={"yield_per": EXPORT_CHUNK}
    )
    for rows in result.partitions():
        writer.writerows(_export_line(row, maxima, len(cols.quizzes)) for row in rows)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


def to_csv(*, session: Session, scope: CourseScope, settings: Settings | None = None) -> str:
    """The course's whole gradebook as CSV text."""
    return "".join(iter_csv(session=session, scope=scope, settings=settings))


def _safe(text: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet; make it plain text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True)
class ApiPage:
    """A page of the gradebook for the API: rows after ``after`` in id order, and the next cursor."""

    rows: list[GradebookRow]
    next_after: int | None


def api_page(
    *, session: Session, scope: CourseScope, after: int, limit: int, settings: Settings | None = None
) -> ApiPage:
    """Up to ``limit`` of the course's learners whose id is above ``after``, by id; ``next_after`` None on the last."""
    ids = list(
        session.exec(
            select(col(CourseMember.user_id))
            .where(
                col(CourseMember.course_id) == scope.course_id,
                col(CourseMember.role) == "learner",
                col(CourseMember.user_id) > after,
            )
            .order_by(col(CourseMember.user_id))
            .limit(limit + 1)
        )
    )
    more = len(ids) > limit
    ids = ids[:limit]
    rows = rows_for(session=session, user_ids=ids, cols=columns(session=session, scope=scope), settings=settings)
    return ApiPage(rows=rows, next_after=ids[-1] if more and ids else None)
