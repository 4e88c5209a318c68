"""Names and Role Provisioning: the LMS's roster (lti1p3platform's NRPS) becomes accounts and memberships."""

from __future__ import annotations

import httpx
from sqlmodel import Session, select

from grader.models import CourseMember, LtiContext, LtiIdentity, User
from grader.services.lti import roster

from .conftest import Tool, post_launch, start_launch
from .platform import INSTRUCTOR, LEARNER, TA, LaunchPlan, Lms


def test_a_roster_sync_creates_accounts_and_memberships_before_anyone_submits(tool: Tool, lms: Lms, session: Session):
    plan = LaunchPlan(user_id="teacher-1", roles=[INSTRUCTOR], name="Tess Teacher")
    with httpx.Client(timeout=30) as client:
        assert post_launch(client, start_launch(client, lms.plan("teach", plan))).status_code == 303
    lms.state.members = [
        {"user_id": "teacher-1", "roles": [INSTRUCTOR], "name": "Tess Teacher", "status": "Active"},
        {"user_id": "s-1", "roles": [LEARNER], "name": "Sol Student", "email": "sol@example.edu", "status": "Active"},
        {"user_id": "s-2", "roles": [LEARNER], "given_name": "Ari", "family_name": "Ng"},
        {"user_id": "ta-1", "roles": [INSTRUCTOR, TA], "name": "Tam Assistant"},
        {"user_id": "gone-1", "roles": [LEARNER], "name": "Dropped", "status": "Deleted"},
    ]
    session.expire_all()
    context = session.exec(select(LtiContext)).one()

    done = roster.sync(session=session, context_id=context.id, secret=tool.settings.secret_key)

    assert (done.members, done.created, done.skipped) == (5, 3, 1)
    session.expire_all()
    members = {
        identity.subject: (user.display_name, member.role)
        for identity, user, member in session.exec(
            select(LtiIdentity, User, CourseMember)
            .join(User, User.id == LtiIdentity.user_id)
            .join(CourseMember, (CourseMember.user_id == User.id) & (CourseMember.course_id == context.course_id))
        )
    }
    assert members == {
        "teacher-1": ("Tess Teacher", "instructor"),
        "s-1": ("Sol Student", "learner"),
        "s-2": ("Ari Ng", "learner"),
        "ta-1": ("Tam Assistant", "ta"),
    }
    assert (
        session.exec(select(User.email).join(LtiIdentity).where(LtiIdentity.subject == "s-1")).one()
        == "sol@example.edu"
    )
    # Run again: nobody new.
    again = roster.sync(session=session, context_id=context.id, secret=tool.settings.secret_key)
    assert again.created == 0


def test_the_course_page_starts_a_roster_sync_for_staff_only(tool: Tool, lms: Lms, session: Session):
    import re

    def launch_as(user_id: str, roles: list[str]) -> str:
        plan = LaunchPlan(user_id=user_id, roles=roles, name=user_id)
        with httpx.Client(timeout=30) as client:
            response = post_launch(client, start_launch(client, lms.plan(user_id, plan)))
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("grader_lti_session="))
        return response.headers["location"], cookie.split(";", 1)[0]

    results, teacher = launch_as("teacher-2", [INSTRUCTOR])
    # Staff land on the course's results; its LMS page holds the roster tools.
    landing = re.sub(r"^/courses/(\d+)/dashboard$", r"/lti/courses/\1", results)
    assert landing != results
    page = httpx.get(tool.url + landing, headers={"Cookie": teacher})
    assert page.status_code == 200
    assert "Web Programming 101" in page.text and "Sync the roster from the LMS" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    started = httpx.post(tool.url + landing + "/roster", data={"csrf_token": token}, headers={"Cookie": teacher})
    assert started.status_code == 303 and started.headers["location"].endswith("?synced=1")
    session.expire_all()
    assert tool.roster_syncs == [session.exec(select(LtiContext.id)).one()]

    _learner_landing, learner = launch_as("student-3", [LEARNER])
    refused = httpx.get(tool.url + landing, headers={"Cookie": learner})
    assert refused.status_code == 403
