"""The gradebook's columns (the scope's exercises and quizzes) and its rows: one learner's results over them.

A row reads the learner's standings in the scope's course and their counted quiz attempts made
for the scope's assignments (``counted_attempts``), never another course's work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from grader.config import Settings, get_settings
from grader.models import Exercise, ExerciseStanding, Quiz, QuizAttempt, User
from grader.services.scope import CourseScope


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
    submission counts and last activity cover); assignment_ids: the scope's assignments (only
    attempts made for them are the course's). Read once: the views' queries name them as plain
    lists, which a planner weighs better than a subquery inside a grouped or windowed one.
    """

    scope: CourseScope
    exercises: list[Exercise]
    quizzes: list[Quiz]
    exercise_ids: list[int]
    quiz_ids: list[int]
    assignment_ids: list[int]


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
        assignment_ids=sorted(session.exec(scope.assignment_ids())),
    )


def attempt_counted_score() -> Any:
    """An attempt's counted score in SQL: its score times its late share (``QuizAttempt.counted_score``)."""
    return col(QuizAttempt.score) * col(QuizAttempt.late_factor)


def attempt_order(scoring: str) -> tuple[Any, ...]:
    """The order that puts a learner's counted attempt first, as ``quizzes.counted_attempt`` chooses it."""
    if scoring == "last":
        return (col(QuizAttempt.created_at).desc(), col(QuizAttempt.id).desc())
    return (attempt_counted_score().desc(), col(QuizAttempt.created_at), col(QuizAttempt.id))


def counted_attempts(
    *, user_ids: Sequence[int] | None, quiz_ids: Sequence[int], assignment_ids: Sequence[int], scoring: str
) -> Any:
    """A subquery: per learner and quiz, the attempt that counts (``rank`` 1), its counted ``score``, and the count.

    Only attempts made for ``assignment_ids`` (the scope's) count: another course's are not this one's.
    """
    order = attempt_order(scoring)
    partition = (col(QuizAttempt.user_id), col(QuizAttempt.quiz_id))
    query = sa_select(
        col(QuizAttempt.user_id),
        col(QuizAttempt.quiz_id),
        attempt_counted_score().label("score"),
        col(QuizAttempt.max_score),
        func.row_number().over(partition_by=partition, order_by=order).label("rank"),
        func.count().over(partition_by=partition).label("attempts"),
    ).where(col(QuizAttempt.quiz_id).in_(quiz_ids), col(QuizAttempt.assignment_id).in_(assignment_ids))
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
            col(ExerciseStanding.user_id).in_(user_ids),
            col(ExerciseStanding.course_id) == cols.scope.course_id,
            col(ExerciseStanding.exercise_id).in_(cols.exercise_ids),
        )
    ):
        standings.setdefault(standing.user_id, []).append(standing)
    counted: dict[tuple[int, int], Any] = {}
    if cols.quizzes:
        ranked = counted_attempts(
            user_ids=user_ids,
            quiz_ids=[quiz.id for quiz in cols.quizzes],
            assignment_ids=cols.assignment_ids,
            scoring=settings.quiz_scoring,
        )
        counted_rows = sa_select(
            ranked.c.user_id, ranked.c.quiz_id, ranked.c.score, ranked.c.max_score, ranked.c.attempts
        ).where(ranked.c.rank == 1)
        for row in session.execute(counted_rows):
            counted[(row.user_id, row.quiz_id)] = row
    last_attempt = dict(
        session.exec(
            select(col(QuizAttempt.user_id), func.max(col(QuizAttempt.created_at)))
            .where(
                col(QuizAttempt.user_id).in_(user_ids),
                col(QuizAttempt.quiz_id).in_(cols.quiz_ids),
                col(QuizAttempt.assignment_id).in_(cols.assignment_ids),
            )
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
            moments.append(aware(last_attempt[user_id]))
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


def aware(moment: datetime | str) -> datetime:
    """A moment read back from the database as an aware UTC datetime."""
    # An aggregate over a timestamp comes back untyped on SQLite (text) and naive there too.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
