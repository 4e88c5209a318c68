"""One learner's page (their submissions and attempts in the course) and the cohorts behind a figure.

A cohort is the course's learners whose latest graded submission fails a case or makes a kind of mistake.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from grader.config import Settings
from grader.models import (
    CaseOutcome,
    CourseMember,
    DiagnosisRow,
    Exercise,
    ExerciseStanding,
    QuizAttempt,
    Submission,
    SubmissionResult,
    User,
)
from grader.services.errors import NotFound
from grader.services.gradebook.columns import GradebookRow, columns, rows_for
from grader.services.gradebook.table import PAGE_SIZE
from grader.services.scope import CourseScope
from grader.services.stats import common_mistakes


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

    Someone who is not a learner of the course is ``NotFound``; work made for another course is left out.
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
        .where(col(Submission.user_id) == user_id, col(Submission.assignment_id).in_(scope.assignment_ids()))
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
            select(col(ExerciseStanding.best_submission_id)).where(
                col(ExerciseStanding.user_id) == user_id, col(ExerciseStanding.course_id) == scope.course_id
            )
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
            .where(col(QuizAttempt.user_id) == user_id, col(QuizAttempt.assignment_id).in_(scope.assignment_ids()))
            .order_by(col(QuizAttempt.created_at).desc(), col(QuizAttempt.id).desc())
        )
    )
    return LearnerDetail(user=user, submissions=submissions, shown=shown, attempt_ids=attempt_ids)


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
            and_(
                col(ExerciseStanding.user_id) == col(User.id),
                col(ExerciseStanding.course_id) == scope.course_id,
                col(ExerciseStanding.exercise_id) == exercise.id,
            ),
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
