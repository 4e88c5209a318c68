"""One course in a real browser: a learner submits and takes the quiz, the instructor follows.

Chromium drives ``autograder serve`` with its real grading worker, so the
correct solution really runs in the sandbox and really turns green.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from grader.config import PROJECT_ROOT

from .conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD, choose, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

GRADING_TIMEOUT_MS = 90_000
LEARNER = {"email": "lee@example.org", "name": "Lee Learner", "password": "lee-password-1"}
WRONG_SOLUTION = """from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    print("<script>alert('from the learner')</script>")
    return {"received": {"text": "Hello"}}
"""


def _expect_no_console_errors(page, errors: list[str]) -> None:
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))


def test_learner_and_instructor_journey(service, browser, artifacts):
    from playwright.sync_api import expect

    errors: list[str] = []
    learner = browser.new_context(base_url=service.base_url, viewport={"width": 1280, "height": 900})
    page = learner.new_page()
    _expect_no_console_errors(page, errors)

    # Sign up with the course's join code.
    sign_up(page, **LEARNER)

    # Upload the correct solution and watch it turn green without reloading.
    page.get_by_role("link", name="Send and receive a message").click()
    expect(page.get_by_role("caption").filter(has_text="Execution table")).to_be_visible()
    page.get_by_label("Python file (.py)").set_input_files(PROJECT_ROOT / "examples" / "solution.py")
    page.get_by_role("button", name="Submit for grading").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    heading = page.locator("#report-heading")
    expect(heading).to_contain_text("Passed", timeout=GRADING_TIMEOUT_MS)
    expect(heading).to_contain_text("16 / 16 points")
    assert page.evaluate("window.__sameDocument === true"), "the result should appear without a reload"
    expect(heading.locator(".verdict-passed")).to_be_visible()
    page.screenshot(path=artifacts / "submission.png", full_page=True)

    # A wrong solution: the failing case shows the table, the expected body and what to fix.
    page.goto("/exercises/message-echo")
    expect(page.get_by_role("button", name="Submit for grading")).to_be_enabled(timeout=10_000)
    page.get_by_label("Code").fill(WRONG_SOLUTION)
    page.get_by_role("button", name="Submit for grading").click()
    expect(page.locator("#report-heading")).to_contain_text("Failed", timeout=GRADING_TIMEOUT_MS)
    # It leads with the mistake; the first case it explains is open below it.
    card = page.locator("article.diagnosis").first
    expect(card.locator(".fix")).to_contain_text("What to change:")
    failing = card.locator("details.case-failed").filter(has_text="A different message")
    expect(failing).to_have_attribute("open", "")
    expect(failing.get_by_text("The client receives and reads the body")).to_be_visible()
    # What the program printed is shown as text, folded at the end of the result. (Which case
    # a print belongs to is the engine's best effort, read while its output still streams in,
    # so it is checked on stored reports in tests/web/test_result_page.py, not here.)
    page.get_by_text("Everything your program printed").click()
    printed = page.locator(".program-output pre.output").filter(has_text="<script>alert('from the learner')</script>")
    expect(printed).to_be_visible()
    page.screenshot(path=artifacts / "submission-failed.png", full_page=True)

    # History marks the best submission.
    page.goto("/exercises/message-echo")
    best_row = page.locator("#history tr").filter(has_text="★ Best")
    expect(best_row).to_have_count(1)
    expect(best_row).to_contain_text("16 / 16")

    # The quiz: one choice per question, then the score and the feedback.
    page.goto("/quizzes/message-cycle")
    expect(page.get_by_role("caption").filter(has_text="Variable tracker")).to_be_visible()
    page.screenshot(path=artifacts / "quiz.png", full_page=True)
    questions = page.locator(".question")
    choose(questions.nth(0), "{'text': 'Hello'}")
    choose(questions.nth(1), "Step 3")
    choose(questions.nth(2), "Nothing is different")
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("heading", name="Your score: 2/3")).to_be_visible()
    expect(page.locator(".question-wrong .option-chosen")).to_contain_text("Nothing is different")
    expect(page.locator(".question-wrong .explanation").first).to_contain_text("Why not ")
    expect(page.locator(".question-wrong .explanation")).to_contain_text(["Why not ", "Where to look:"])
    page.screenshot(path=artifacts / "quiz-result.png", full_page=True)
    learner.close()

    # The instructor sees both results and exports the gradebook.
    teacher = browser.new_context(
        base_url=service.base_url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = teacher.new_page()
    _expect_no_console_errors(page, errors)
    page.goto("/courses/1/dashboard")
    page.get_by_label("Email").fill(INSTRUCTOR_EMAIL)
    page.get_by_label("Password").fill(INSTRUCTOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Course: results")).to_be_visible()
    row = page.locator("#gradebook tbody tr").filter(has_text=LEARNER["name"])
    expect(row).to_contain_text("16 / 16")  # best
    expect(row).to_contain_text("2 / 3")  # quiz
    expect(page.locator("svg.chart")).to_have_count(6)
    page.screenshot(path=artifacts / "dashboard.png", full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export the gradebook (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download_info.value.path().read_text())))
    lee = next(row for row in rows if row["email"] == LEARNER["email"])
    assert lee["message-echo best"] == "16" and lee["message-cycle score"] == "2"

    # The learner's detail page shows the printed script as text.
    row.get_by_role("link", name=LEARNER["name"]).click()
    expect(page.get_by_text("print(\"<script>alert('from the learner')</script>\")").first).to_be_attached()
    teacher.close()
    assert errors == [], errors


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_pages_work_without_javascript_and_the_dashboard_updates_live(service, browser, artifacts):
    from playwright.sync_api import expect

    teacher = browser.new_context(base_url=service.base_url, timezone_id="America/New_York")
    dashboard = teacher.new_page()
    _sign_in(dashboard, INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD)
    dashboard.goto("/courses/1/dashboard")
    dashboard.evaluate("window.__sameDocument = true")

    # A learner whose browser runs no script at all.
    plain = browser.new_context(base_url=service.base_url, java_script_enabled=False)
    page = plain.new_page()
    sign_up(page, email="nojs@example.org", name="Noah Noscript", password="nojs-password-1")
    page.goto("/exercises/message-echo")
    page.get_by_label("Code").fill((PROJECT_ROOT / "examples" / "solution.py").read_text())
    page.get_by_role("button", name="Submit for grading").click()
    # The page refreshes itself (a <noscript> meta refresh) until the result is there.
    expect(page.locator("#report-heading")).to_contain_text("Passed", timeout=GRADING_TIMEOUT_MS)
    plain.close()

    # Meanwhile the instructor's open dashboard picked the new result up by itself.
    row = dashboard.locator("#gradebook tbody tr").filter(has_text="Noah Noscript")
    expect(row).to_contain_text("16 / 16", timeout=30_000)
    assert dashboard.evaluate("window.__sameDocument === true"), "the dashboard should update without a reload"
    expect(dashboard.locator("[data-live-status]")).to_contain_text("Updated automatically")
    # A row that arrives live shows its time as the page's other times do: in the viewer's zone, named.
    expect(row.locator("time")).to_have_text(re.compile(r"^\w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d E[SD]T$"))
    expect(dashboard.locator("[data-live-status]")).to_have_text(re.compile(r"last checked \d\d:\d\d:\d\d E[SD]T\.$"))
    teacher.close()
