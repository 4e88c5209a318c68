"""A refused form brings the learner to its reason, with and without script.

Without script, the error notice's ``autofocus`` is what moves focus (and so the
view, and a screen reader's reading) to it; app.js does the same where it runs.
Each refused page is photographed (test-artifacts/) and checked by axe-core.
"""

from __future__ import annotations

import pytest

from .axe import assert_accessible
from .conftest import JOIN_CODE, sign_up

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LEARNER = {"email": "fern@example.org", "name": "Fern Forms", "password": "fern-password-1"}


def _assert_on_error(page, text: str) -> None:
    """The page's one alert says ``text``, has the focus and is on screen."""
    from playwright.sync_api import expect

    error = page.get_by_role("alert")
    expect(error).to_have_count(1)
    expect(error).to_contain_text(text)
    expect(error).to_be_focused()
    expect(error).to_be_in_viewport()


@pytest.mark.parametrize("script", [False, True], ids=["without-script", "with-script"])
def test_every_refused_form_opens_on_its_error(service, browser, artifacts, script):
    suffix = "script" if script else "no-script"
    email = f"{suffix}-{LEARNER['email']}"
    context = browser.new_context(base_url=service.base_url, viewport=PHONE, java_script_enabled=script)
    page = context.new_page()

    def check(name: str, text: str) -> None:
        _assert_on_error(page, text)
        page.screenshot(path=artifacts / f"form-error-{name}-{suffix}.png")
        if script:  # axe is itself a script: it runs where pages may run one (the markup is the same)
            assert_accessible(page, f"a refused {name}")

    page.goto("/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name").fill(LEARNER["name"])
    page.get_by_label("Password").fill(LEARNER["password"])
    page.get_by_label("Join code").fill("NOT-" + JOIN_CODE)
    page.get_by_role("button", name="Create account").click()
    check("sign-up", "join code")

    sign_up(page, email=email, name=LEARNER["name"], password=LEARNER["password"])
    page.get_by_text("Menu", exact=True).click()  # on a phone the header's links are folded
    page.get_by_role("link", name="Account").click()
    page.get_by_label("Current password").fill("not the password")
    page.get_by_label("New password").fill("quiet lantern orchard")
    page.get_by_role("button", name="Change password").click()
    check("password-change", "password")

    # The upload form is far down the exercise page: the error must come into view.
    page.goto("/exercises/message-echo")
    page.get_by_role("button", name="Submit for grading").click()  # nothing pasted, no file
    check("upload", "")

    # A quiz answered in one tab after the attempts ran out in another.
    page.goto("/quizzes/message-cycle")
    for group in page.locator("fieldset").all():
        group.get_by_role("radio").first.check()
    other = context.new_page()
    for _ in range(3):
        other.goto("/quizzes/message-cycle")
        for group in other.locator("fieldset").all():
            group.get_by_role("radio").first.check()
        other.get_by_role("button", name="Submit answers").click()
        other.wait_for_url("**/attempts/*")
    other.close()
    page.get_by_role("button", name="Submit answers").click()
    check("quiz", "attempts")

    page.get_by_text("Menu", exact=True).click()
    page.get_by_role("button", name="Sign out").click()
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    check("sign-in", "")
    context.close()
