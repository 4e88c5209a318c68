"""The instructor's gradebook: what each learner of a course achieved, read from small indexed rows.

Views never read reports: they read what ``standings.py`` records with every
submission and result (per-case outcomes, diagnoses, what a grading came to, each
learner's standing on each exercise). The learners' table, its CSV, the API and the
learner and cohort pages cover one course (a ``CourseScope``): its learners, on the
exercises and quizzes its assignments place. Filtering, sorting and paging happen in
SQL. Links to these views are built by the web layer.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from grader.config import Settings, get_settings
from grader.grading.report import format_points
from grader.models import (
    Assignment,
    CaseOutcome,
    ChangeSequence,
    CourseMember,
    DiagnosisRow,
    Exercise,
    ExerciseStanding,
    Quiz,
    QuizAttempt,
    Submission,
    SubmissionResult,
    User,
)
from grader.services.errors import NotFound
from grader.services.numbers import plain_number
from grader.services.scope import CourseScope
from grader.services.stats import common_mistakes

# --- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseScores:
    """A learner on one exercise: best and latest score, and how many submissions."""

    best: float | None
    latest: float | None
    max_score: float
    submissions: int


@dataclass(frozen=True)
class QuizScores:
    """A learner on one quiz: the counted score (after the late policy) of the attempt that counts."""

    score: float | None
    max_score: int | None
    attempts: int


@dataclass(frozen=True)
class GradebookRow:
    """One learner's results; ``exercises`` and ``quizzes`` are keyed by slug.

    submission_count: submissions to every exercise; last_activity: the latest submission or attempt.
    """

    user_id: int
    email: str
    display_name: str
    exercises: dict[str, ExerciseScores]
    quizzes: dict[str, QuizScores]
    submission_count: int
    last_activity: datetime | None


@dataclass(frozen=True)
class Columns:
    """The scope's active exercises and quizzes, in title order: the gradebook's columns.

    exercise_ids, quiz_ids: every exercise and quiz the scope places, active or not (what its
    submission counts and last activity cover), read once: the views' queries name them as plain
    lists, which a planner weighs better than a subquery inside a grouped or windowed one.
    """

    scope: CourseScope
    exercises: list[Exercise]
    quizzes: list[Quiz]
    exercise_ids: list[int]
    quiz_ids: list[int]


def columns(*, session: Session, scope: CourseScope) -> Columns:
    """The gradebook's columns: what the course's assignments (or the one assignment) place."""
    return Columns(
        scope=scope,
        exercises=list(
            session.exec(
                select(Exercise)
                .where(col(Exercise.active), col(Exercise.id).in_(scope.exercise_ids()))
                .order_by(col(Exercise.title), col(Exercise.id))
            )
        ),
        quizzes=list(
            session.exec(
                select(Quiz)
                .where(col(Quiz.active), col(Quiz.id).in_(scope.quiz_ids()))
                .order_by(col(Quiz.title), col(Quiz.id))
            )
        ),
        exercise_ids=sorted({item for item in session.exec(scope.exercise_ids()) if item is not None}),
        quiz_ids=sorted({item for item in session.exec(scope.quiz_ids()) if item is not None}),
    )


def _attempt_counted_score() -> Any:
    """An attempt's counted score in SQL: its score times its late share (``QuizAttempt.counted_score``)."""
    return col(QuizAttempt.score) * col(QuizAttempt.late_factor)


def _attempt_order(scoring: str) -> tuple[Any, ...]:
    """The order that puts a learner's counted attempt first, as ``quizzes.counted_attempt`` chooses it."""
    if scoring == "last":
        return (col(QuizAttempt.created_at).desc(), col(QuizAttempt.id).desc())
    return (_attempt_counted_score().desc(), col(QuizAttempt.created_at), col(QuizAttempt.id))


