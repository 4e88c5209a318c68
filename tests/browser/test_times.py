"""The same moment seen from Berlin (with a German browser), from New York, and without script.

The page is English, so the names are English whatever the browser's language; each reader sees
the time in their own zone with the zone named, and without script the server's UTC text stands.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from .conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD, sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TOKEN = "times seen from afar"
READERS = [
    # (id, time zone, browser language, script, the zone's name as the page writes it in December)
    ("berlin", "Europe/Berlin", "de-DE", True, "GMT+1"),
    ("new-york", "America/New_York", "en-US", True, "EST"),
    ("no-script", "Europe/Berlin", "de-DE", False, "UTC"),
]


def _signed_in(browser, service, *, viewport, timezone_id, locale, script):
    context = browser.new_context(
        base_url=service.base_url,
        viewport=viewport,
        timezone_id=timezone_id,
        locale=locale,
        java_script_enabled=script,
    )
    page = context.new_page()
    sign_in(page, email=INSTRUCTOR_EMAIL, password=INSTRUCTOR_PASSWORD)
    return context, page


@pytest.fixture(scope="module")
def token_created(service, browser) -> str:
    """The moment the instructor made an API token, as the page's ``datetime`` attribute holds it."""
    context, page = _signed_in(browser, service, viewport=DESKTOP, timezone_id="UTC", locale="en-GB", script=True)
    page.goto("/account")
    page.get_by_label("Name", exact=True).fill(TOKEN)
    page.get_by_role("button", name="Create a token").click()
    page.goto("/account")
    stamp = page.get_by_role("row", name=TOKEN).locator("time").first.get_attribute("datetime")
    assert context.request.get("/instructor/gradebook.csv").ok  # an export, so the audit log has a row
    context.close()
    return stamp


def _expected(stamp: str, zone: str, name: str) -> str:
    moment = datetime.fromisoformat(stamp).astimezone(ZoneInfo(zone))
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M} {name}"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize(("reader", "zone", "locale", "script", "zone_name"), READERS, ids=[r[0] for r in READERS])
def test_each_reader_sees_the_same_moment_in_their_own_zone_named(
    service, browser, artifacts, token_created, viewport, reader, zone, locale, script, zone_name
):
    from playwright.sync_api import expect

    context, page = _signed_in(browser, service, viewport=viewport, timezone_id=zone, locale=locale, script=script)
    page.goto("/account")
    created = page.get_by_role("row", name=TOKEN).locator("time").first
    assert created.get_attribute("datetime") == token_created
    shown_zone = zone if script else "UTC"
    expect(created).to_have_text(_expected(token_created, shown_zone, zone_name))
    if script:
        # The server's UTC text is kept as the tooltip; the page's language, not the browser's, names things.
        assert created.get_attribute("title") == _expected(token_created, "UTC", "UTC")
        texts = page.locator("time").all_inner_texts()
        assert texts and all(text.endswith(f" {zone_name}") for text in texts), texts
        assert not any(german in page.inner_text("main") for german in ("Dez.", "Mo.,", "MEZ"))
    page.screenshot(path=artifacts / f"times-{reader}-{viewport['width']}.png", full_page=True)

    # The audit log writes its times the same way, under a heading that names no zone.
    page.goto("/instructor/audit")
    expect(page.get_by_role("columnheader", name="When", exact=True)).to_be_visible()
    for text in page.locator("tbody time").all_inner_texts():
        assert text.endswith(f" {zone_name}"), text
    context.close()
