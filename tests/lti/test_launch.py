"""Launches from a real LMS implementation (lti1p3platform): accounts, courses, memberships, the landing page."""

from __future__ import annotations

import base64
import json
import re
from html import unescape

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from grader.models import (
    Assignment,
    Course,
    CourseMember,
    LtiContext,
    LtiIdentity,
    LtiLaunchData,
    LtiResourceLink,
    LtiUsedNonce,
    User,
)
from grader.services import courses
from tests.factories import exercise

from .conftest import Tool, path_of, post_launch, start_launch
from .platform import INSTRUCTOR, LEARNER, TA, LaunchPlan, Lms


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> str:
    """Launches run on both engines: their state, nonce and rows are one transaction on each."""
    return request.param


def default_assignment(session: Session, slug: str = "message-echo") -> Assignment:
    """The default course's assignment of an exercise (what a deep link or a custom parameter names)."""
    course = courses.default_course(session=session)
    row = exercise(session, slug)
    return session.exec(
        select(Assignment).where(Assignment.course_id == course.id, Assignment.exercise_id == row.id)
    ).one()


def signed_in_user(response: httpx.Response) -> int | None:
    """The account the response's LTI session cookie signs in, if it sets one."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith("grader_lti_session="):
            payload = header.split("=", 1)[1].split(".", 1)[0]
            return json.loads(base64.b64decode(payload)).get("user_id")
    return None


def launch(lms: Lms, plan: LaunchPlan, hint: str) -> httpx.Response:
    with httpx.Client(timeout=30) as client:
        return post_launch(client, start_launch(client, lms.plan(hint, plan)))


def test_a_learner_launch_makes_an_account_a_course_a_membership_and_opens_the_exercise(
    tool: Tool, lms: Lms, session: Session
):
    assignment = default_assignment(session)
    plan = LaunchPlan(
        user_id="lms-user-7",
        roles=[LEARNER],
        name="Ada Lovelace",
        email="ada@example.edu",
        custom={"assignment_id": str(assignment.id)},
    )
    response = launch(lms, plan, "ada")

    assert response.status_code == 303, response.text
    assert path_of(response.headers["location"]) == "/exercises/message-echo"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("grader_lti_session="))
    assert "samesite=none" in cookie.lower() and "secure" in cookie.lower() and "partitioned" in cookie.lower()
    assert lms.base_url in response.headers["content-security-policy"]

    session.expire_all()
    identity = session.get(LtiIdentity, (lms.base_url, "lms-user-7"))
    assert identity is not None
    user = session.get(User, identity.user_id)
    assert (user.display_name, user.email, user.role) == ("Ada Lovelace", "ada@example.edu", "learner")
    context = session.exec(select(LtiContext)).one()
    course = session.get(Course, context.course_id)
    assert course.title == "Web Programming 101"
    assert session.get(CourseMember, (course.id, user.id)).role == "learner"
    link = session.exec(select(LtiResourceLink)).one()
    linked = session.get(Assignment, link.assignment_id)
    assert (linked.course_id, linked.exercise_id) == (course.id, assignment.exercise_id)
    assert context.lineitems_url == f"{lms.base_url}/contexts/course-101/lineitems"
    assert context.memberships_url == f"{lms.base_url}/contexts/course-101/memberships"

    # The session cookie opens the exercise page, which the LMS (and only the LMS) may frame.
    session_cookie = cookie.split(";", 1)[0]
    page = httpx.get(tool.url + response.headers["location"], headers={"Cookie": session_cookie})
    assert page.status_code == 200
    assert "Your submissions" in page.text
    policy = page.headers["content-security-policy"]
    assert f"frame-ancestors {lms.base_url}" in policy
    assert "x-frame-options" not in page.headers


@pytest.mark.parametrize(
    ("roles", "expected"),
    [([LEARNER], "learner"), ([INSTRUCTOR, TA], "ta"), ([INSTRUCTOR], "instructor")],
)
def test_roles_map_to_course_roles_and_a_second_launch_reuses_the_account(
    tool: Tool, lms: Lms, session: Session, roles: list[str], expected: str
):
    plan = LaunchPlan(user_id="u-1", roles=roles, name="Sam Teach", resource_link_id="course-nav")
    first = launch(lms, plan, "first")
    second = launch(lms, plan, "second")

    assert first.status_code == second.status_code == 303
    session.expire_all()
    assert session.exec(select(func.count()).select_from(LtiIdentity)).one() == 1
    context = session.exec(select(LtiContext)).one()
    assert path_of(second.headers["location"]) == (
        "/" if expected == "learner" else f"/courses/{context.course_id}/dashboard"
    )
    member = session.exec(select(CourseMember).where(CourseMember.course_id == context.course_id)).one()
    assert member.role == expected


def _counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {
        model.__tablename__: session.exec(select(func.count()).select_from(model)).one()
        for model in (User, LtiIdentity, Course, CourseMember, LtiContext, LtiResourceLink, LtiUsedNonce)
    }


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("case", "extra", "expires_in", "words"),
    [
        ("wrong signature", {}, 300, "Signature verification failed"),
        ("wrong audience", {"aud": "another-tool", "azp": "another-tool"}, 300, "Registration not found"),
        ("wrong issuer", {"iss": "https://lms.invalid"}, 300, "Registration not found"),
        ("expired token", {}, -120, "expired"),
        (
            "unknown deployment",
            {"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "elsewhere"},
            300,
            "not recognised",
        ),
    ],
)
def test_a_bad_launch_is_refused_in_words_and_stores_nothing(
    tool: Tool, lms: Lms, session: Session, case: str, extra: dict, expires_in: int, words: str
):
    before = _counts(session)
    plan = LaunchPlan(user_id="mallory", roles=[INSTRUCTOR], extra_claims=extra, expires_in=expires_in)
    with httpx.Client(timeout=30) as client:
        form = start_launch(client, lms.plan("bad", plan))
        if case == "wrong signature":
            form.fields["id_token"] = _tamper(form.fields["id_token"])
        response = post_launch(client, form)

    assert response.status_code == 400, response.text
    assert "launch was refused" in response.text and words in response.text
    assert signed_in_user(response) is None
    assert _counts(session) == before
    # The state was not used up: a refused launch leaves nothing changed.
    session.expire_all()
    assert session.exec(select(func.count()).select_from(LtiLaunchData)).one() == 1


def test_a_link_from_another_course_whose_work_this_course_holds_otherwise_is_refused_in_words(
    tool: Tool, lms: Lms, session: Session
):
    """The LMS course already places the exercise alone; a link copied from a course that pairs it with the quiz
    cannot be set up by placing it twice: the launch is refused in words and stores nothing."""
    teacher = launch(lms, LaunchPlan(user_id="t-1", roles=[INSTRUCTOR], resource_link_id="link-0"), "teacher")
    assert teacher.status_code == 303, teacher.text
    session.expire_all()
    context = session.exec(select(LtiContext)).one()
    teacher_id = session.get(LtiIdentity, (lms.base_url, "t-1")).user_id
    alone = courses.place_assignment(
        session=session,
        course_id=context.course_id,
        by=session.get_one(User, teacher_id),
        exercise_id=exercise(session).id,
        title="Echo on its own",
    )
    source = default_assignment(session)
    assert source.quiz_id is not None  # the default course pairs the exercise with the lesson's quiz
    before = _counts(session)
    assignments_before = session.exec(select(func.count()).select_from(Assignment)).one()

    plan = LaunchPlan(user_id="l-1", roles=[LEARNER], custom={"assignment_id": str(source.id)})
    response = launch(lms, plan, "copied")

    assert response.status_code == 400, response.text
    text = unescape(response.text)
    assert "launch was refused" in text and f"“{alone.title}”" in text and "link the right assignment" in text
    assert lms.base_url in response.headers["content-security-policy"]  # shown inside the LMS's frame
    assert signed_in_user(response) is None
    assert _counts(session) == before
    assert session.exec(select(func.count()).select_from(Assignment)).one() == assignments_before


def test_a_replayed_launch_is_refused(tool: Tool, lms: Lms, session: Session):
    plan = LaunchPlan(user_id="u-2", roles=[LEARNER])
    with httpx.Client(timeout=30) as client:
        form = start_launch(client, lms.plan("once", plan))
        assert post_launch(client, form).status_code == 303
        after_first = _counts(session)

        again = post_launch(client, form)
        assert again.status_code == 400
        assert "expired or was already used" in again.text

        # The same signed token under a fresh state of its own: the nonce gives it away.
        fresh = start_launch(client, lms.plan("twice", plan))
        fresh.fields["id_token"] = form.fields["id_token"]
        replay = post_launch(client, fresh)
        assert replay.status_code == 400
        assert "nonce" in replay.text
    assert _counts(session) == after_first


def test_without_the_state_cookie_the_launch_continues_in_a_new_window_with_a_one_time_code(
    tool: Tool, lms: Lms, session: Session
):
    plan = LaunchPlan(user_id="u-3", roles=[LEARNER], name="No Cookies")
    with httpx.Client(timeout=30) as client:
        form = start_launch(client, lms.plan("blocked", plan))
        page = post_launch(client, form, with_cookies=False)
        assert page.status_code == 200
        assert "Open the assignment in a new window" in page.text
        assert signed_in_user(page) is None
        found = re.search(r'href="(/lti/continue\?code=[^"]+)"', page.text)
        assert found is not None, page.text
        code_url = tool.url + unescape(found.group(1))
        assert "/lti/continue?code=" in code_url

        continued = client.get(code_url)
        assert continued.status_code == 303
        assert signed_in_user(continued) is not None
        used = client.get(code_url)
        assert used.status_code == 400
        assert "already used or has expired" in used.text


def test_the_jwks_publishes_the_signing_key(tool: Tool):
    keys = httpx.get(f"{tool.url}/lti/jwks").json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["kid"]
    assert "d" not in keys[0]


def test_expired_states_and_nonces_are_cleared_at_the_next_login(tool: Tool, lms: Lms, session: Session):
    from datetime import timedelta

    from grader.models import utcnow

    session.add(LtiLaunchData(key="state-old", value={"nonce": "n"}, expires_at=utcnow() - timedelta(seconds=1)))
    session.add(LtiUsedNonce(issuer=lms.base_url, nonce="old", expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    with httpx.Client(timeout=30) as client:
        start_launch(client, lms.plan("fresh", LaunchPlan(user_id="u-9", roles=[LEARNER])))
    session.expire_all()
    assert session.get(LtiLaunchData, "state-old") is None
    assert session.get(LtiUsedNonce, (lms.base_url, "old")) is None
    assert session.exec(select(func.count()).select_from(LtiLaunchData)).one() == 1


def test_a_launch_signed_with_the_lms_new_key_is_accepted_after_a_rotation(tool: Tool, lms: Lms, session: Session):
    from .platform import new_private_key, public_pem

    plan = LaunchPlan(user_id="u-rot", roles=[LEARNER])
    assert launch(lms, plan, "before").status_code == 303
    fresh = new_private_key()
    lms.registration.set_platform_private_key(fresh).set_platform_public_key(public_pem(fresh))
    assert launch(lms, plan, "after").status_code == 303


def test_staff_following_an_assignment_link_land_on_the_course_results_that_link_the_lms_page(
    tool: Tool, lms: Lms, session: Session
):
    assignment = default_assignment(session)
    plan = LaunchPlan(user_id="ta-7", roles=[INSTRUCTOR, TA], custom={"assignment_id": str(assignment.id)})
    response = launch(lms, plan, "ta")
    session.expire_all()
    context = session.exec(select(LtiContext)).one()
    assert path_of(response.headers["location"]) == f"/courses/{context.course_id}/dashboard"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("grader_lti_session="))
    results = httpx.get(tool.url + response.headers["location"], headers={"Cookie": cookie.split(";", 1)[0]})
    assert results.status_code == 200
    assert f'href="/lti/courses/{context.course_id}"' in results.text
    page = httpx.get(f"{tool.url}/lti/courses/{context.course_id}", headers={"Cookie": cookie.split(";", 1)[0]})
    assert page.status_code == 200
    assert f'<a href="/exercises/message-echo">{assignment.title}</a>' in page.text
