"""The audit log: who did what to whose work, for the instructor actions that change or reveal it.

Recorded: regrades (a submission, a whole exercise), accounts created (one, or a
CSV import), gradebook exports, the account changes made by instructors
(password resets and the like call ``record`` too), and every change to a course:
its title and join code, its members, its assignments and their extensions. An entry keeps the actor's
e-mail as it was, so it still reads right once the account is gone, and names the course it was taken
in: the log an instructor reads holds the entries of the courses they instruct and their own actions,
never what was done in another instructor's course (learners' e-mails included).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, or_, select

from grader.models import AuditEvent, Course, CourseMember, User, utcnow

ACTIONS = {
    "regrade": "Regraded",
    "account.create": "Created an account",
    "account.import": "Imported accounts",
    "account.change": "Changed an account",
    "gradebook.export": "Exported the gradebook",
    "course.create": "Created a course",
    "course.change": "Changed a course",
    "course.member": "Changed a course member",
    "assignment.place": "Placed an assignment",
    "assignment.change": "Changed an assignment",
    "assignment.remove": "Removed an assignment",
    "extension.change": "Changed an extension",
}
"""Each action's name in the log, and how the page says it."""


def record(
    *,
    session: Session,
    actor: User | None,
    action: str,
    course_id: int | None,
    target: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an entry taken in ``course_id`` (None: in no course) to ``session``; stored with the caller's commit."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else "",
        action=action,
        course_id=course_id,
        target=target[:200],
        details=details or None,
        created_at=utcnow(),
    )
    session.add(event)
    return event


def recent(*, session: Session, viewer: User, limit: int = 200) -> list[tuple[AuditEvent, str | None]]:
    """The latest entries ``viewer`` may read, newest first, each with its course's title (None: no course).

    Those are the entries of the courses ``viewer`` instructs and the actions ``viewer`` took.
    """
    taught = select(CourseMember.course_id).where(CourseMember.user_id == viewer.id, CourseMember.role == "instructor")
    statement = (
        select(AuditEvent, Course.title)
        .join(Course, col(Course.id) == col(AuditEvent.course_id), isouter=True)
        .where(or_(col(AuditEvent.course_id).in_(taught), col(AuditEvent.actor_id) == viewer.id))
        .order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
    )
    return [(event, title) for event, title in session.exec(statement)]
