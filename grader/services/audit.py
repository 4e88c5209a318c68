"""The audit log: who did what to whose work, for the instructor actions that change or reveal it.

Recorded: regrades (a submission, a whole exercise), accounts created (one, or a
CSV import), gradebook exports, the account changes made by instructors
(password resets and the like call ``record`` too), and every change to a course:
its title and join code, its members, its assignments and their extensions. An entry keeps the actor's
e-mail as it was, so it still reads right once the account is gone.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from grader.models import AuditEvent, User, utcnow

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
    *, session: Session, actor: User | None, action: str, target: str, details: dict[str, Any] | None = None
) -> AuditEvent:
    """Add an entry to ``session``; it is stored with the caller's commit."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else "",
        action=action,
        target=target[:200],
        details=details or None,
        created_at=utcnow(),
    )
    session.add(event)
    return event


def recent(*, session: Session, limit: int = 200) -> list[AuditEvent]:
    """The latest entries, newest first."""
    return list(
        session.exec(
            select(AuditEvent).order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc()).limit(limit)
        )
    )
