"""A course from both sides in a real browser: dates typed in Berlin, read in New York, an extension granted.

The instructor's browser runs in Europe/Berlin and the learner's in America/New_York (Playwright's
``timezone_id``): the due date typed as 18:00 in Berlin is stored as 17:00 UTC and read as 12:00 in
New York. Every page is checked by axe at desktop and phone widths and photographed.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .axe import assert_accessible
from .conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD, sign_in, sign_up

pytestmark = [pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LEARNER = {"email": "nora@example.org", "name": "Nora Night", "password": "nora-password-1"}
SOLUTION = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def _check(page, artifacts, name: str) -> None:
    """axe at both widths, with a full-page screenshot of each."""
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        assert_accessible(page, f"{name} at {viewport['width']} px")
        page.screenshot(path=artifacts / f"courses-{name}-{viewport['width']}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_a_course_from_creation_to_an_extension_across_time_zones(service, browser, artifacts):
    from playwright.sync_api import expect

    errors: list[str] = []
    teaching = browser.new_context(base_url=service.base_url, viewport=DESKTOP, timezone_id="Europe/Berlin")
    teacher = teaching.new_page()
    teacher.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(teacher, email=INSTRUCTOR_EMAIL, password=INSTRUCTOR_PASSWORD)

    # Create a course and place the lesson's exercise in it.
    teacher.goto("/courses")
    _check(teacher, artifacts, "list")
    teacher.get_by_label("Title").fill("Evening web apps")
    teacher.get_by_role("button", name="Create the course").click()
    expect(teacher.get_by_role("heading", name="Evening web apps", level=1)).to_be_visible()
    _check(teacher, artifacts, "assignments-empty")
    teacher.get_by_label("Exercise", exact=True).select_option(label="Send and receive a message")
    teacher.get_by_role("button", name="Place it").click()
    expect(teacher.get_by_role("heading", name="Send and receive a message", level=2)).to_be_visible()

    # The form names the browser's zone; 18:00 typed in Berlin is stored as 17:00 UTC (winter time).
    expect(teacher.locator("[data-zone-name]").first).to_have_text("Europe/Berlin")
    berlin = ZoneInfo("Europe/Berlin")
    due_day = (datetime.now(berlin) + timedelta(days=3)).date()
    due_local = datetime(due_day.year, due_day.month, due_day.day, 18, 0, tzinfo=berlin)
    teacher.get_by_label("Due at").fill(due_local.strftime("%Y-%m-%dT%H:%M"))
    teacher.get_by_role("button", name="Save", exact=True).click()
    expect(teacher.get_by_role("status")).to_have_text("Saved. No score changed.")
    due_utc = due_local.astimezone(ZoneInfo("UTC"))
    expect(teacher.get_by_label("Due at")).to_have_attribute("data-utc", due_utc.isoformat())
    expect(teacher.get_by_label("Due at")).to_have_value(due_local.strftime("%Y-%m-%dT%H:%M"))
    _check(teacher, artifacts, "assignment")

    teacher.get_by_role("link", name="Settings and members").click()
    code = teacher.locator("code.join-code").inner_text()
    assert re.fullmatch(r"[0-9a-f]{12}", code)
    _check(teacher, artifacts, "settings")

    # A learner in New York signs up with the course's code and reads the due date in their own zone.
    learning = browser.new_context(base_url=service.base_url, viewport=DESKTOP, timezone_id="America/New_York")
    learner = learning.new_page()
    learner.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(learner, **LEARNER, join_code=code)
    expect(learner.get_by_role("heading", name="Evening web apps")).to_be_visible()
    row = learner.get_by_role("row").filter(has_text="Send and receive a message")
    due_here = due_local.astimezone(ZoneInfo("America/New_York"))
    assert due_here.hour == 12
    due_cell = row.locator("time")
    expect(due_cell).to_have_attribute("datetime", due_utc.isoformat())
    expect(due_cell).to_contain_text("12:00")
    expect(row).to_contain_text("open")
    _check(learner, artifacts, "home-open")

    # On time: the exercise page states the date and the policy, and the upload counts for the assignment.
    row.get_by_role("link", name="Send and receive a message").click()
    expect(learner).to_have_url(re.compile(r"/exercises/message-echo\?assignment=\d+$"))
    expect(learner.locator("#assignment-dates")).to_contain_text("Work sent after the due date is not accepted.")
    learner.get_by_label("Code").fill(SOLUTION)
    learner.get_by_role("button", name="Submit for grading").click()
    expect(learner).to_have_url(re.compile(r"/submissions/\d+$"))
    learner.goto("/")
    expect(learner.get_by_role("row").filter(has_text="Send and receive a message")).to_contain_text("submitted")

    # The instructor grants Nora two more days; her start page says so.
    teacher.get_by_role("link", name="Assignments").click()
    _check(teacher, artifacts, "assignments")
    teacher.get_by_role("link", name="Send and receive a message", exact=True).click()
    teacher.get_by_label("Learner", exact=True).select_option(label=f"{LEARNER['name']} ({LEARNER['email']})")
    later = due_local + timedelta(days=2)
    teacher.get_by_label("Due for them").fill(later.strftime("%Y-%m-%dT%H:%M"))
    teacher.get_by_role("button", name="Save the extension").click()
    expect(teacher.get_by_role("status")).to_contain_text("Extension saved.")
    expect(teacher.get_by_role("row").filter(has_text=LEARNER["name"])).to_be_visible()
    _check(teacher, artifacts, "assignment-extension")

    learner.reload()
    row = learner.get_by_role("row").filter(has_text="Send and receive a message")
    expect(row).to_contain_text("extended to")
    expect(row.locator("time")).to_have_attribute("datetime", later.astimezone(ZoneInfo("UTC")).isoformat())
    _check(learner, artifacts, "home-extended")
    learner.goto(row.get_by_role("link", name="Send and receive a message").get_attribute("href") or "/")
    expect(learner.locator("#assignment-dates")).to_contain_text("Your due date is extended to")
    _check(learner, artifacts, "exercise-extended")
    assert errors == []


def test_a_ta_finds_their_course_results_in_the_menu(service, browser, artifacts):
    """A TA's account is a learner's: the menu still leads them to their course's results, and to nothing they may not open."""
    from playwright.sync_api import expect

    helper = {"email": "tariq@example.org", "name": "Tariq Assist", "password": "tariq-password-1"}
    assisting = browser.new_context(base_url=service.base_url, viewport=DESKTOP)
    ta = assisting.new_page()
    sign_up(ta, **helper)  # the default course's join code: a learner there
    menu = ta.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link", name="Dashboard", exact=True)).to_have_count(0)

    teaching = browser.new_context(base_url=service.base_url, viewport=DESKTOP)
    teacher = teaching.new_page()
    sign_in(teacher, email=INSTRUCTOR_EMAIL, password=INSTRUCTOR_PASSWORD)
    teacher.goto("/courses/1/settings")
    teacher.get_by_label("E-mail").fill(helper["email"])
    teacher.get_by_label("Role in this course").select_option(label="TA")
    teacher.get_by_role("button", name="Add or change").click()
    expect(teacher.get_by_role("row").filter(has_text=helper["name"]).get_by_role("combobox")).to_have_value("ta")
    teaching.close()

    ta.goto("/account")
    expect(menu.get_by_role("link", name="Users")).to_have_count(0)
    expect(menu.get_by_role("link", name="Audit log")).to_have_count(0)
    for viewport in (DESKTOP, PHONE):
        ta.set_viewport_size(viewport)
        if viewport is PHONE:
            ta.get_by_text("Menu", exact=True).click()
        ta.screenshot(path=artifacts / f"menu-ta-{viewport['width']}.png")
        menu.get_by_role("link", name="Dashboard", exact=True).locator("visible=true").click()
        expect(ta).to_have_url(re.compile(r"/courses/1/dashboard$"))
        expect(ta.get_by_role("heading", name="Course: results")).to_be_visible()
        assert_accessible(ta, f"a TA's course dashboard at {viewport['width']} px")
        ta.screenshot(path=artifacts / f"courses-ta-dashboard-{viewport['width']}.png", full_page=True)
        ta.goto("/account")
    assisting.close()
