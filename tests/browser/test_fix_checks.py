"""A checked fix in a real browser: the result first, then the change the grader tried, as a diff.

The service grades the learner's file in the sandbox, stores and pushes the
result, then grades the file with the proposed change (a job below learners'
gradings) and pushes the card with the change drawn on the learner's own lines.
"""

from __future__ import annotations

import re

import pytest

from .axe import assert_accessible
from .conftest import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

GRADING_TIMEOUT_MS = 90_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LEARNER = {"email": "cole@example.org", "name": "Cole Comma", "password": "cole-password-1"}
# A comma where the colon goes: a set, not a dict, so every reply crashes.
COMMA = """from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received", msg}
"""


def test_the_checked_fix_is_pushed_to_the_page_as_a_diff(service, browser, artifacts):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=service.base_url, viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, **LEARNER)
    page.goto("/exercises/message-echo")
    expect(page.get_by_role("button", name="Submit for grading")).to_be_enabled(timeout=10_000)
    page.get_by_label("Code").fill(COMMA)
    page.get_by_role("button", name="Submit for grading").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    expect(page.locator("#report-heading")).to_contain_text("Failed", timeout=GRADING_TIMEOUT_MS)

    card = page.locator("article.diagnosis").first
    diff = card.locator("figure.fix-diff")
    expect(diff).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    assert page.evaluate("window.__sameDocument === true"), "the checked fix should arrive without a reload"
    expect(card.locator(".fix-check-passed")).to_contain_text("Checked: with this change the")
    # The learner's line, its number, and what it becomes, beside the highlighted line.
    expect(diff.locator(".diff-removed .line-number")).to_have_text("8")
    expect(diff.locator(".diff-removed del")).to_contain_text('return {"received", msg}')
    expect(diff.locator(".diff-added .line-number")).to_have_text("8")
    expect(diff.locator(".diff-added ins")).to_contain_text('return {"received": msg}')
    expect(card.locator(".code-line.marked")).to_contain_text('return {"received", msg}')
    excerpt_box = card.locator("figure.code-excerpt").bounding_box()
    diff_box = diff.bounding_box()
    assert excerpt_box and diff_box and abs(excerpt_box["y"] - diff_box["y"]) < 5, "side by side on a desktop"
    expect(page.locator("[data-fix-checks-url]")).to_contain_text("it works")
    page.screenshot(path=artifacts / "fix-check-desktop.png", full_page=True)
    assert_accessible(page, "a result with its checked fix")
    url = page.url
    context.close()

    context = browser.new_context(base_url=service.base_url, viewport=PHONE, storage_state=None)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(LEARNER["email"])
    page.get_by_label("Password").fill(LEARNER["password"])
    page.get_by_role("button", name="Sign in").click()
    page.goto(url)
    diff = page.locator("article.diagnosis").first.locator("figure.fix-diff")
    expect(diff).to_be_visible()
    excerpt_box = page.locator("article.diagnosis").first.locator("figure.code-excerpt").bounding_box()
    diff_box = diff.bounding_box()
    assert excerpt_box and diff_box and diff_box["y"] > excerpt_box["y"], "one above the other on a phone"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the result is {width} px wide on a {PHONE['width']} px screen"
    page.screenshot(path=artifacts / "fix-check-phone.png", full_page=True)
    assert_accessible(page, "a result with its checked fix, on a phone")
    context.close()
    assert errors == []