def _counted_attempts(*, user_ids: Sequence[int] | None, quiz_ids: Sequence[int], scoring: str) -> Any:
    """A subquery: per learner and quiz, the attempt that counts (``rank`` 1), its counted ``score``, and the count."""
    order = _attempt_order(scoring)
    partition = (col(QuizAttempt.user_id), col(QuizAttempt.quiz_id))
    query = sa_select(
        col(QuizAttempt.user_id),
        col(QuizAttempt.quiz_id),
        _attempt_counted_score().label("score"),
        col(QuizAttempt.max_score),
        func.row_number().over(partition_by=partition, order_by=order).label("rank"),
        func.count().over(partition_by=partition).label("attempts"),
    ).where(col(QuizAttempt.quiz_id).in_(quiz_ids))
    if user_ids is not None:
        query = query.where(col(QuizAttempt.user_id).in_(user_ids))
    return query.subquery()


def rows_for(
    *, session: Session, user_ids: Sequence[int], cols: Columns, settings: Settings | None = None
) -> list[GradebookRow]:
    """The gradebook rows of these learners, in the order given, over the columns' scope."""
    settings = settings or get_settings()
    if not user_ids:
        return []
    people = {
        row.id: row
        for row in session.execute(
            sa_select(col(User.id), col(User.email), col(User.display_name)).where(col(User.id).in_(user_ids))
        )
    }
    standings: dict[int, list[ExerciseStanding]] = {}
    for standing in session.exec(
        select(ExerciseStanding).where(
            col(ExerciseStanding.user_id).in_(user_ids), col(ExerciseStanding.exercise_id).in_(cols.exercise_ids)
        )
    ):
        standings.setdefault(standing.user_id, []).append(standing)
    counted: dict[tuple[int, int], Any] = {}
    if cols.quizzes:
        ranked = _counted_attempts(
            user_ids=user_ids, quiz_ids=[quiz.id for quiz in cols.quizzes], scoring=settings.quiz_scoring
        )
        counted_rows = sa_select(
            ranked.c.user_id, ranked.c.quiz_id, ranked.c.score, ranked.c.max_score, ranked.c.attempts
        ).where(ranked.c.rank == 1)
        for row in session.execute(counted_rows):
            counted[(row.user_id, row.quiz_id)] = row
    last_attempt = dict(
        session.exec(
            select(col(QuizAttempt.user_id), func.max(col(QuizAttempt.created_at)))
            .where(col(QuizAttempt.user_id).in_(user_ids), col(QuizAttempt.quiz_id).in_(cols.quiz_ids))
            .group_by(col(QuizAttempt.user_id))
        ).all()
    )
    rows = []
    for user_id in user_ids:
        person = people.get(user_id)
        if person is None:
            continue
        mine = {standing.exercise_id: standing for standing in standings.get(user_id, [])}
        exercises = {}
        for exercise in cols.exercises:
            found = mine.get(exercise.id)
            exercises[exercise.slug] = ExerciseScores(
                best=found.best_score if found else None,
                latest=found.latest_score if found else None,
                max_score=exercise.max_score,
                submissions=found.submissions if found else 0,
            )
        quizzes = {}
        for quiz in cols.quizzes:
            attempt = counted.get((user_id, quiz.id))
            quizzes[quiz.slug] = QuizScores(
                score=attempt.score if attempt else None,
                max_score=attempt.max_score if attempt else None,
                attempts=attempt.attempts if attempt else 0,
            )
        moments = [s.last_activity for s in mine.values() if s.last_activity is not None]
        if last_attempt.get(user_id) is not None:
            moments.append(_aware(last_attempt[user_id]))
        rows.append(
            GradebookRow(
                user_id=user_id,
                email=person.email,
                display_name=person.display_name,
                exercises=exercises,
                quizzes=quizzes,
                submission_count=sum(s.submissions for s in mine.values()),
                last_activity=max(moments) if moments else None,
            )
        )
    return rows


def _aware(moment: datetime | str) -> datetime:
    # An aggregate over a timestamp comes back untyped on SQLite (text) and naive there too.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- the learners' table: filter, sort, page ------------------------------------------------


PAGE_SIZE = 50
SORTS = ("name", "email", "best", "latest", "submissions", "activity", "quiz")
SHOWS = {
    "all": "Every learner",
    "submitted": "Has submitted to this exercise",
    "not-submitted": "Has not submitted to this exercise",
    "full": "Full marks on this exercise",
    "not-full": "Not yet full marks on this exercise",
}
MAX_SEARCH = 200


