"""The learner's pages in a real browser: the result page of a typo, the phone layout, the quiz's
explained answers, form errors, and axe-core's accessibility check on every page.

Chromium drives ``autograder serve`` with its real grading worker, so every result here was
graded in the sandbox. Screenshots are kept in test-artifacts/.
"""

from __future__ import annotations

import re

import pytest

from .axe import assert_accessible
from .conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD, choose, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

GRADING_TIMEOUT_MS = 90_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LEARNER = {"email": "tess@example.org", "name": "Tess Typo", "password": "tess-password-1"}
TYPO = """from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"recieved": msg}
"""
CORRECT = """from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
"""


def _submit(page, code: str) -> str:
    """Paste ``code`` on the exercise page, submit it, wait for the result; the submission's URL."""
    page.goto("/exercises/message-echo")
    from playwright.sync_api import expect

    expect(page.get_by_role("button", name="Submit for grading")).to_be_enabled(timeout=10_000)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Submit for grading").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
    expect(page.locator("#report-heading")).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    return page.url


@pytest.fixture(scope="module")
def learner_pages(service, browser):
    """A learner who submitted the typo and then the right answer, and took the quiz once."""
    context = browser.new_context(base_url=service.base_url, viewport=DESKTOP)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    sign_up(page, **LEARNER)
    typo_url = _submit(page, TYPO)
    progress_requests = list(requests)
    correct_url = _submit(page, CORRECT)
    state = context.storage_state()
    context.close()
    return {"typo": typo_url, "correct": correct_url, "state": state, "requests": progress_requests}


def _too_wide(page) -> list[str]:
    """The innermost elements that reach past the right edge of the screen."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 0.5))
            .slice(0, 5)
            .map((e) => e.tagName + '.' + e.className + ': ' + e.textContent.trim().slice(0, 60))"""
    )


def _page(browser, service, state, viewport=DESKTOP):
    context = browser.new_context(base_url=service.base_url, viewport=viewport, storage_state=state)
    return context, context.new_page()


def _answer_the_quiz_with_one_wrong(page) -> None:
    """Answer the quiz on the page: the first answer wrong, the other two right; wait for the score."""
    from playwright.sync_api import expect

    questions = page.locator(".question")
    # The options come in a new order each attempt: each is found by its text, whatever its letter.
    choose(questions.nth(0), "{'received': {'text': 'Hello'}}")
    choose(questions.nth(1), "Step 3")
    choose(questions.nth(2), "At step 2, msg is {'text': 'Hi'}")
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("heading", name="Your score: 2/3")).to_be_visible()


def test_a_typo_gets_one_card_and_a_page_of_about_two_screens(service, browser, artifacts, learner_pages):
    from playwright.sync_api import expect

    # Progress came down the event stream: the page never fell back to polling.
    assert any(url.endswith("/events") for url in learner_pages["requests"])
    assert not any(url.endswith("/status") for url in learner_pages["requests"])

    context, page = _page(browser, service, learner_pages["state"])
    page.goto(learner_pages["typo"])
    heading = page.locator("#report-heading")
    expect(heading).to_contain_text("Failed")
    cards = page.locator("article.diagnosis")
    expect(cards).to_have_count(1)
    card = cards.first
    # The mistake in the learner's words, with their own line highlighted.
    expect(card.locator("h3")).to_contain_text("you wrote recieved; the key is received")
    expect(card.locator(".fix")).to_contain_text('What to change: Write "received" instead of "recieved".')
    expect(card.locator(".code-excerpt figcaption")).to_have_text("Line 8 of your file (highlighted)")
    expect(card.locator(".code-line.marked")).to_contain_text('return {"recieved": msg}')
    expect(card.locator("details.case")).to_have_count(10)
    expect(card.locator("details.case[open]")).to_have_count(1)
    # The first case shows its steps, with the body the app sent beside the expected one.
    first = card.locator("details.case[open]")
    expect(first.get_by_text("FastAPI calls your endpoint function")).to_be_visible()
    expect(first.locator("tr.differs")).to_have_count(1)
    # The passing cases are folded away in one closed block.
    expect(page.locator("details.passing-cases")).not_to_have_attribute("open", "")
    # The result is about two screens; the code to edit and send again follows it.
    height = page.evaluate("document.querySelector('#resubmit').getBoundingClientRect().top + window.scrollY")
    page.screenshot(path=artifacts / "result-typo-desktop.png", full_page=True)
    assert height <= 2.2 * DESKTOP["height"], f"the typo's result is {height} px tall"
    assert_accessible(page, "the typo's result")
    context.close()


