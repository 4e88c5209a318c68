"""The instructor's gradebook: one row per learner, and its CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from grader.config import Settings, get_settings
from grader.models import Exercise, Quiz, QuizAttempt, Submission, User
from grader.services.errors import NotFound
from grader.services.quizzes import counted_attempt
from grader.services.submissions import best_ids


@dataclass(frozen=True)
class ExerciseStanding:
    """A learner on one exercise: best and latest graded score, and how many submissions."""

    best: float | None
    latest: float | None
    max_score: float
    submissions: int


@dataclass(frozen=True)
class QuizStanding:
    """A learner on one quiz: the attempt that counts (per the quiz-scoring setting)."""

    score: int | None
    max_score: int | None
    attempts: int


@dataclass(frozen=True)
class GradebookRow:
    """One learner's results; ``exercises`` and ``quizzes`` are keyed by slug."""

    user_id: int
    email: str
    display_name: str
    exercises: dict[str, ExerciseStanding]
    quizzes: dict[str, QuizStanding]
    submission_count: int
    last_activity: datetime | None

    def exercise_total(self) -> float:
        """Sum of best scores across exercises."""
        return sum(standing.best or 0.0 for standing in self.exercises.values())


@dataclass(frozen=True)
class Gradebook:
    """Every learner's row, with the exercises and quizzes that make up the columns."""

    exercises: list[Exercise]
    quizzes: list[Quiz]
    rows: list[GradebookRow] = field(default_factory=list)


def build(*, session: Session, settings: Settings | None = None) -> Gradebook:
    """The gradebook of every learner, in name order."""
    settings = settings or get_settings()
    exercises = list(session.exec(select(Exercise).where(Exercise.active).order_by(Exercise.title)))
    quizzes = list(session.exec(select(Quiz).where(Quiz.active).order_by(Quiz.title)))
    learners = list(session.exec(select(User).where(User.role == "learner").order_by(User.display_name, col(User.id))))

    submissions_by_user: dict[int, list[Submission]] = {}
    for submission in session.exec(select(Submission).order_by(col(Submission.created_at), col(Submission.id))):
        submissions_by_user.setdefault(submission.user_id, []).append(submission)
    attempts_by_user: dict[int, list[QuizAttempt]] = {}
    for attempt in session.exec(select(QuizAttempt).order_by(col(QuizAttempt.created_at), col(QuizAttempt.id))):
        attempts_by_user.setdefault(attempt.user_id, []).append(attempt)

    rows = [
        _row(
            learner,
            exercises,
            quizzes,
            submissions_by_user.get(learner.id, []),
            attempts_by_user.get(learner.id, []),
            settings.quiz_scoring,
        )
        for learner in learners
    ]
    return Gradebook(exercises=exercises, quizzes=quizzes, rows=rows)


def _row(
    learner: User,
    exercises: list[Exercise],
    quizzes: list[Quiz],
    submissions: list[Submission],
    attempts: list[QuizAttempt],
    scoring: str,
) -> GradebookRow:
    best = best_ids(submissions)
    standings: dict[str, ExerciseStanding] = {}
    for exercise in exercises:
        to_exercise = [s for s in submissions if s.exercise_id == exercise.id]
        graded = [s for s in to_exercise if s.status == "graded" and s.score is not None]
        standings[exercise.slug] = ExerciseStanding(
            best=next((s.score for s in graded if s.id in best), None),
            latest=graded[-1].score if graded else None,
            max_score=exercise.max_score,
            submissions=len(to_exercise),
        )
    quiz_standings: dict[str, QuizStanding] = {}
    for quiz in quizzes:
        at_quiz = [a for a in attempts if a.quiz_id == quiz.id]
        counted = counted_attempt(at_quiz, scoring=scoring)
        quiz_standings[quiz.slug] = QuizStanding(
            score=counted.score if counted else None,
            max_score=counted.max_score if counted else None,
            attempts=len(at_quiz),
        )
    moments = [s.created_at for s in submissions] + [a.created_at for a in attempts]
    return GradebookRow(
        user_id=learner.id,
        email=learner.email,
        display_name=learner.display_name,
        exercises=standings,
        quizzes=quiz_standings,
        submission_count=len(submissions),
        last_activity=max(moments) if moments else None,
    )


def to_csv(gradebook: Gradebook) -> str:
    """The gradebook as CSV text, one row per learner."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["email", "name"]
    for exercise in gradebook.exercises:
        header += [
            f"{exercise.slug} best",
            f"{exercise.slug} latest",
            f"{exercise.slug} max",
            f"{exercise.slug} submissions",
        ]
    for quiz in gradebook.quizzes:
        header += [f"{quiz.slug} score", f"{quiz.slug} max", f"{quiz.slug} attempts"]
    header += ["submissions", "last activity"]
    writer.writerow(header)
    for row in gradebook.rows:
        line: list[object] = [_safe(row.email), _safe(row.display_name)]
        for exercise in gradebook.exercises:
            exercise_standing = row.exercises[exercise.slug]
            line += [
                _number(exercise_standing.best),
                _number(exercise_standing.latest),
                _number(exercise_standing.max_score),
                exercise_standing.submissions,
            ]
        for quiz in gradebook.quizzes:
            quiz_standing = row.quizzes[quiz.slug]
            line += [_number(quiz_standing.score), _number(quiz_standing.max_score), quiz_standing.attempts]
        line += [row.submission_count, row.last_activity.isoformat(timespec="seconds") if row.last_activity else ""]
        writer.writerow(line)
    return out.getvalue()


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _safe(text: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet; make it plain text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True)
class LearnerDetail:
    """Everything one learner did: submissions (newest first, best marked) and quiz attempts."""

    user: User
    submissions: list[Submission]
    best_submission_ids: set[int]
    attempts: list[QuizAttempt]


def learner_detail(*, session: Session, user_id: int) -> LearnerDetail:
    """One learner's submissions and attempts, for the instructor's learner page."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such learner.")
    submissions = list(
        session.exec(
            select(Submission)
            .where(Submission.user_id == user_id)
            .order_by(col(Submission.created_at).desc(), col(Submission.id).desc())
        )
    )
    attempts = list(
        session.exec(
            select(QuizAttempt)
            .where(QuizAttempt.user_id == user_id)
            .order_by(col(QuizAttempt.created_at).desc(), col(QuizAttempt.id).desc())
        )
    )
    return LearnerDetail(
        user=user, submissions=submissions, best_submission_ids=best_ids(submissions), attempts=attempts
    )
