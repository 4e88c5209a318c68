"""A learner manages their account in a real browser: a token from the page, a password change, sign-out everywhere."""

from __future__ import annotations

import httpx
import pytest

from .axe import assert_accessible
from .conftest import sign_up

pytestmark = pytest.mark.browser

LEARNER = {"email": "ana@example.org", "name": "Ana Account", "password": "ana-first-password"}
NEW_PASSWORD = "quiet lantern orchard"


def test_a_learner_changes_the_password_and_signs_out_everywhere(service, browser, artifacts):
    from playwright.sync_api import expect

    errors: list[str] = []
    context = browser.new_context(base_url=service.base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, **LEARNER)
    elsewhere = browser.new_context(base_url=service.base_url).new_page()
    elsewhere.goto("/login")
    elsewhere.get_by_label("Email").fill(LEARNER["email"])
    elsewhere.get_by_label("Password").fill(LEARNER["password"])
    elsewhere.get_by_role("button", name="Sign in").click()
    expect(elsewhere.get_by_role("heading", name=f"Hello, {LEARNER['name']}")).to_be_visible()

    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("laptop terminal")
    page.get_by_role("button", name="Create a token").click()
    expect(page.get_by_role("heading", name="Your new token “laptop terminal”")).to_be_visible()
    token = page.locator("#new-token").inner_text().strip()
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{service.base_url}/api/v1/exercises", headers=bearer).status_code == 200
    assert token not in page.url
    # The script shows a copy button; without it, one click on the secret selects all of it.
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    assert page.locator("#new-token").evaluate("element => getComputedStyle(element).userSelect") == "all"
    assert_accessible(page, "the account page with a new token")
    page.screenshot(path=str(artifacts / "account-token-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page, "the account page with a new token, on a phone")
    page.screenshot(path=str(artifacts / "account-token-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    # Reloading shows the token in the list, by its name, but neither its secret nor a second token.
    page.reload()
    expect(page.get_by_role("row", name="laptop terminal")).to_have_count(1)
    expect(page.locator("#new-token")).to_have_count(0)
    listed = httpx.get(f"{service.base_url}/api/v1/tokens", headers=bearer).json()
    assert [item["label"] for item in listed] == ["laptop terminal"]

    # A trivial new password is refused, with the reason on the page.
    page.get_by_label("Current password").fill(LEARNER["password"])
    page.get_by_label("New password").fill("password")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("This is a top-10 common password.")

    page.get_by_label("Current password").fill(LEARNER["password"])
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password was changed")
    page.screenshot(path=str(artifacts / "account-changed.png"), full_page=True)
    # This browser stays signed in; the other one and the token do not.
    assert httpx.get(f"{service.base_url}/api/v1/exercises", headers=bearer).status_code == 401
    elsewhere.goto("/")
    expect(elsewhere.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(LEARNER["email"])
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Hello, {LEARNER['name']}")).to_be_visible()
    assert errors == []
