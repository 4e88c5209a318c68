"""Who may see and regrade a learner's work: its author, and the staff of the courses it belongs to.

A submission (or a quiz attempt) belongs to:

1. the course of the assignment it was made for (``assignment_id``): the one course whose
   views count it (``CourseScope``, standings per course);
2. when it was made for no assignment (``assignment_id`` NULL: none of its author's courses
   placed the exercise when it was made, or the assignment was removed since), every course in
   which its author is a learner and which places its exercise (quiz) now.

Work made for one course's assignment never belongs to another course, even one that places
the same exercise: a learner repeating a course keeps last term's work to last term's staff.
Rule 2 asks that the author be the course's learner, not only that the course places the
exercise: any account that may create courses could otherwise read everyone's unassigned work
on an exercise by placing it in a course of its own.

The TAs and instructors of a course the work belongs to (its staff) see it whole, hidden cases
included, and may regrade it; its author sees it as released to them; anyone else is told it
does not exist, so ids reveal nothing. The account's role (``User.role``) plays no part here: it
only says who may create courses. Every answer is one SQL query (EXISTS subqueries on indexed
columns); no report or source is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from grader.models import STAFF_ROLES, Assignment, Course, CourseMember, QuizAttempt, RegradeItem, Submission, User
from grader.services.errors import NotFound


@dataclass(frozen=True)
class _Work:
    """A table of learners' work and the column that names what it was made on."""

    table: Any
    made_on: str  # "exercise_id" or "quiz_id", in the work's table and in ``Assignment``


SUBMISSIONS = _Work(Submission, "exercise_id")
ATTEMPTS = _Work(QuizAttempt, "quiz_id")


def _courses_taught(user: User, course_id: int | None) -> Any:
    """The ids of the courses ``user`` is a TA or instructor of (only ``course_id``, when given)."""
    taught = select(col(CourseMember.course_id)).where(
        col(CourseMember.user_id) == user.id, col(CourseMember.role).in_(STAFF_ROLES)
    )
    if course_id is not None:
        taught = taught.where(col(CourseMember.course_id) == course_id)
    return taught


def _belongs_to(work: _Work, courses: Any) -> ColumnElement[bool]:
    """Whether the row of ``work`` in the enclosing query belongs to one of ``courses`` (rules 1 and 2)."""
    table = work.table
    made_for = (
        select(col(Assignment.id))
        .where(col(Assignment.id) == table.assignment_id, col(Assignment.course_id).in_(courses))
        .exists()
    )
    enrolled = aliased(CourseMember)
    placing = aliased(Assignment)
    unassigned_in = (
        select(col(enrolled.course_id))
        .join(placing, col(placing.course_id) == col(enrolled.course_id))
        .where(
            table.assignment_id.is_(None),
            col(enrolled.user_id) == table.user_id,
            col(enrolled.role) == "learner",
            col(enrolled.course_id).in_(courses),
            getattr(placing, work.made_on) == getattr(table, work.made_on),
        )
        .exists()
    )
    return or_(made_for, unassigned_in)


def _staff_of(work: _Work, user: User, course_id: int | None = None) -> ColumnElement[bool]:
    return _belongs_to(work, _courses_taught(user, course_id))


def _may_see(work: _Work, user: User) -> ColumnElement[bool]:
    return or_(work.table.user_id == user.id, _staff_of(work, user))


def may_see_submission(*, session: Session, submission_id: int, user: User) -> bool:
    """Whether the submission exists and ``user`` wrote it or is staff of a course it belongs to."""
    found = session.exec(
        select(col(Submission.id)).where(col(Submission.id) == submission_id, _may_see(SUBMISSIONS, user))
    ).first()
    return found is not None


def visible_submission(*, session: Session, submission_id: int, user: User) -> Submission:
    """The submission if ``user`` may see it (``may_see_submission``); ``NotFound`` otherwise."""
    found = session.exec(
        select(Submission).where(col(Submission.id) == submission_id, _may_see(SUBMISSIONS, user))
    ).first()
    if found is None:
        raise NotFound("No such submission.")
    return found


def teaches_submission(*, session: Session, submission_id: int, user: User, course_id: int | None = None) -> bool:
    """Whether ``user`` is staff of a course the submission belongs to (of ``course_id``, when given)."""
    found = session.exec(
        select(col(Submission.id)).where(col(Submission.id) == submission_id, _staff_of(SUBMISSIONS, user, course_id))
    ).first()
    return found is not None


def regrading_course(*, session: Session, submission_id: int, user: User) -> int:
    """The oldest course ``user`` teaches that the submission belongs to; ``NotFound`` when there is none."""
    found = session.exec(
        select(col(Course.id))
        .join(Submission, col(Submission.id) == submission_id)
        .where(col(Course.id).in_(_courses_taught(user, None)), _belongs_to(SUBMISSIONS, [col(Course.id)]))
        .order_by(col(Course.id))
    ).first()
    if found is None:
        raise NotFound("No such submission.")
    return found


def visible_attempt(*, session: Session, attempt_id: int, user: User) -> tuple[QuizAttempt, bool]:
    """The quiz attempt if ``user`` made it or is staff of a course it belongs to, and whether they are staff.

    ``NotFound`` for anyone else.
    """
    found = session.exec(
        select(QuizAttempt, _staff_of(ATTEMPTS, user)).where(
            col(QuizAttempt.id) == attempt_id, _may_see(ATTEMPTS, user)
        )
    ).first()
    if found is None:
        raise NotFound("No such attempt.")
    attempt, staff = found
    return attempt, bool(staff)


def teaches_batch(*, session: Session, batch_id: int, user: User) -> bool:
    """Whether ``user`` is staff for every submission of a regrade batch (and it has one)."""
    counted = select(func.count()).select_from(RegradeItem).where(col(RegradeItem.batch_id) == batch_id)
    total = session.exec(counted).one()
    if not total:
        return False
    taught = session.exec(
        counted.join(Submission, col(Submission.id) == col(RegradeItem.submission_id)).where(
            _staff_of(SUBMISSIONS, user)
        )
    ).one()
    return bool(taught == total)
