"""Plain functions that put rows in a test database."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlmodel import Session, select

from grader.grading.report import CaseResult, GradingError, HttpExchange, Report
from grader.models import DEFAULT_COURSE_ID, CourseMember, Exercise, Submission, User, utcnow
from grader.services import courses, standings
from grader.services.users import hash_password

_numbers = itertools.count(1)

MISSPELT_KEY = {
    "title": "Misspelt key `received`",
    "explanation": "The key is spelt differently.",
    "fix": "Write `received`.",
    "cases": ["hi"],
    "line": 4,
    "cause": "misspelt_key",
}
"""A report's diagnosis of a misspelt key on the case "hi", to add to a ``make_report`` report's ``diagnoses``."""

# Hashing with argon2 is deliberately slow; one hash serves every factory-made account.
DEFAULT_PASSWORD = "correct horse battery"
_DEFAULT_HASH = hash_password(DEFAULT_PASSWORD)


def make_user(session: Session, *, role: str = "learner", email: str | None = None, name: str | None = None) -> User:
    """An account whose password is ``DEFAULT_PASSWORD``."""
    number = next(_numbers)
    user = User(
        email=email or f"person{number}@example.org",
        display_name=name or f"Person {number}",
        role=role,
        password_hash=_DEFAULT_HASH,
    )
    session.add(user)
    session.flush()
    # As every account made outside a course: a member of the default course with its role.
    session.add(CourseMember(course_id=DEFAULT_COURSE_ID, user_id=user.id, role=role))
    session.commit()
    session.refresh(user)
    return user


def exercise(session: Session, slug: str = "message-echo") -> Exercise:
    """A synced exercise row."""
    return session.exec(select(Exercise).where(Exercise.slug == slug)).one()


def make_submission(
    session: Session,
    *,
    user: User,
    slug: str = "message-echo",
    status: str = "queued",
    score: float | None = None,
    report: dict | None = None,
    created_at: datetime | None = None,
    source: str = "app = None\n",
    assignment_id: int | None = None,
    late_factor: float = 1.0,
    unassigned: bool = False,
) -> Submission:
    """A submission row, graded with ``score`` when ``status`` is 'graded'.

    It is made for ``assignment_id``, or the assignment the service would choose
    (``courses.assignment_for``; none when no course of the learner's places the exercise),
    or for none with ``unassigned`` (work no course's views count).
    """
    row = exercise(session, slug)
    assignment = (
        None
        if unassigned
        else courses.assignment_for(session=session, user=user, exercise_id=row.id, assignment_id=assignment_id)
    )
    submission = Submission(
        assignment_id=assignment.id if assignment is not None else None,
        late_factor=late_factor,
        user_id=user.id,
        exercise_id=row.id,
        filename="solution.py",
        source=source,
        status=status,
        score=score,
        max_score=row.max_score,
        report=report,
        seed=next(_numbers),
        created_at=created_at or utcnow(),
        enqueued_at=created_at or utcnow(),
        finished_at=(created_at or utcnow()) if status == "graded" else None,
    )
    session.add(submission)
    session.flush()
    # As the service and the worker do: what the instructor's views need, in the same transaction.
    standings.record_result(session, submission_id=submission.id, report=report if status == "graded" else None)
    session.commit()
    session.refresh(submission)
    return submission


def make_report(
    *, exercise: str = "message-echo", cases: dict[str, bool], seed: int = 1, infra: str | None = None
) -> Report:
    """A report with one case per entry of ``cases`` (name → passed), or an infra error."""
    report = Report(exercise=exercise, spec_hash="test", seed=seed, max_score=float(len(cases)))
    if infra is not None:
        report.error = GradingError("infra", infra)
        return report.finish()
    for name, passed in cases.items():
        report.tests.append(
            CaseResult(
                name=name,
                description=name,
                score=1.0 if passed else 0.0,
                max_score=1.0,
                status="passed" if passed else "failed",
                request=HttpExchange(method="POST", path="/message", body="{}"),
                expected=HttpExchange(status=200, body="{}"),
                received=HttpExchange(status=200 if passed else 500, body="{}"),
            )
        )
    return report.finish()


def seeds_with_different_orders(question_ids: list[int], options: int = 4) -> tuple[int, int]:
    """Two quiz-start seeds whose orders of ``options`` options differ for every question (found, not assumed)."""
    from grader.services.quizzes import shuffled

    def order(seed: int) -> list[list[int]]:
        return [shuffled(list(range(options)), seed=seed, question_id=question) for question in question_ids]

    first = 1
    second = next(
        seed for seed in range(2, 1000) if all(a != b for a, b in zip(order(first), order(seed), strict=True))
    )
    return first, second
