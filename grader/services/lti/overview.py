"""What the LTI pages show: the registrations, and an LMS-linked course's links, roster and grade sends."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from grader.models import Assignment, CourseMember, Exercise, LtiContext, LtiPlatform, LtiScoreSend, Quiz
from grader.services import courses


@dataclass(frozen=True)
class LinkedCourse:
    """A grader course and the LMS courses mapped to it.

    contexts: each LMS course with the registration it came through.
    roles: how many members the course has in each role.
    sends: how many score sends are in each status (pending, sent, failed).
    failures: the latest failed sends' errors, for the instructor to act on.
    assignments: the course's assignments, each with the page that opens it.
    """

    contexts: list[tuple[LtiContext, LtiPlatform]]
    roles: dict[str, int]
    sends: dict[str, int]
    failures: list[str]
    assignments: list[tuple[Assignment, str]]


def is_linked(*, session: Session, course_id: int) -> bool:
    """Whether an LMS course is linked to this course (its page then has roster and grade tools)."""
    return session.exec(select(LtiContext.id).where(LtiContext.course_id == course_id).limit(1)).first() is not None


def linked_course(*, session: Session, course_id: int) -> LinkedCourse:
    """The LMS side of a course."""
    contexts = list(
        session.exec(
            select(LtiContext, LtiPlatform)
            .join(LtiPlatform, col(LtiPlatform.id) == col(LtiContext.platform_id))
            .where(LtiContext.course_id == course_id)
            .order_by(col(LtiContext.id))
        ).all()
    )
    roles = Counter(
        dict(
            session.exec(
                select(CourseMember.role, func.count())
                .where(CourseMember.course_id == course_id)
                .group_by(col(CourseMember.role))
            ).all()
        )
    )
    sends_query = (
        select(LtiScoreSend.status, func.count())
        .join(Assignment, col(Assignment.id) == col(LtiScoreSend.assignment_id))
        .where(Assignment.course_id == course_id)
        .group_by(col(LtiScoreSend.status))
    )
    sends = dict(session.exec(sends_query).all())
    failures = list(
        session.exec(
            select(LtiScoreSend.last_error)
            .join(Assignment, col(Assignment.id) == col(LtiScoreSend.assignment_id))
            .where(Assignment.course_id == course_id, LtiScoreSend.status == "failed")
            .order_by(col(LtiScoreSend.updated_at).desc())
            .limit(5)
        )
    )
    listed = []
    for assignment in courses.assignments(session=session, course_id=course_id):
        exercise = session.get(Exercise, assignment.exercise_id) if assignment.exercise_id is not None else None
        quiz = session.get(Quiz, assignment.quiz_id) if assignment.quiz_id is not None else None
        page = f"/exercises/{exercise.slug}" if exercise is not None else f"/quizzes/{quiz.slug}" if quiz else ""
        listed.append((assignment, page))
    return LinkedCourse(contexts=contexts, roles=dict(roles), sends=sends, failures=failures, assignments=listed)
