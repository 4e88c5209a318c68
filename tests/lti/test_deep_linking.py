"""Deep linking: the instructor picks an assignment and the LMS (lti1p3platform) accepts the signed answer."""

from __future__ import annotations

import re
from html import unescape

import httpx
from sqlmodel import Session, select

from grader.models import Assignment, LtiResourceLink

from .conftest import Tool, path_of, post_launch, start_launch
from .platform import INSTRUCTOR, LEARNER, LaunchPlan, Lms
from .test_launch import default_assignment


def _session_cookie(response: httpx.Response) -> str:
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith("grader_lti_session="))
    return header.split(";", 1)[0]


def test_the_instructor_places_an_assignment_and_learners_launch_into_it(tool: Tool, lms: Lms, session: Session):
    source = default_assignment(session)
    plan = LaunchPlan(
        user_id="teacher-1", roles=[INSTRUCTOR], name="Grace Hopper", resource_link_id=None, deep_linking=True
    )
    with httpx.Client(timeout=30) as client:
        launched = post_launch(client, start_launch(client, lms.plan("pick", plan)))
        assert launched.status_code == 303, launched.text
        picker_path = launched.headers["location"]
        assert path_of(picker_path).startswith("/lti/deep-link/")
        cookie = {"Cookie": _session_cookie(launched)}

        picker = client.get(tool.url + picker_path, headers=cookie)
        assert picker.status_code == 200
        assert f"Add {source.title}" in picker.text
        assert "frame-ancestors " + lms.base_url in picker.headers["content-security-policy"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', picker.text).group(1)

        answer = client.post(
            tool.url + picker_path, data={"csrf_token": token, "assignment_id": str(source.id)}, headers=cookie
        )
        assert answer.status_code == 200, answer.text
        assert f"form-action 'self' {lms.base_url}" in answer.headers["content-security-policy"]
        action = unescape(
            re.search(r'<form method="post" action="([^"]+)">\s*<input type="hidden" name="JWT"', answer.text).group(1)
        )
        jwt = unescape(re.search(r'name="JWT" value="([^"]+)"', answer.text).group(1))
        assert action == f"{lms.base_url}/deep-link-return"
        accepted = client.post(action, data={"JWT": jwt})
        assert accepted.status_code == 200

    # The LMS checked the signature against the tool's JWKS and kept the link.
    (item,) = lms.state.deep_linked
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == f"{tool.url}/lti/launch"
    session.expire_all()
    placed = session.get(Assignment, int(item["custom"]["assignment_id"]))
    assert placed.exercise_id == source.exercise_id and placed.course_id != source.course_id
    assert item["lineItem"]["resourceId"] == str(placed.id)

    # A learner following the placed link lands on the exercise; the link is remembered.
    learner = LaunchPlan(user_id="learner-9", roles=[LEARNER], resource_link_id="placed-1", custom=item["custom"])
    with httpx.Client(timeout=30) as client:
        opened = post_launch(client, start_launch(client, lms.plan("follow", learner)))
    assert path_of(opened.headers["location"]) == "/exercises/message-echo"
    session.expire_all()
    link = session.exec(select(LtiResourceLink).where(LtiResourceLink.resource_link_id == "placed-1")).one()
    assert link.assignment_id == placed.id


def test_a_learner_cannot_answer_a_deep_linking_request(tool: Tool, lms: Lms, session: Session):
    plan = LaunchPlan(user_id="student-1", roles=[LEARNER], resource_link_id=None, deep_linking=True)
    with httpx.Client(timeout=30) as client:
        launched = post_launch(client, start_launch(client, lms.plan("sneaky", plan)))
        picker = client.get(tool.url + launched.headers["location"], headers={"Cookie": _session_cookie(launched)})
    assert picker.status_code == 403
    assert "Only the course's instructors and teaching assistants" in unescape(picker.text)
