"""A launch inside the LMS's frame, in Chromium: the LMS and the grader are two sites (127.0.0.2 and 127.0.0.1).

Chromium counts every 127.0.0.0/8 address as potentially trustworthy, so the grader's
``Secure; SameSite=None; Partitioned`` cookies are kept over plain http on loopback, as they
are over https in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from grader.models import CourseMember, LtiIdentity
from tests.browser.axe import assert_accessible
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

from .conftest import Tool
from .platform import LEARNER, LaunchPlan, Lms
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
