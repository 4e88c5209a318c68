"""An instructor imports a class from CSV in a real browser, against the real service (argon2id at full cost).

The passwords are hashed in the background: the page answers at once, shows the generated
passwords and a progress bar the script keeps up to date, and sign-ins go on meanwhile.
"""

from __future__ import annotations

import re

import httpx
import pytest

from .axe import assert_accessible
from .conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD

pytestmark = pytest.mark.browser

ACCOUNTS = 24  # about 3 s of hashing at full cost


def test_a_class_is_imported_in_the_background_with_live_progress(service, browser, artifacts):
    from playwright.sync_api import expect

    errors: list[str] = []
    context = browser.new_context(base_url=service.base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/login")
    page.get_by_label("Email").fill(INSTRUCTOR_EMAIL)
    page.get_by_label("Password").fill(INSTRUCTOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/instructor/users")

    # Two wrong lines: both are listed, and nothing is imported.
    page.get_by_label("…or paste the CSV").fill("email,display_name\nnot-an-email,A\nb@example.org,\n")
    page.get_by_role("button", name="Import accounts").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported: 2 lines of the CSV need fixing.")
    problems = page.get_by_role("list", name="Lines to fix")
    expect(problems).to_contain_text("Line 2: Enter a valid e-mail address.")
    expect(problems).to_contain_text("Line 3: Enter a name")
    assert_accessible(page, "a refused import")

    rows = "".join(f"pupil{number:02}@example.org,Pupil {number:02}\n" for number in range(ACCOUNTS))
    page.get_by_label("…or paste the CSV").fill("email,display_name\n" + rows)
    page.get_by_role("button", name="Import accounts").click()
    expect(page.get_by_role("heading", name=f"Importing {ACCOUNTS} accounts")).to_be_visible()
    first_password = page.locator("td code").first.inner_text()
    # While the passwords are hashed, someone else signs in.
    token = httpx.post(
        f"{service.base_url}/api/v1/token",
        data={"username": INSTRUCTOR_EMAIL, "password": INSTRUCTOR_PASSWORD},
        timeout=30,
    )
    assert token.status_code == 200
    status_url = page.locator("[data-progress-url]").get_attribute("data-progress-url")
    assert status_url is not None
    assert page.request.get(status_url).json()["status"] == "running"
    assert_accessible(page, "an import under way")

    # The script follows the progress to its end, without a reload.
    expect(page.locator("[data-progress-text]")).to_have_text(f"Done: {ACCOUNTS} accounts created.", timeout=120_000)
    bar = page.locator("progress")
    assert bar.evaluate("(bar) => [bar.value, bar.max]") == [ACCOUNTS, ACCOUNTS]
    page.screenshot(path=str(artifacts / "account-import.png"), full_page=True)

    import_page = re.sub(r"/status$", "", status_url)
    page.goto(import_page)
    expect(page.get_by_role("status")).to_have_text(f"Done: {ACCOUNTS} accounts created.")
    assert_accessible(page, "an import's page")

    # A generated password, as shown once, signs its learner in.
    learner = httpx.post(
        f"{service.base_url}/api/v1/token",
        data={"username": "pupil00@example.org", "password": first_password},
        timeout=30,
    )
    assert learner.status_code == 200, learner.text
    assert errors == []
    context.close()


def test_an_import_that_fails_at_the_end_hides_its_passwords(service, browser):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=service.base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(INSTRUCTOR_EMAIL)
    page.get_by_label("Password").fill(INSTRUCTOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/instructor/users")
    rows = "".join(f"late{number:02}@example.org,Late {number:02}\n" for number in range(40))  # about 6 s
    page.get_by_label("…or paste the CSV").fill("email,display_name\n" + rows)
    page.get_by_role("button", name="Import accounts").click()
    passwords = page.get_by_role("table").filter(has_text="Generated password")
    expect(passwords).to_be_visible()

    # Meanwhile another instructor's page creates one of those accounts by hand.
    other = context.new_page()
    other.goto("/instructor/users")
    other.get_by_label("E-mail").fill("late39@example.org")
    other.get_by_label("Name", exact=True).fill("Late Thirty-Nine")
    other.get_by_role("button", name="Create account").click()
    expect(other.get_by_role("status")).to_contain_text("Created 1 account")

    expect(page.locator("[data-progress-text]")).to_have_text(
        "Line 41: an account with late39@example.org was created meanwhile. Nothing was imported.", timeout=120_000
    )
    expect(passwords).to_be_hidden()
    context.close()