@dataclass(frozen=True)
class TableQuery:
    """How the learners' table is filtered, sorted and paged; ``table_query`` fills in the defaults."""

    exercise: str = ""
    q: str = ""
    show: str = "all"
    sort: str = "name"
    order: str = "asc"
    page: int = 1
    assignment: int | None = None

    def sorted_by(self, key: str) -> TableQuery:
        """The query sorted by ``key`` (flipping the order when already sorted by it), from page 1."""
        order = "desc" if self.sort == key and self.order == "asc" else "asc"
        return replace(self, sort=key, order=order, page=1)

    def differences(self) -> dict[str, str | int]:
        """What differs from the defaults (the exercise always), for a link to the same table."""
        defaults = vars(TableQuery())
        kept = {key: value for key, value in vars(self).items() if key == "exercise" or value != defaults[key]}
        return {key: value for key, value in kept.items() if value not in ("", None)}


def table_query(
    *,
    session: Session,
    cols: Columns,
    exercise: str = "",
    q: str = "",
    show: str = "all",
    sort: str = "name",
    order: str = "asc",
    page: str | int = 1,
) -> TableQuery:
    """The query with unknown values replaced by defaults (a bad link still shows the table).

    The assignment filter is the columns' scope's: it was checked when the scope was made.
    """
    slugs = [item.slug for item in cols.exercises]
    if exercise not in slugs:
        exercise = busiest_exercise(session=session, cols=cols)
    return TableQuery(
        exercise=exercise,
        q=q.strip()[:MAX_SEARCH],
        show=show if show in SHOWS else "all",
        sort=sort if sort in SORTS else "name",
        order=order if order in ("asc", "desc") else "asc",
        page=page_number(page),
        assignment=cols.scope.assignment_id,
    )


def busiest_exercise(*, session: Session, cols: Columns) -> str:
    """The column exercise with the most submissions from the scope's learners (the first by title when none)."""
    if not cols.exercises:
        return ""
    counts = dict(
        session.exec(
            select(col(ExerciseStanding.exercise_id), func.sum(col(ExerciseStanding.submissions)))
            .where(
                col(ExerciseStanding.exercise_id).in_([item.id for item in cols.exercises]),
                col(ExerciseStanding.user_id).in_(cols.scope.learner_ids()),
            )
            .group_by(col(ExerciseStanding.exercise_id))
        ).all()
    )
    return max(cols.exercises, key=lambda item: (counts.get(item.id) or 0, -cols.exercises.index(item))).slug


@dataclass(frozen=True)
class TablePage:
    """One page of the learners' table.

    learners: every learner of the course; matching: those the filter keeps; rows: this page's.
    cursor: where live updates start from (see ``changes``).
    """

    query: TableQuery
    cols: Columns
    exercise: Exercise | None
    quiz: Quiz | None
    rows: list[GradebookRow]
    learners: int
    matching: int
    page: int
    pages: int
    cursor: str

    @property
    def first_number(self) -> int:
        """The position of the page's first row among the matching learners (1-based)."""
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last_number(self) -> int:
        """The position of the page's last row."""
        return self.first_number + len(self.rows) - 1 if self.rows else 0


def _with_last_activity(statement: Any, cols: Columns) -> tuple[Any, Any]:
    """``statement`` (over users) joined with what gives each learner's last activity, and that activity.

    The latest of their standings' last activity (every exercise of the scope, active or not) and their
    latest attempt at a quiz of the scope. ``statement`` keeps only the scope's learners.
    """
    active = (
        select(
            col(ExerciseStanding.user_id).label("user_id"),
            func.max(col(ExerciseStanding.last_activity)).label("moment"),
        )
        .where(col(ExerciseStanding.exercise_id).in_(cols.exercise_ids))
        .group_by(col(ExerciseStanding.user_id))
        .subquery()
    )
    attempted = (
        select(col(QuizAttempt.user_id).label("user_id"), func.max(col(QuizAttempt.created_at)).label("moment"))
        .where(col(QuizAttempt.quiz_id).in_(cols.quiz_ids))
        .group_by(col(QuizAttempt.user_id))
        .subquery()
    )
    statement = statement.outerjoin(active, active.c.user_id == col(User.id)).outerjoin(
        attempted, attempted.c.user_id == col(User.id)
    )
    moment = case(
        (active.c.moment.is_(None), attempted.c.moment),
        (attempted.c.moment.is_(None), active.c.moment),
        (active.c.moment > attempted.c.moment, active.c.moment),
        else_=attempted.c.moment,
    )
    return statement, moment