def test_a_passed_exercise_leads_to_the_quiz(service, browser, artifacts, learner_pages):
    from playwright.sync_api import expect

    context, page = _page(browser, service, learner_pages["state"])
    page.goto(learner_pages["correct"])
    expect(page.locator("#report-heading")).to_contain_text("Passed")
    page.get_by_role("link", name="Take the quiz on this lesson").click()
    expect(page).to_have_url(re.compile(r"/quizzes/message-cycle$"))
    context.close()


def test_nothing_scrolls_sideways_on_a_phone(service, browser, artifacts, learner_pages):
    context, page = _page(browser, service, learner_pages["state"], viewport=PHONE)
    for name, url in [
        ("home", "/"),
        ("exercise", "/exercises/message-echo"),
        ("result-typo", learner_pages["typo"]),
        ("result-passed", learner_pages["correct"]),
        ("quiz", "/quizzes/message-cycle"),
        ("api-docs", "/docs"),
    ]:
        page.goto(url)
        # Open every fold, so what is inside counts too.
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=artifacts / f"phone-{name}.png", full_page=True)
        assert width <= PHONE["width"], f"{name} is {width} px wide on a {PHONE['width']} px screen: {_too_wide(page)}"
    context.close()


def test_the_quiz_explains_each_wrong_answer(service, browser, artifacts, learner_pages):
    from playwright.sync_api import expect

    for viewport, suffix in [(DESKTOP, "desktop"), (PHONE, "phone")]:
        context, page = _page(browser, service, learner_pages["state"], viewport=viewport)
        page.goto("/quizzes/message-cycle")
        _answer_the_quiz_with_one_wrong(page)
        wrong = page.locator(".question-wrong")
        expect(wrong).to_have_count(1)
        expect(wrong.locator(".option-chosen")).to_contain_text("{'received': {'text': 'Hello'}} Your answer")
        # Why that option does not hold and where to look; the explanation waits for the reveal.
        expect(wrong.locator(".explanation")).to_contain_text(["Why not ", "Where to look:"])
        expect(wrong.get_by_text("Why:", exact=True)).to_have_count(0)
        # The msg row of the tracker is marked, every moment of it; no cell is singled out yet.
        expect(wrong.locator("td.evidence-line")).to_have_count(5)
        expect(wrong.get_by_text("Read along the marked row.")).to_be_visible()
        expect(wrong.locator("td.evidence")).to_have_count(0)
        expect(page.get_by_text("the answer is here")).to_have_count(0)
        expect(page.locator(".question-correct .hint")).to_have_count(0)
        # Attempts are left, so the right option is not marked yet; the page says when it will be.
        expect(page.locator(".option-right")).to_have_count(0)
        expect(page.locator(".reveal-note")).to_have_text("The right answers appear after your last attempt.")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=artifacts / f"quiz-result-{suffix}.png", full_page=True)
        assert_accessible(page, "the quiz's result")
        context.close()


def test_a_refused_upload_scrolls_to_and_focuses_its_error(service, browser, learner_pages):
    from playwright.sync_api import expect

    context, page = _page(browser, service, learner_pages["state"], viewport=PHONE)
    page.goto("/exercises/message-echo")
    expect(page.get_by_role("button", name="Submit for grading")).to_be_enabled(timeout=10_000)
    # The editor opens on the last attempt's code: empty it, then send nothing.
    page.get_by_role("textbox", name="Your code").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.get_by_role("button", name="Submit for grading").click()  # nothing in the editor, no file
    error = page.get_by_role("alert")
    expect(error).to_be_focused()
    expect(error).to_be_in_viewport()
    context.close()


