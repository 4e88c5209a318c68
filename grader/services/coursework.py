"""What a learner has to do: their assignments in each course, where they stand on each, and the dates in words.

A learner's status on an assignment is the first rule of ``STATUS_RULES`` that holds (rules as
data, walked in order): not open yet, then submitted (or submitted late), then closed, then late
(past due, still taking late work), then extended, then open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session, col, select

from grader.config import Settings, get_settings
from grader.models import Assignment, Course, CourseRole, Exercise, Quiz, QuizAttempt, Submission, User, utcnow
from grader.services import courses, quizzes
from grader.services.errors import NotFound

Status = Literal["not_open", "submitted", "submitted_late", "closed", "late", "extended", "open"]

STATUS_WORDS: dict[Status, str] = {
    "not_open": "not open yet",
    "submitted": "submitted",
    "submitted_late": "submitted late",
    "closed": "closed",
    "late": "late",
    "extended": "extended",
    "open": "open",
}
"""How a page says each status."""


@dataclass(frozen=True)
class LearnerAssignment:
    """One assignment as one learner sees it.

    deadline: their dates (their extension's due date when they have one) at the moment asked.
    best: their graded submission whose counted score (after the late share) is highest, or None.
    quiz_counted: the quiz attempt that counts (per the quiz-scoring setting, on its counted score), or None.
    attempts_left: quiz attempts they may still make (None: unlimited, or no quiz).
    status: see ``STATUS_RULES``.
    """

    course: Course
    role: CourseRole
    assignment: Assignment
    exercise: Exercise | None
    quiz: Quiz | None
    deadline: courses.DeadlineState
    best: Submission | None
    quiz_counted: QuizAttempt | None
    attempts_left: int | None
    has_work: bool
    status: Status

    @property
    def status_words(self) -> str:
        """The status as the page says it."""
        return STATUS_WORDS[self.status]

    @property
    def counts_percent(self) -> str | None:
        """The percent of its score work sent now counts ("75"), or None when it would be refused."""
        factor = self.deadline.late_factor
        return None if factor is None else f"{factor * 100:g}"


@dataclass(frozen=True)
class _Facts:
    deadline: courses.DeadlineState
    not_yet_open: bool
    has_work: bool
    best_late: bool


STATUS_RULES: list[tuple[Status, Callable[[_Facts], bool]]] = [
    ("not_open", lambda f: f.not_yet_open),
    ("submitted_late", lambda f: f.has_work and f.best_late),
    ("submitted", lambda f: f.has_work),
    ("closed", lambda f: f.deadline.due_passed and f.deadline.late_factor is None),
    ("late", lambda f: f.deadline.due_passed),
    ("extended", lambda f: f.deadline.extended),
    ("open", lambda f: True),
]
"""(status, when it holds), tried in order; the last always holds."""


def status_of(deadline: courses.DeadlineState, *, now: datetime, has_work: bool, best_late: bool) -> Status:
    """The first status of ``STATUS_RULES`` that holds for these facts at ``now``."""
    not_yet_open = deadline.opens_at is not None and now < deadline.opens_at
    facts = _Facts(deadline=deadline, not_yet_open=not_yet_open, has_work=has_work, best_late=best_late)
    return next(status for status, holds in STATUS_RULES if holds(facts))


def for_learner(
    *,
    session: Session,
    user: User,
    course_id: int | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> list[LearnerAssignment]:
    """The assignments of the user's courses (or of one), course by course in their order."""
    settings = settings or get_settings()
    now = now or utcnow()
    found: list[LearnerAssignment] = []
    for course, role in courses.for_user(session=session, user=user):
        if course_id is not None and course.id != course_id:
            continue
        for assignment in courses.assignments(session=session, course_id=course.id):
            found.append(_one(session, user, course, role, assignment, settings=settings, now=now))
    return found


def one_for_learner(
    *, session: Session, user: User, assignment: Assignment, settings: Settings | None = None
) -> LearnerAssignment:
    """One assignment as ``user`` sees it now (they must be in its course: ``NotFound`` otherwise)."""
    course = courses.get(session=session, course_id=assignment.course_id)
    role = courses.role_in(session=session, user=user, course_id=course.id)
    if role is None:
        raise NotFound("There is no such assignment.")
    return _one(session, user, course, role, assignment, settings=settings or get_settings(), now=utcnow())


def _one(
    session: Session,
    user: User,
    course: Course,
    role: CourseRole,
    assignment: Assignment,
    *,
    settings: Settings,
    now: datetime,
) -> LearnerAssignment:
    deadline = courses.deadline_state(session=session, assignment=assignment, user_id=user.id, now=now)
    exercise = session.get(Exercise, assignment.exercise_id) if assignment.exercise_id is not None else None
    quiz = session.get(Quiz, assignment.quiz_id) if assignment.quiz_id is not None else None
    made = list(
        session.exec(
            select(Submission).where(col(Submission.assignment_id) == assignment.id, col(Submission.user_id) == user.id)
        )
    )
    graded = [row for row in made if row.counted_score is not None]
    best = max(graded, key=lambda row: (row.counted_score or 0.0, -row.id), default=None)
    attempts = list(
        session.exec(
            select(QuizAttempt).where(
                col(QuizAttempt.assignment_id) == assignment.id, col(QuizAttempt.user_id) == user.id
            )
        )
    )
    counted = quizzes.counted_attempt(attempts, scoring=settings.quiz_scoring)
    left = quizzes.attempts_left(session=session, user=user, quiz=quiz, settings=settings) if quiz else None
    has_work = bool(made or attempts)
    best_late = any(work is not None and work.late_factor < 1.0 for work in (best, counted))
    return LearnerAssignment(
        course=course,
        role=role,
        assignment=assignment,
        exercise=exercise,
        quiz=quiz,
        deadline=deadline,
        best=best,
        quiz_counted=counted,
        attempts_left=left,
        has_work=has_work,
        status=status_of(deadline, now=now, has_work=has_work, best_late=best_late),
    )


def late_policy_sentence(assignment: Assignment) -> str:
    """The late policy in one plain sentence, for the learner."""
    if assignment.due_at is None:
        return "There is no due date: work is taken at any time."
    if assignment.late_policy == "none":
        return "Work sent after the due date is not accepted."
    share = _number(assignment.penalty_percent)
    floor = _number(assignment.penalty_floor_percent)
    return (
        f"Late work is graded, but each started {assignment.penalty_unit} late takes {share}% off what it counts, "
        f"down to {floor}%."
    )


def _number(value: float) -> str:
    return f"{value:g}"