def _filtered(
    query: TableQuery, exercise: Exercise | None, quiz: Quiz | None, scoring: str, cols: Columns
) -> tuple[SelectOfScalar[int], Any]:
    """The scope's learners the filter keeps, with the key the table sorts by."""
    scope = cols.scope
    standing_on = and_(
        col(ExerciseStanding.user_id) == col(User.id),
        col(ExerciseStanding.exercise_id) == (exercise.id if exercise else -1),
    )
    statement = (
        select(col(User.id)).outerjoin(ExerciseStanding, standing_on).where(col(User.id).in_(scope.learner_ids()))
    )
    needle = query.q.lower()
    if needle:
        statement = statement.where(
            or_(
                func.lower(col(User.display_name)).contains(needle, autoescape=True),
                func.lower(col(User.email)).contains(needle, autoescape=True),
            )
        )
    submitted = func.coalesce(col(ExerciseStanding.submissions), 0) > 0
    full = (
        and_(col(ExerciseStanding.best_score).is_not(None), col(ExerciseStanding.best_score) >= exercise.max_score)
        if exercise is not None
        else false()
    )
    condition = {"submitted": submitted, "not-submitted": ~submitted, "full": full, "not-full": ~full}.get(query.show)
    if condition is not None:
        statement = statement.where(condition)

    key: Any
    if query.sort == "email":
        key = col(User.email)
    elif query.sort == "best":
        key = col(ExerciseStanding.best_score)
    elif query.sort == "latest":
        key = col(ExerciseStanding.latest_score)
    elif query.sort == "submissions":
        key = func.coalesce(col(ExerciseStanding.submissions), 0)
    elif query.sort == "activity":
        statement, key = _with_last_activity(statement, cols)
    elif query.sort == "quiz" and quiz is not None:
        # The counted attempt's counted score, one index lookup per learner (a window over
        # every attempt, joined, would be evaluated again for each learner by SQLite).
        key = (
            select(_attempt_counted_score())
            .where(col(QuizAttempt.user_id) == col(User.id), col(QuizAttempt.quiz_id) == quiz.id)
            .order_by(*_attempt_order(scoring))
            .limit(1)
            .scalar_subquery()
        )
    else:
        key = func.lower(col(User.display_name))
    return statement, key