def test_axe_finds_nothing_on_any_page(service, browser, artifacts, learner_pages):
    # Signed out: the sign-in and sign-up pages, and a refused sign-in.
    context = browser.new_context(base_url=service.base_url, viewport=DESKTOP)
    page = context.new_page()
    for url in ["/login", "/signup"]:
        page.goto(url)
        assert_accessible(page, url)
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_label("Join code").fill("WRONG")
    page.get_by_label("Name").fill("Nobody")
    page.get_by_role("button", name="Create account").click()
    assert_accessible(page, "a refused sign-up")
    context.close()

    # The learner's pages, on a desktop and on a phone.
    for viewport in (DESKTOP, PHONE):
        context, page = _page(browser, service, learner_pages["state"], viewport=viewport)
        for url in [
            "/",
            "/exercises/message-echo",
            "/exercises/health-check",
            learner_pages["typo"],
            learner_pages["correct"],
            "/quizzes/message-cycle",
            "/docs",
            "/account",
            "/submissions/999999",
        ]:
            page.goto(url)
            page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
            assert_accessible(page, url)
        page.goto("/exercises/message-echo")
        page.get_by_role("button", name="Submit for grading").click()
        assert_accessible(page, "a refused upload")
        context.close()

    # The instructor's pages, the charts drawn from real gradings, on a desktop and on a phone.
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(base_url=service.base_url, viewport=viewport)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(INSTRUCTOR_EMAIL)
        page.get_by_label("Password").fill(INSTRUCTOR_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        for url in [
            "/courses/1/dashboard",
            "/instructor/users",
            "/instructor/audit",
            "/courses/1/dashboard?q=Tess",
            "/courses/1/cases?exercise=message-echo&case=hi",
            "/courses/1/mistakes?exercise=message-echo&cause=x",
            "/courses/1/exercises/message-echo/regrade",
        ]:
            page.goto(url)
            assert_accessible(page, f"{url} at {viewport['width']} px")
        page.goto("/courses/1/dashboard")
        page.screenshot(path=artifacts / f"dashboard-{viewport['width']}.png", full_page=True)
        if viewport is PHONE:
            context.close()
    page.goto("/courses/1/dashboard")
    page.get_by_role("link", name=LEARNER["name"]).first.click()
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    assert_accessible(page, "a learner's page")
    page.screenshot(path=artifacts / "instructor-learner.png", full_page=True)
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_dark_browser_gets_the_learner_pages_dark_with_their_contrast_kept(
    service, browser, artifacts, learner_pages, viewport
):
    from playwright.sync_api import expect

    context = browser.new_context(
        base_url=service.base_url, viewport=viewport, storage_state=learner_pages["state"], color_scheme="dark"
    )
    page = context.new_page()

    def check(name: str) -> None:
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert background == "rgb(18, 22, 29)", f"{name} is not dark: {background}"
        assert_accessible(page, f"{name}, dark, at {viewport['width']} px")
        page.screenshot(path=artifacts / f"dark-learner-{name}-{viewport['width']}.png", full_page=True)

    for name, url in [("home", "/"), ("exercise", "/exercises/message-echo"), ("quiz", "/quizzes/message-cycle")]:
        page.goto(url)
        check(name)
    # A result with its diagnosis card and the fix the grader checked, drawn as a diff.
    page.goto(learner_pages["typo"])
    expect(page.locator("article.diagnosis figure.fix-diff")).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    check("result-typo")
    page.goto(learner_pages["correct"])
    check("result-passed")
    # The quiz's result: a new attempt while any are left (the quiz allows three in all), else the latest.
    page.goto("/quizzes/message-cycle")
    if page.get_by_role("button", name="Submit answers").count():
        _answer_the_quiz_with_one_wrong(page)
    else:
        page.get_by_role("region", name="Your attempts").get_by_role("link").first.click()
        expect(page.get_by_role("heading", name=re.compile("^Your score: "))).to_be_visible()
    check("quiz-result")
    context.close()
