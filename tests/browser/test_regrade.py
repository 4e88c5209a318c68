"""A bulk regrade in a real browser: the question with the count, the live progress, then what changed.

Three learners upload through the site and the service grades them in the sandbox. The instructor
then moves points between two of the exercise's cases (the file is edited and ``autograder
sync-content`` loads it, as an operator does) and regrades: one score goes up, one down, one stays.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.config import PROJECT_ROOT

from .axe import assert_accessible
from .conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

GRADING_TIMEOUT_MS = 90_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
HEAD = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.post('/message')\nasync def echo(msg: dict):\n"
LEARNERS = [
    ({"email": "rae@example.org", "name": "Rae Right", "password": "rae-password-1"}, "    return {'received': msg}\n"),
    (
        {"email": "hal@example.org", "name": "Hal Hello", "password": "hal-password-1"},
        "    return {'received': {'text': 'Hello'}}\n",
    ),
    (
        {"email": "hia@example.org", "name": "Hia Hi", "password": "hia-password-1"},
        "    return {'received': {'text': 'Hi'}}\n",
    ),
]
HELLO_POINTS = "points = 2\nhint = \"Return {'received': msg}"
HI_POINTS = 'points = 2\nhint = "The reply must be built'


@pytest.fixture(scope="module")
def exercises(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the course's exercises that the test edits, as an instructor edits theirs."""
    folder = tmp_path_factory.mktemp("exercises") / "exercises"
    shutil.copytree(PROJECT_ROOT / "exercises", folder)
    return folder


@pytest.fixture(scope="module")
def service_env(exercises: Path) -> Iterator[dict[str, str]]:
    yield {"GRADER_EXERCISES_DIR": str(exercises)}


def _sign_in(browser, service, viewport):
    context = browser.new_context(base_url=service.base_url, viewport=viewport)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(INSTRUCTOR_EMAIL)
    page.get_by_label("Password").fill(INSTRUCTOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return context, page


def _upload(browser, service, learner: dict[str, str], source: str) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(base_url=service.base_url, viewport=DESKTOP)
    page = context.new_page()
    sign_up(page, **learner)
    page.goto("/exercises/message-echo")
    expect(page.get_by_role("button", name="Submit for grading")).to_be_enabled(timeout=10_000)
    page.get_by_label("Code").fill(HEAD + source)
    page.get_by_role("button", name="Submit for grading").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
    expect(page.locator("#report-heading")).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    context.close()


def test_confirm_then_live_progress_then_what_changed(service, browser, artifacts, exercises):
    from playwright.sync_api import expect

    # Before anyone hands in: nothing to regrade, said on the question page (no error page).
    for viewport in (DESKTOP, PHONE):
        context, page = _sign_in(browser, service, viewport)
        page.goto("/instructor/exercises/message-echo/regrade")
        expect(page.get_by_role("heading", name="Nothing to regrade: no submissions yet")).to_be_visible()
        expect(page.locator("main").get_by_role("button")).to_have_count(0)
        assert_accessible(page, f"nothing to regrade at {viewport['width']} px")
        context.close()

    for learner, source in LEARNERS:
        _upload(browser, service, learner, source)
    spec_file = exercises / "message-echo" / "exercise.toml"
    text = spec_file.read_text()
    spec_file.write_text(
        text.replace(HELLO_POINTS, HELLO_POINTS.replace("2", "3", 1)).replace(HI_POINTS, HI_POINTS.replace("2", "1", 1))
    )
    synced = service.run("sync-content")
    assert synced.returncode == 0, synced.stderr

    context, page = _sign_in(browser, service, DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/instructor/exercises/message-echo/regrade")
    expect(page.locator("main")).to_contain_text("3 submissions from 3 learners go back in the grading queue")
    assert_accessible(page, "the regrade question at 1280 px")
    page.screenshot(path=artifacts / "regrade-confirm-1280.png", full_page=True)
    page.get_by_role("button", name="Regrade all 3 submissions").click()
    expect(page).to_have_url(re.compile(r"/instructor/regrades/\d+$"))
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    expect(page.locator("progress")).to_be_visible()
    summary = page.get_by_role("heading", name="What changed")
    expect(summary).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    assert page.evaluate("window.__sameDocument === true"), "the summary should arrive without a reload"
    expect(page.get_by_role("status")).to_have_text("Done: all 3 submissions graded again.")
    counts = page.locator(".regrade-counts")
    for line in ("1 score went up", "1 score went down", "1 unchanged", "0 could not be graded"):
        expect(counts).to_contain_text(line)
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Hal Hello")
    expect(rows.nth(0)).to_contain_text("up")
    expect(rows.nth(1)).to_contain_text("Hia Hi")
    expect(rows.nth(1)).to_contain_text("down")
    assert_accessible(page, "a finished regrade at 1280 px")
    page.screenshot(path=artifacts / "regrade-summary-1280.png", full_page=True)
    regrade_url = page.url
    # Each changed score links to its submission.
    rows.nth(0).get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
    assert errors == []
    context.close()

    context, page = _sign_in(browser, service, PHONE)
    page.goto("/instructor/exercises/message-echo/regrade")
    assert_accessible(page, "the regrade question at 390 px")
    page.screenshot(path=artifacts / "regrade-confirm-390.png", full_page=True)
    page.goto(regrade_url)
    expect(page.get_by_role("heading", name="What changed")).to_be_visible()
    assert_accessible(page, "a finished regrade at 390 px")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"
    page.screenshot(path=artifacts / "regrade-summary-390.png", full_page=True)
    context.close()
