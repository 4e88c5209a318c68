"""The learners' table: its query (filter, sort, page), one page of it, and the summary line above it.

Filtering, sorting and paging happen in SQL (``matching_learners``); the page's rows come from ``columns.rows_for``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, case, false, or_, union
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from grader.config import Settings, get_settings
from grader.models import Exercise, ExerciseStanding, Quiz, QuizAttempt, Submission, User
from grader.services.gradebook.columns import Columns, GradebookRow, attempt_counted_score, attempt_order, rows_for
from grader.services.gradebook.cursor import current_cursor
from grader.services.numbers import plain_number
from grader.services.scope import CourseScope

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


def page_number(page: str | int) -> int:
    """A page number from a query string: 1 for anything but a positive number of at most 19 digits."""
    number = page if isinstance(page, int) else plain_number(page)
    return max(1, number or 1)


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
                col(ExerciseStanding.course_id) == cols.scope.course_id,
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


def with_last_activity(statement: Any, cols: Columns) -> tuple[Any, Any]:
    """``statement`` (over users) joined with what gives each learner's last activity, and that activity.

    The latest of their standings' last activity (every exercise of the scope, active or not) and their
    latest attempt at a quiz of the scope. ``statement`` keeps only the scope's learners.
    """
    active = (
        select(
            col(ExerciseStanding.user_id).label("user_id"),
            func.max(col(ExerciseStanding.last_activity)).label("moment"),
        )
        .where(
            col(ExerciseStanding.course_id) == cols.scope.course_id,
            col(ExerciseStanding.exercise_id).in_(cols.exercise_ids),
        )
        .group_by(col(ExerciseStanding.user_id))
        .subquery()
    )
    attempted = (
        select(col(QuizAttempt.user_id).label("user_id"), func.max(col(QuizAttempt.created_at)).label("moment"))
        .where(col(QuizAttempt.quiz_id).in_(cols.quiz_ids), col(QuizAttempt.assignment_id).in_(cols.assignment_ids))
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


def matching_learners(
    query: TableQuery, exercise: Exercise | None, quiz: Quiz | None, scoring: str, cols: Columns
) -> tuple[SelectOfScalar[int], Any]:
    """The scope's learners the filter keeps, with the key the table sorts by."""
    scope = cols.scope
    standing_on = and_(
        col(ExerciseStanding.user_id) == col(User.id),
        col(ExerciseStanding.course_id) == scope.course_id,
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
        statement, key = with_last_activity(statement, cols)
    elif query.sort == "quiz" and quiz is not None:
        # The counted attempt's counted score, one index lookup per learner (a window over
        # every attempt, joined, would be evaluated again for each learner by SQLite).
        key = (
            select(attempt_counted_score())
            .where(
                col(QuizAttempt.user_id) == col(User.id),
                col(QuizAttempt.quiz_id) == quiz.id,
                col(QuizAttempt.assignment_id).in_(cols.assignment_ids),
            )
            .order_by(*attempt_order(scoring))
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
    quiz = shown_quiz(cols)
    statement, key = matching_learners(query, exercise, quiz, settings.quiz_scoring, cols)
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
        cursor=current_cursor(session=session, course_id=cols.scope.course_id),
    )


def count_learners(*, session: Session, scope: CourseScope) -> int:
    """How many learners the course has."""
    return session.exec(select(func.count()).select_from(scope.learner_ids().subquery())).one()


@dataclass(frozen=True)
class Summary:
    """Where the course's learners stand on the shown exercise (and the shown quiz), in four numbers.

    submitted: learners with a submission to the exercise; full_marks: those whose best score is its full marks;
    late: those with work counted late (at a reduced share) for one of the scope's assignments: a submission
    to the exercise, or an attempt at the quiz when one is shown.
    """

    learners: int
    submitted: int
    full_marks: int
    late: int


def shown_quiz(cols: Columns) -> Quiz | None:
    """The quiz the learners' table shows beside the exercise: the scope's first by title, if any."""
    return cols.quizzes[0] if cols.quizzes else None


def summary(*, session: Session, scope: CourseScope, exercise: Exercise | None, quiz: Quiz | None = None) -> Summary:
    """The dashboard's summary line for one exercise of the scope (only the learner count without one)."""
    learners = count_learners(session=session, scope=scope)
    if exercise is None:
        return Summary(learners=learners, submitted=0, full_marks=0, late=0)
    full = case((col(ExerciseStanding.best_score) >= exercise.max_score, 1), else_=0)
    submitted, full_marks = session.execute(
        sa_select(func.count(), func.coalesce(func.sum(full), 0)).where(
            col(ExerciseStanding.course_id) == scope.course_id,
            col(ExerciseStanding.exercise_id) == exercise.id,
            col(ExerciseStanding.submissions) > 0,
            col(ExerciseStanding.user_id).in_(scope.learner_ids()),
        )
    ).one()
    return Summary(
        learners=learners,
        submitted=int(submitted),
        full_marks=int(full_marks),
        late=_late_learners(session, scope=scope, exercise=exercise, quiz=quiz),
    )


def _late_learners(session: Session, *, scope: CourseScope, exercise: Exercise, quiz: Quiz | None) -> int:
    """How many of the scope's learners have a submission to ``exercise`` or an attempt at ``quiz`` counted late.

    The submissions' part reads only the late entries of an index on (exercise, late_factor, user); the
    attempts' part reads the quiz's attempts by their quiz index (one small row a learner and try: about
    1 ms on SQLite for 5,000 learners).
    """
    late: Any = sa_select(col(Submission.user_id)).where(
        col(Submission.exercise_id) == exercise.id,
        col(Submission.late_factor) < 1,
        col(Submission.assignment_id).in_(scope.assignment_ids()),
    )
    if quiz is not None:
        late = union(
            late,
            sa_select(col(QuizAttempt.user_id)).where(
                col(QuizAttempt.quiz_id) == quiz.id,
                col(QuizAttempt.late_factor) < 1,
                col(QuizAttempt.assignment_id).in_(scope.assignment_ids()),
            ),
        )
    learners = late.subquery()
    counted = sa_select(func.count(func.distinct(learners.c.user_id))).where(
        learners.c.user_id.in_(scope.learner_ids())
    )
    return int(session.execute(counted).scalar_one())
