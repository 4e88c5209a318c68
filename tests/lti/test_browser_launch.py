"""A launch inside the LMS's frame, in Chromium: the LMS and the grader are two sites (127.0.0.2 and 127.0.0.1).

Chromium counts every 127.0.0.0/8 address as potentially trustworthy, so the grader's
``Secure; SameSite=None; Partitioned`` cookies are kept over plain http on loopback, as they
are over https in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from grader.models import CourseMember, LtiIdentity
from tests.browser.axe import assert_accessible
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

from .conftest import Tool, post_launch, start_launch
from .platform import INSTRUCTOR, LEARNER, LaunchPlan, Lms
from .test_launch import default_assignment

pytestmark = pytest.mark.browser


@pytest.fixture
def lms_host() -> str:
    return "127.0.0.2"


@pytest.fixture
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (scripts/test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)])
def test_a_learner_launches_into_the_exercise_inside_the_lms_frame(
    tool: Tool, lms: Lms, session: Session, chromium, viewport: tuple[int, int]
):
    plan = LaunchPlan(
        user_id="framed-1",
        roles=[LEARNER],
        name="Fran Framed",
        custom={"assignment_id": str(default_assignment(session).id)},
    )
    lms.plan("framed", plan)
    context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.goto(f"{lms.base_url}/course/framed")
    frame = page.frame_locator("#tool")
    frame.get_by_role("heading", name="Your submissions").wait_for(timeout=30_000)

    tool_frame = next(f for f in page.frames if f.url.startswith(tool.url))
    assert tool_frame.url == f"{tool.url}/exercises/message-echo"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"lti-framed-exercise-{viewport[0]}.png"), full_page=True)
    assert_accessible(tool_frame, f"the exercise inside the LMS frame at {viewport[0]}x{viewport[1]}")

    # The framed session cookie is partitioned under the LMS's site and carries the learner.
    cookies = {cookie["name"]: cookie for cookie in context.cookies(tool.url)}
    assert cookies["grader_lti_session"]["sameSite"] == "None" and cookies["grader_lti_session"]["secure"]
    session.expire_all()
    identity = session.get(LtiIdentity, (lms.base_url, "framed-1"))
    assert session.exec(select(CourseMember).where(CourseMember.user_id == identity.user_id)).one().role == "learner"
    context.close()


def test_another_site_may_not_frame_the_grader(tool: Tool, lms: Lms, chromium):
    page = chromium.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.set_content(f"<iframe id='tool' title='grader' src='{tool.url}/login'></iframe>")
    page.wait_for_timeout(1500)
    framed = next((f for f in page.frames if f.url.startswith(tool.url)), None)
    # Chromium refuses to render it: the frame stays empty (an error page), the sign-in form never appears.
    assert framed is None or framed.query_selector("form") is None
    page.close()


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)])
def test_the_staff_pages_in_the_frame_are_accessible(
    tool: Tool, lms: Lms, session: Session, chromium, viewport: tuple[int, int]
):
    lms.plan("teacher", LaunchPlan(user_id="t-1", roles=[INSTRUCTOR], name="Tia Teacher"))
    lms.plan("picker", LaunchPlan(user_id="t-1", roles=[INSTRUCTOR], resource_link_id=None, deep_linking=True))
    context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()

    page.goto(f"{lms.base_url}/course/teacher")
    # Staff land on the course's results, which link the LMS page.
    page.frame_locator("#tool").get_by_role("link", name="LMS: roster and grades").click(timeout=30_000)
    page.frame_locator("#tool").get_by_role("button", name="Sync the roster from the LMS").wait_for(timeout=30_000)
    course_frame = next(f for f in page.frames if f.url.startswith(tool.url))
    assert "/lti/courses/" in course_frame.url
    page.screenshot(path=str(ARTIFACTS / f"lti-course-page-{viewport[0]}.png"), full_page=True)
    assert_accessible(course_frame, f"the course's LMS page at {viewport[0]}x{viewport[1]}")

    page.goto(f"{lms.base_url}/course/picker")
    frame = page.frame_locator("#tool")
    frame.get_by_role("heading", name="Add an assignment to Web Programming 101").wait_for(timeout=30_000)
    picker = next(f for f in page.frames if f.url.startswith(tool.url))
    assert_accessible(picker, f"the deep-linking picker at {viewport[0]}x{viewport[1]}")
    title = default_assignment(session).title
    frame.get_by_role("button", name=f"Add {title}").click()
    frame.get_by_role("button", name="Add to the course").wait_for()
    answer = next(f for f in page.frames if f.url.startswith(tool.url))
    assert_accessible(answer, f"the deep-linking answer at {viewport[0]}x{viewport[1]}")
    page.screenshot(path=str(ARTIFACTS / f"lti-deep-link-answer-{viewport[0]}.png"), full_page=True)
    frame.get_by_role("button", name="Add to the course").click()
    frame.get_by_text("Added to the course.").wait_for()
    assert lms.state.deep_linked[0]["title"] == title
    context.close()


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)])
def test_the_new_window_page_and_the_registrations_page_are_accessible(
    tool: Tool, lms: Lms, session: Session, chromium, viewport: tuple[int, int]
):
    from tests.factories import DEFAULT_PASSWORD, make_user

    context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    # The launch's state cookie is refused (the browser dropped it): the page offers a new window.
    lms.plan("nocookie", LaunchPlan(user_id="n-1", roles=[LEARNER]))
    with httpx.Client(timeout=30) as client:
        form = start_launch(client, f"{lms.base_url}/start/nocookie")
        html = post_launch(client, form, with_cookies=False).text
    page.route(f"{tool.url}/blocked", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(f"{tool.url}/blocked")
    link = page.get_by_role("link", name="Open the assignment in a new window")
    assert link.get_attribute("target") == "_blank"
    assert_accessible(page, f"the new-window page at {viewport[0]}x{viewport[1]}")
    with context.expect_page() as opened:
        link.click()
    opened.value.get_by_role("heading", name="Hello, LMS user n-1").wait_for()
    context.close()

    # An administrator of the grader (a first-party session) reads the registrations.
    context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    teacher = make_user(session, role="instructor", email="admin@example.edu")
    page.goto(f"{tool.url}/login")
    page.get_by_label("Email").fill(teacher.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Staff land on their course's results once signed in.
    page.wait_for_url(re.compile(r"/courses/\d+/dashboard$"))
    page.goto(f"{tool.url}/lti/registrations")
    page.get_by_role("heading", name="LMS connections (LTI 1.3)").wait_for()
    assert lms.base_url in page.content() and f"{tool.url}/lti/jwks" in page.content()
    page.screenshot(path=str(ARTIFACTS / f"lti-registrations-{viewport[0]}.png"), full_page=True)
    assert_accessible(page, f"the LMS registrations page at {viewport[0]}x{viewport[1]}")
    context.close()