def table(*, session: Session, query: TableQuery, cols: Columns, settings: Settings | None = None) -> TablePage:
    """One page of the learners' table: filtered, sorted and paged in the database."""
    settings = settings or get_settings()
    exercise = next((item for item in cols.exercises if item.slug == query.exercise), None)
    quiz = cols.quizzes[0] if cols.quizzes else None
    statement, key = _filtered(query, exercise, quiz, settings.quiz_scoring, cols)
    matching = session.exec(select(func.count()).select_from(statement.subquery())).one()
    learners = count_learners(session=session, scope=cols.scope)
    pages = max(1, math.ceil(matching / PAGE_SIZE))
    page = min(query.page, pages)
    direction = key.desc() if query.order == "desc" else key.asc()
    ids = list(
        session.exec(
            statement.order_by(key.is_(None), direction, func.lower(col(User.display_name)), col(User.id))
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    return TablePage(
        query=replace(query, page=page),
        cols=cols,
        exercise=exercise,
        quiz=quiz,
        rows=rows_for(session=session, user_ids=ids, cols=cols, settings=settings),
        learners=learners,
        matching=matching,
        page=page,
        pages=pages,
        cursor=current_cursor(session=session),
    )


def count_learners(*, session: Session, scope: CourseScope) -> int:
    """How many learners the course has."""
    return session.exec(select(func.count()).select_from(scope.learner_ids().subquery())).one()


@dataclass(frozen=True)
class Summary:
    """Where the course's learners stand on one exercise, in four numbers.

    submitted: learners with a submission to it; full_marks: those whose best score is its full marks;
    late: those with a submission counted late (at a reduced share) for one of the course's assignments.
    """

    learners: int
    submitted: int
    full_marks: int
    late: int


def summary(*, session: Session, scope: CourseScope, exercise: Exercise | None) -> Summary:
    """The dashboard's summary line for one exercise of the scope (only the learner count without one)."""
    learners = count_learners(session=session, scope=scope)
    if exercise is None:
        return Summary(learners=learners, submitted=0, full_marks=0, late=0)
    full = case((col(ExerciseStanding.best_score) >= exercise.max_score, 1), else_=0)
    submitted, full_marks = session.execute(
        sa_select(func.count(), func.coalesce(func.sum(full), 0)).where(
            col(ExerciseStanding.exercise_id) == exercise.id,
            col(ExerciseStanding.submissions) > 0,
            col(ExerciseStanding.user_id).in_(scope.learner_ids()),
        )
    ).one()
    late = session.exec(
        select(func.count(func.distinct(col(Submission.user_id)))).where(
            col(Submission.exercise_id) == exercise.id,
            col(Submission.late_factor) < 1,
            col(Submission.assignment_id).in_(
                select(col(Assignment.id)).where(col(Assignment.course_id) == scope.course_id)
            ),
            col(Submission.user_id).in_(scope.learner_ids()),
        )
    ).one()
    return Summary(learners=learners, submitted=int(submitted), full_marks=int(full_marks), late=int(late))


# --- live updates ---------------------------------------------------------------------------


MAX_CURSOR = 2**63 - 1


def page_number(page: str | int) -> int:
    """A page number from a query string: 1 for anything but a positive number of at most 19 digits."""
    number = page if isinstance(page, int) else plain_number(page)
    return max(1, number or 1)


def current_cursor(*, session: Session) -> str:
    """A cursor for ``changes``: the number of the latest change (every change up to it is committed)."""
    value = session.exec(select(col(ChangeSequence.value)).where(col(ChangeSequence.id) == 1)).first()
    return str(value or 0)


def _cursor_number(cursor: str | None) -> int:
    # Anything but a number the sequence could have reached (a page from before the
    # sequence, whose cursor was a time; a made-up value) counts as the start: all is sent once.
    number = plain_number(cursor or "")
    return number if number is not None and number <= MAX_CURSOR else 0


@dataclass(frozen=True)
class Changes:
    """What changed since a cursor: the changed learners' rows (those the filter keeps) and the next cursor."""

    cursor: str
    rows: list[GradebookRow]
    changed: int

    @property
    def nothing(self) -> bool:
        """Whether nothing changed at all."""
        return self.changed == 0


MAX_CHANGED_ROWS = PAGE_SIZE * 4


def has_changed(*, session: Session, since: str | None) -> bool:
    """Whether anything the views show changed after ``since`` (one row read by its key)."""
    return int(current_cursor(session=session)) != _cursor_number(since)


def changes(
    *,
    session: Session,
    since: str | None,
    query: TableQuery,
    cols: Columns,
    settings: Settings | None = None,
) -> Changes:
    """Rows of the scope's learners whose results changed after ``since``; cheap when nothing did."""
    settings = settings or get_settings()
    cursor = current_cursor(session=session)
    if since and not has_changed(session=session, since=since):
        return Changes(cursor=since, rows=[], changed=0)
    after = _cursor_number(since)
    if after > int(cursor):  # not a cursor of this database's sequence: start again
        after = 0
    # A change in another course takes a number too: only this course's learners count.
    learners = cols.scope.learner_ids()
    changed_ids = set(
        session.exec(
            select(col(ExerciseStanding.user_id)).where(
                col(ExerciseStanding.change) > after, col(ExerciseStanding.user_id).in_(learners)
            )
        ).all()
    ) | set(
        session.exec(
            select(col(QuizAttempt.user_id)).where(
                col(QuizAttempt.change) > after, col(QuizAttempt.user_id).in_(learners)
            )
        ).all()
    )
    exercise = next((item for item in cols.exercises if item.slug == query.exercise), None)
    quiz = cols.quizzes[0] if cols.quizzes else None
    statement, _key = _filtered(query, exercise, quiz, settings.quiz_scoring, cols)
    kept = (
        sorted(set(session.exec(statement.where(col(User.id).in_(changed_ids)))))[:MAX_CHANGED_ROWS]
        if changed_ids
        else []
    )
    return Changes(
        cursor=cursor,
        rows=rows_for(session=session, user_ids=kept, cols=cols, settings=settings),
        changed=len(changed_ids),
    )


# --- export -------------------------------------------------------------------------------


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
        joins.append((standing, and_(col(standing.user_id) == col(User.id), col(standing.exercise_id) == exercise.id)))
    if cols.quizzes:
        ranked = _counted_attempts(user_ids=None, quiz_ids=[quiz.id for quiz in cols.quizzes], scoring=scoring)
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
        .where(col(ExerciseStanding.user_id) == col(User.id), col(ExerciseStanding.exercise_id).in_(cols.exercise_ids))
        .scalar_subquery()
    )
    statement = sa_select(*fields).select_from(User)
    for joined, on in joins:
        statement = statement.outerjoin(joined, on)
    statement, moment = _with_last_activity(statement, cols)
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
    return [*line, submissions, _aware(moment).isoformat(timespec="seconds") if moment is not None else ""]


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


# --- one learner ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionLine:
    """A submission in a learner's list: what its grading came to, without its report."""

    submission: Submission
    exercise_title: str
    result: SubmissionResult | None
    diagnoses: list[str]
    is_best: bool


@dataclass(frozen=True)
class LearnerDetail:
    """One learner: submissions newest first (one of them ``shown`` in full) and quiz attempt ids."""

    user: User
    submissions: list[SubmissionLine]
    shown: Submission | None
    attempt_ids: list[int]


SUBMISSION_FIELDS = (
    "id",
    "user_id",
    "exercise_id",
    "filename",
    "status",
    "score",
    "max_score",
    "created_at",
    "finished_at",
)
"""What the learner page's list shows of a submission: never its source or report."""


def learner_detail(*, session: Session, scope: CourseScope, user_id: int, shown_id: int | None = None) -> LearnerDetail:
    """One learner's submissions and attempts in the course; the report of only one submission is read.

    Someone who is not a learner of the course is ``NotFound``; work on another course's exercises is left out.
    """
    scope = scope.whole_course()
    member = session.get(CourseMember, (scope.course_id, user_id))
    user = session.get(User, user_id) if member is not None and member.role == "learner" else None
    if user is None:
        raise NotFound("This course has no such learner.")
    fields: list[Any] = [getattr(Submission, name) for name in SUBMISSION_FIELDS]
    lines = session.execute(
        sa_select(*fields, col(Exercise.title), SubmissionResult)
        .join(Exercise, col(Exercise.id) == col(Submission.exercise_id))
        .outerjoin(SubmissionResult, col(SubmissionResult.submission_id) == col(Submission.id))
        .where(col(Submission.user_id) == user_id, col(Submission.exercise_id).in_(scope.exercise_ids()))
        .order_by(col(Submission.created_at).desc(), col(Submission.id).desc())
    ).all()
    ids = [line.id for line in lines]
    titles: dict[int, list[str]] = {}
    if ids:
        for submission_id, title in session.exec(
            select(col(DiagnosisRow.submission_id), col(DiagnosisRow.title))
            .where(col(DiagnosisRow.submission_id).in_(ids))
            .order_by(col(DiagnosisRow.submission_id), col(DiagnosisRow.position))
        ):
            titles.setdefault(submission_id, []).append(title)
    best = set(
        session.exec(
            select(col(ExerciseStanding.best_submission_id)).where(col(ExerciseStanding.user_id) == user_id)
        ).all()
    )
    submissions = [
        SubmissionLine(
            submission=Submission.model_construct(**{name: getattr(line, name) for name in SUBMISSION_FIELDS}),
            exercise_title=line.title,
            result=line.SubmissionResult,
            diagnoses=titles.get(line.id, []),
            is_best=line.id in best,
        )
        for line in lines
    ]
    if shown_id is not None and shown_id not in ids:
        raise NotFound("No such submission of this learner.")
    wanted = shown_id if shown_id is not None else (ids[0] if ids else None)
    shown = session.get(Submission, wanted) if wanted is not None else None
    attempt_ids = list(
        session.exec(
            select(col(QuizAttempt.id))
            .where(col(QuizAttempt.user_id) == user_id, col(QuizAttempt.quiz_id).in_(scope.quiz_ids()))
            .order_by(col(QuizAttempt.created_at).desc(), col(QuizAttempt.id).desc())
        )
    )
    return LearnerDetail(user=user, submissions=submissions, shown=shown, attempt_ids=attempt_ids)


# --- who is behind a figure -------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    """The learners behind one figure of the dashboard (a failing case, a common mistake)."""

    title: str
    description: str
    exercise: Exercise
    rows: list[GradebookRow]
    total: int
    page: int
    pages: int


def _cohort(
    session: Session,
    *,
    scope: CourseScope,
    exercise: Exercise,
    condition: ColumnElement[bool],
    joined: Any,
    on: Any,
    page: int,
    settings: Settings | None,
) -> tuple[list[GradebookRow], int, int, int]:
    statement = (
        select(col(User.id))
        .join(
            ExerciseStanding,
            and_(col(ExerciseStanding.user_id) == col(User.id), col(ExerciseStanding.exercise_id) == exercise.id),
        )
        .join(joined, on)
        .where(col(User.id).in_(scope.learner_ids()), condition)
        .distinct()
    )
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages)
    ordered = (
        select(col(User.id))
        .where(col(User.id).in_(statement))
        .order_by(func.lower(col(User.display_name)), col(User.id))
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    ids = list(session.exec(ordered))
    cols = columns(session=session, scope=scope)
    return rows_for(session=session, user_ids=ids, cols=cols, settings=settings), total, page, pages


def failing_case(
    *,
    session: Session,
    scope: CourseScope,
    exercise_slug: str,
    case_name: str,
    page: int = 1,
    settings: Settings | None = None,
) -> Cohort:
    """The course's learners whose latest result fails ``case_name``."""
    exercise = scoped_exercise(session=session, scope=scope, slug=exercise_slug)
    rows, total, page, pages = _cohort(
        session,
        scope=scope,
        exercise=exercise,
        joined=CaseOutcome,
        on=col(CaseOutcome.submission_id) == col(ExerciseStanding.latest_submission_id),
        condition=and_(col(CaseOutcome.name) == case_name, ~col(CaseOutcome.passed)),
        page=page,
        settings=settings,
    )
    return Cohort(
        title=f"Learners failing “{case_name}”",
        description="Their latest graded submission fails this case.",
        exercise=exercise,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
    )


def with_mistake(
    *,
    session: Session,
    scope: CourseScope,
    exercise_slug: str,
    cause: str,
    page: int = 1,
    settings: Settings | None = None,
) -> Cohort:
    """The course's learners whose latest result carries a diagnosis of this ``cause``, under its most common title."""
    exercise = scoped_exercise(session=session, scope=scope, slug=exercise_slug)
    rows, total, page, pages = _cohort(
        session,
        scope=scope,
        exercise=exercise,
        joined=DiagnosisRow,
        on=col(DiagnosisRow.submission_id) == col(ExerciseStanding.latest_submission_id),
        condition=col(DiagnosisRow.cause) == cause,
        page=page,
        settings=settings,
    )
    found = common_mistakes(session=session, exercise=exercise, scope=scope, cause=cause)
    return Cohort(
        title=f"Learners with “{found[0].title if found else cause}”",
        description="Their latest graded submission got this diagnosis.",
        exercise=exercise,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
    )


def scoped_exercise(*, session: Session, scope: CourseScope, slug: str) -> Exercise:
    """The exercise with this slug if the course places it; ``NotFound`` otherwise."""
    exercise = session.exec(
        select(Exercise).where(col(Exercise.slug) == slug, col(Exercise.id).in_(scope.exercise_ids()))
    ).first()
    if exercise is None:
        raise NotFound("This course has no such exercise.")
    return exercise
