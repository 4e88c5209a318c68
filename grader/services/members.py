"""A course's members: listed by role, added by e-mail, their roles changed (the course keeps an instructor)."""

from __future__ import annotations

from typing import cast

from sqlmodel import Session, col, select

from grader.models import COURSE_ROLES, CourseMember, CourseRole, User
from grader.services import audit, courses, users
from grader.services.errors import InvalidInput


def members(*, session: Session, course_id: int) -> list[tuple[User, CourseRole]]:
    """The course's members with their roles: instructors, then TAs, then learners, by name."""
    rows = session.exec(
        select(User, CourseMember.role)
        .join(CourseMember, col(CourseMember.user_id) == col(User.id))
        .where(col(CourseMember.course_id) == course_id)
        .order_by(col(User.display_name), col(User.id))
    ).all()
    order = {role: place for place, role in enumerate(reversed(COURSE_ROLES))}
    return sorted(((user, cast(CourseRole, role)) for user, role in rows), key=lambda row: order[row[1]])


def set_member(*, session: Session, course_id: int, email: str, role: str, by: User) -> CourseMember:
    """Put the account with this e-mail in the course with ``role``, or change its role there. Commits.

    The course keeps at least one instructor: the last one cannot be made a TA or learner.
    """
    course = courses.get(session=session, course_id=course_id)
    courses.require_role(session=session, user=by, course_id=course_id, roles=("instructor",))
    if role not in COURSE_ROLES:
        raise InvalidInput(f"The role must be one of: {', '.join(COURSE_ROLES)}.", field="role")
    address = email.strip()
    if not address:
        raise InvalidInput("Give the e-mail address of the account to add.", field="email")
    account = users.get_by_email(session=session, email=address)
    if account is None:
        raise InvalidInput(
            f"No account uses the e-mail {address!r}; create the account first (Users page), then add it.",
            field="email",
        )
    before = courses.role_in(session=session, user=account, course_id=course_id)
    if before == "instructor" and role != "instructor" and _instructor_count(session, course_id) == 1:
        raise InvalidInput(
            f"{account.display_name} is the course's only instructor; make someone else an instructor first.",
            field="role",
        )
    member = courses.add_member(session=session, course_id=course_id, user_id=account.id, role=role)
    audit.record(
        session=session,
        actor=by,
        action="course.member",
        course_id=course_id,
        target=f"{account.email} in {courses.course_target(course)}",
        details={"role": role, "was": before or "not a member"},
    )
    session.commit()
    return member


def _instructor_count(session: Session, course_id: int) -> int:
    return len(
        session.exec(
            select(CourseMember.user_id).where(
                col(CourseMember.course_id) == course_id, col(CourseMember.role) == "instructor"
            )
        ).all()
    )
