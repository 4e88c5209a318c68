"""An instructor's pages in a real browser, on a desktop and on a phone, with and without script:
a password reset that asks first, wide tables that scroll inside their own region, the header's menu
folded on a phone, and axe-core finding nothing on any of them.
"""

from __future__ import annotations

import re

import pytest

from .axe import assert_accessible
from .conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD, sign_in, sign_up

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LEARNER = {"email": "rosa.with.a.rather.long.address@example.org", "name": "Rosa Reset", "password": "rosa-pass-1"}


def _instructor(browser, service, viewport, *, script: bool = True, color_scheme: str = "light"):
    context = browser.new_context(
        base_url=service.base_url, viewport=viewport, java_script_enabled=script, color_scheme=color_scheme
    )
    page = context.new_page()
    sign_in(page, email=INSTRUCTOR_EMAIL, password=INSTRUCTOR_PASSWORD)
    return context, page


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture(scope="module")
def learner_id(service, browser) -> int:
    """A learner who signed up (so the audit log and the tables have rows)."""
    context = browser.new_context(base_url=service.base_url, viewport=DESKTOP)
    page = context.new_page()
    sign_up(page, **LEARNER)
    context.close()
    context, page = _instructor(browser, service, DESKTOP)
    page.goto("/instructor/users")
    href = page.get_by_role("link", name=LEARNER["name"]).get_attribute("href")
    context.close()
    return int(re.search(r"/instructor/learners/(\d+)", href).group(1))


@pytest.mark.parametrize("script", [True, False], ids=["script", "no-script"])
def test_a_password_reset_asks_first_then_acts(service, browser, artifacts, learner_id, script):
    from playwright.sync_api import expect

    for viewport in (DESKTOP, PHONE):
        context, page = _instructor(browser, service, viewport, script=script)
        page.goto(f"/courses/1/learners/{learner_id}")
        page.get_by_role("link", name="Reset this learner's password…").click()
        expect(page.get_by_role("heading", name=f"Reset the password of {LEARNER['name']}?")).to_be_visible()
        expect(page.get_by_text("signed out of every browser")).to_be_visible()
        if script:  # axe and the width check are scripts themselves: they run where script does
            assert_accessible(page, f"the password reset's question at {viewport['width']} px")
            assert _page_width(page) <= viewport["width"]
        page.screenshot(path=artifacts / f"confirm-reset-{viewport['width']}.png", full_page=True)
        # Going back changes nothing; the button does it.
        page.get_by_role("link", name="Keep the current password").click()
        expect(page.get_by_role("heading", name=re.compile(LEARNER["name"]))).to_be_visible()
        page.goto(f"/instructor/learners/{learner_id}/password")
        page.get_by_role("button", name=f"Reset the password of {LEARNER['name']}").click()
        expect(page.get_by_role("heading", name=f"New password for {LEARNER['name']}")).to_be_visible()
        assert page.locator("#new-password").inner_text().strip()
        context.close()


@pytest.mark.parametrize("script", [True, False], ids=["script", "no-script"])
def test_on_a_phone_wide_tables_scroll_in_their_own_region_and_the_menu_folds(
    service, browser, artifacts, learner_id, script
):
    from playwright.sync_api import expect

    context, page = _instructor(browser, service, PHONE, script=script)
    page.goto("/account")
    page.get_by_label("Name", exact=True).fill("a token with a long name to make the table wide")
    page.get_by_role("button", name="Create a token").click()
    for url, region in [
        ("/courses/1/dashboard", "Table of learners"),
        ("/instructor/audit", "Instructor actions, newest first"),
        ("/account", "Your API tokens"),
        ("/instructor/users", "Table of the accounts in your courses"),
    ]:
        page.goto(url)
        scroller = page.get_by_role("region", name=region)
        expect(scroller).to_be_visible()
        assert scroller.get_attribute("tabindex") == "0"
        # The header takes one line: the menu is folded until asked for.
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < 60, f"the header of {url} is {header['height']} px high"
        expect(page.get_by_role("link", name="Audit log")).to_be_hidden()
        if script:
            width = _page_width(page)
            assert width <= PHONE["width"], f"{url} is {width} px wide on a {PHONE['width']} px phone"
            assert_accessible(page, f"{url} on a phone")
        name = url.strip("/").replace("/", "-")
        page.screenshot(path=artifacts / f"phone-{name}-{'script' if script else 'noscript'}.png", full_page=True)
    page.goto("/instructor/audit")
    if script:
        # The audit log is wider than the phone: its region scrolls, from the keyboard too.
        scroller = page.get_by_role("region", name="Instructor actions, newest first")
        assert scroller.evaluate("element => element.scrollWidth > element.clientWidth")
        scroller.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
        assert scroller.evaluate("element => element.scrollLeft") > 0

    page.get_by_text("Menu", exact=True).click()
    expect(page.get_by_role("link", name="Audit log")).to_be_visible()
    if script:
        assert_accessible(page, "the audit log with the menu open")
    page.screenshot(path=artifacts / f"phone-menu-open-{'script' if script else 'noscript'}.png")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("heading", name="Course: results")).to_be_visible()
    context.close()


def test_on_a_desktop_the_menu_is_a_row_of_links(service, browser, artifacts, learner_id):
    from playwright.sync_api import expect

    context, page = _instructor(browser, service, DESKTOP)
    for url in ["/courses/1/dashboard", "/instructor/audit", "/account", "/instructor/users"]:
        page.goto(url)
        expect(page.get_by_role("link", name="Audit log")).to_be_visible()
        expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
        assert_accessible(page, f"{url} on a desktop")
        page.screenshot(path=artifacts / f"desktop-{url.strip('/').replace('/', '-')}.png", full_page=True)
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_dark_browser_gets_the_dark_theme_with_its_contrast_kept(service, browser, artifacts, learner_id, viewport):
    signed_out = browser.new_context(base_url=service.base_url, viewport=viewport, color_scheme="dark")
    page = signed_out.new_page()
    page.goto("/login")
    assert_accessible(page, "the sign-in page, dark")
    signed_out.close()

    context, page = _instructor(browser, service, viewport, color_scheme="dark")
    page.goto("/account")
    page.get_by_label("Name", exact=True).fill("dark terminal")
    page.get_by_role("button", name="Create a token").click()
    assert_accessible(page, "the account page with a new token, dark")
    page.screenshot(path=artifacts / f"dark-account-{viewport['width']}.png", full_page=True)
    for url in [
        "/courses/1/dashboard",
        "/instructor/audit",
        "/instructor/users",
        f"/instructor/learners/{learner_id}/password",
    ]:
        page.goto(url)
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert background == "rgb(18, 22, 29)", f"{url} is not dark: {background}"
        assert_accessible(page, f"{url}, dark")
        name = url.strip("/").replace("/", "-")
        page.screenshot(path=artifacts / f"dark-{name}-{viewport['width']}.png", full_page=True)
    context.close()
