"""The instructor's first screen in a real browser, at 1280 and 390 px: a new course's welcome with its
join code, then, once learners are in, the summary line, the figures and the table, in that order.
"""

from __future__ import annotations

import re

import pytest

from .axe import assert_accessible
from .conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD, JOIN_CODE, choose, sign_in, sign_up

pytestmark = pytest.mark.browser

VIEWPORTS = ({"width": 1280, "height": 900}, {"width": 390, "height": 844})
LEARNER = {"email": "nadia@example.org", "name": "Nadia New", "password": "nadia-pass-1"}


def _sign_in(browser, service, viewport):
    context = browser.new_context(base_url=service.base_url, viewport=viewport)
    page = context.new_page()
    sign_in(page, email=INSTRUCTOR_EMAIL, password=INSTRUCTOR_PASSWORD)
    return context, page


def _take_the_quiz(browser, service) -> None:
    context = browser.new_context(base_url=service.base_url)
    page = context.new_page()
    sign_up(page, **LEARNER)
    page.goto("/quizzes/message-cycle")
    questions = page.locator(".question")
    choose(questions.nth(0), "{'text': 'Hello'}")
    choose(questions.nth(1), "Step 3")
    choose(questions.nth(2), "Nothing is different")
    page.get_by_role("button", name="Submit answers").click()
    page.get_by_role("heading", name=re.compile("Your score")).wait_for()
    context.close()


def test_the_first_screen_welcomes_a_new_course_then_summarises_it(service, browser, artifacts):
    from playwright.sync_api import expect

    # A course nobody has joined yet: how learners get in, and the code they need.
    for viewport in VIEWPORTS:
        context, page = _sign_in(browser, service, viewport)
        expect(page).to_have_url(re.compile(r"/courses/1/dashboard$"))
        expect(page.get_by_role("heading", name="No learners yet")).to_be_visible()
        expect(page.locator(".join-code-value")).to_have_text(JOIN_CODE)
        expect(page.get_by_role("button", name="New code")).to_be_visible()
        expect(page.get_by_text("the old code stops working")).to_be_visible()
        expect(page.get_by_text("No learner matches this filter")).to_have_count(0)
        expect(page.locator("[data-summary]")).to_contain_text("Nobody has joined this course yet")
        expect(page.get_by_role("link", name="Export the gradebook (CSV)")).to_have_count(0)
        assert_accessible(page, f"a new course's dashboard at {viewport['width']} px")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=artifacts / f"course-dashboard-empty-{viewport['width']}.png", full_page=True)
        context.close()

    # An instructor who keeps the empty dashboard open sees the first learner arrive without reloading.
    watching, waiting = _sign_in(browser, service, VIEWPORTS[0])
    expect(waiting.locator("[data-live-status]")).to_contain_text("Waiting for the first result")
    waiting.evaluate("window.__sameDocument = true")
    _take_the_quiz(browser, service)
    arrived = waiting.locator("#gradebook tbody tr").filter(has_text=LEARNER["name"])
    expect(arrived).to_contain_text("2 / 3", timeout=30_000)
    assert waiting.evaluate("window.__sameDocument === true"), "the first learner should appear without a reload"
    expect(waiting.get_by_role("heading", name="No learners yet")).to_have_count(0)
    expect(waiting.locator("[data-summary]")).to_contain_text("1 learner")
    expect(waiting.locator("[data-live-status]")).to_contain_text("Updated automatically")
    # The page that arrived is followed live too: its charts and table came with their watchers.
    expect(waiting.locator("svg.chart").first).to_be_visible()
    watching.close()

    # With a learner: the summary line first, then common mistakes and the figures, then the table.
    for viewport in VIEWPORTS:
        context, page = _sign_in(browser, service, viewport)
        summary = page.locator("[data-summary]")
        expect(summary).to_contain_text("1 learner · 0 submitted · 0 at full marks")
        expect(summary).to_contain_text("0 with late work")
        order = page.evaluate(
            """() => ['[data-summary]', '#mistakes-heading', '.charts', '#learners-heading']
                .map(selector => document.querySelector(selector).getBoundingClientRect().top + scrollY)"""
        )
        assert order == sorted(order), order
        expect(page.locator("#gradebook tbody tr").filter(has_text=LEARNER["name"])).to_contain_text("2 / 3")
        # Each item statistic says what it means beside its value.
        expect(page.get_by_text("the share of answers that were right").first).to_be_visible()
        expect(page.get_by_text("does not tell them apart").first).to_be_visible()
        assert_accessible(page, f"the course's dashboard at {viewport['width']} px")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=artifacts / f"course-dashboard-{viewport['width']}.png", full_page=True)
        context.close()

    # The instructor replaces the join code (the course's settings say so): the dashboard shows the new one.
    context, page = _sign_in(browser, service, VIEWPORTS[0])
    page.get_by_text("How learners join this course").click()
    page.get_by_role("button", name="New code").click()
    expect(page.get_by_text("the old one no longer works")).to_be_visible()
    page.goto("/courses/1/dashboard")
    expect(page.locator(".join-code-value")).not_to_have_text(JOIN_CODE)
    assert JOIN_CODE not in page.content()
    context.close()
