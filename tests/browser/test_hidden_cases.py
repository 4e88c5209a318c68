"""Hidden cases in a real browser: what a learner's result page shows of them, and an instructor's.

``autograder serve`` runs with the course's exercises and one with hidden cases; the
submission is graded for real by its worker. Screenshots are kept in test-artifacts/.
"""

from __future__ import annotations

import re
import shutil

import pytest

from grader.config import PROJECT_ROOT
from tests.web.test_visibility import AFTER_DUE_MARKS, EXERCISE, HIDDEN_MARKS, SLUG, WRONG

from .axe import assert_accessible
from .conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD, sign_in, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

GRADING_TIMEOUT_MS = 90_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LEARNER = {"email": "hana@example.org", "name": "Hana Hidden", "password": "hana-password-1"}


@pytest.fixture(scope="module")
def service_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The course's exercises and one with hidden cases."""
    folder = tmp_path_factory.mktemp("hidden") / "exercises"
    shutil.copytree(PROJECT_ROOT / "exercises", folder)
    (folder / SLUG).mkdir()
    (folder / SLUG / "exercise.toml").write_text(EXERCISE, encoding="utf-8")
    return {"GRADER_EXERCISES_DIR": str(folder)}


@pytest.fixture(scope="module")
def result_url(service, browser) -> str:
    """The learner's wrong submission, graded; its page's address."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=service.base_url, viewport=DESKTOP)
    page = context.new_page()
    sign_up(page, **LEARNER)
    page.goto(f"/exercises/{SLUG}")
    page.get_by_label("Code").fill(WRONG)
    page.get_by_role("button", name="Submit for grading").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
    expect(page.locator("#report-heading")).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    url = page.url
    context.close()
    return url


def _signed_in(browser, service, email: str, password: str, viewport: dict[str, int]):
    context = browser.new_context(base_url=service.base_url, viewport=viewport)
    page = context.new_page()
    sign_in(page, email=email, password=password)
    return context, page


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_a_learner_sees_hidden_checks_without_their_data(service, browser, artifacts, result_url, name, viewport):
    from playwright.sync_api import expect

    context, page = _signed_in(browser, service, LEARNER["email"], LEARNER["password"], viewport)
    page.goto(result_url)
    expect(page.locator("#report-heading")).to_contain_text("1 / 3 points")
    card = page.locator("article.diagnosis")
    expect(card).to_have_count(1)
    expect(card.locator("h3")).to_have_text("2 hidden checks failed")
    card.locator("details.case").nth(1).locator("summary").click()
    expect(card.get_by_text("This is a hidden check: what it sends and expects is not shown to you.")).to_be_visible()
    text = page.locator("main").inner_text()
    for mark in HIDDEN_MARKS + AFTER_DUE_MARKS:
        assert mark not in text
    page.screenshot(path=artifacts / f"result-hidden-cases-{name}.png", full_page=True)
    assert_accessible(page, f"a result with hidden checks ({name})")
    page.goto(f"/exercises/{SLUG}")
    expect(page.get_by_text("A hidden check").first).to_be_visible()
    assert_accessible(page, f"an exercise with hidden checks ({name})")
    context.close()


def test_an_instructor_sees_the_hidden_cases_data_marked_as_hidden(service, browser, artifacts, result_url):
    from playwright.sync_api import expect

    context, page = _signed_in(browser, service, INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD, DESKTOP)
    page.goto(result_url)
    expect(page.locator("#report-heading")).to_contain_text("1 / 3 points")
    main = page.locator("main")
    expect(main.get_by_text("pelican-never")).to_be_visible()
    expect(main.get_by_text("hidden from learners")).to_be_visible()
    expect(main.get_by_text("shown to learners after their due date")).to_be_visible()
    assert "PELICAN-sent-97" in page.content()
    page.screenshot(path=artifacts / "result-hidden-cases-instructor.png", full_page=True)
    assert_accessible(page, "an instructor's view of a result with hidden cases")
    context.close()
