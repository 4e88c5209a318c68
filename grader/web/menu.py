"""The site menu's links that depend on what the signed-in person may do.

A person's account role (``User.role``) only says who may create courses; what they may open
comes from their roles in courses. The menu therefore asks the same questions as the pages'
dependencies (``deps.course_staff``, ``deps.account_manager``, ``deps.require_instructor``), so it
never offers a link that answers 403 or 404. It costs one indexed read of the person's course
memberships, made only when a page is drawn and kept for the rest of the request.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlmodel import Session

from grader.models import CourseRole, User
from grader.services import courses, users


@dataclass(frozen=True)
class SiteMenu:
    """The person-dependent links of the menu.

    results: where the link to their courses' results leads (the one course's dashboard, or the
    list of their courses when they teach several), None when they teach none; results_label:
    its words; users: whether they may manage
    accounts; audit: whether they may read the audit log.
    """

    results: str | None
    results_label: str
    users: bool
    audit: bool

    @classmethod
    def of(cls, user: User, roles: dict[int, CourseRole]) -> SiteMenu:
        """The menu of ``user``, whose staff roles by course id are ``roles``."""
        results, label = None, "Dashboard"
        if len(roles) == 1:
            (course_id,) = roles
            results = f"/courses/{course_id}/dashboard"
        elif roles:
            results, label = "/courses", "Dashboards"
        return cls(
            results=results,
            results_label=label,
            users=users.may_manage_accounts(user, roles.values()),
            audit=user.role == "instructor",
        )


def site_menu(request: Request) -> SiteMenu | None:
    """The menu of the signed-in person (None when nobody is), read once per request."""
    user: User | None = getattr(request.state, "user", None)
    if user is None:
        return None
    menu: SiteMenu | None = getattr(request.state, "site_menu", None)
    if menu is None:
        with Session(request.app.state.engine) as session:
            roles = courses.staff_roles(session=session, user_id=user.id)
        menu = SiteMenu.of(user, roles)
        request.state.site_menu = menu
    return menu
