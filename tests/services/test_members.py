"""A course's members: added by e-mail with a role, roles changed, the last instructor kept; each change audited."""

from __future__ import annotations

import pytest

from grader.services import audit, courses, members
from grader.services.errors import InvalidInput, PermissionDenied
from tests.factories import make_user


def test_members_are_added_by_email_and_the_last_instructor_stays(synced):
    teacher = make_user(synced, role="instructor")
    course = courses.create(session=synced, title="Evening class", created_by=teacher)
    learner = make_user(synced, email="kim@example.org")
    members.set_member(session=synced, course_id=course.id, email=" KIM@example.org ", role="ta", by=teacher)
    assert courses.role_in(session=synced, user=learner, course_id=course.id) == "ta"
    with pytest.raises(InvalidInput) as raised:
        members.set_member(session=synced, course_id=course.id, email="nobody@example.org", role="ta", by=teacher)
    assert raised.value.field == "email" and "No account uses" in raised.value.message
    with pytest.raises(InvalidInput) as raised:
        members.set_member(session=synced, course_id=course.id, email=learner.email, role="owner", by=teacher)
    assert raised.value.field == "role"
    with pytest.raises(InvalidInput, match="only instructor"):
        members.set_member(session=synced, course_id=course.id, email=teacher.email, role="learner", by=teacher)
    # A TA manages no members.
    with pytest.raises(PermissionDenied):
        members.set_member(session=synced, course_id=course.id, email=learner.email, role="instructor", by=learner)
    assert [(user.email, role) for user, role in members.members(session=synced, course_id=course.id)] == [
        (teacher.email, "instructor"),
        ("kim@example.org", "ta"),
    ]
    entries = audit.recent(session=synced, viewer=teacher)
    assert [(event.action, title) for event, title in entries] == [
        ("course.member", "Evening class"),
        ("course.create", "Evening class"),
    ]
