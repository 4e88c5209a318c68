"""The learner's loop in a real browser: write code in the editor, submit, read the result, edit
the same code on the result page and send it again, without scrolling or retyping.

Chromium drives ``autograder serve`` with its real grading worker. Each width has its own
learner, who types the typo with Tab indentation, sends it, fixes the marked line in place
and sends the fix; a dropped file and a chosen file open in the editor; without script the
textarea is the form. Screenshots of the exercise and result pages are kept in test-artifacts/.
"""

from __future__ import annotations

import re

import pytest

from .axe import assert_accessible
from .conftest import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

GRADING_TIMEOUT_MS = 90_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = [pytest.param(DESKTOP, "desktop", id="desktop"), pytest.param(PHONE, "phone", id="phone")]
# Typed as the learner would: the body's indent comes from the Tab key.
HEAD = (
    'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.post("/message")\nasync def receive_message(msg: dict):\n'
)
BODY = 'return {"recieved": msg}'
TYPO = HEAD + "    " + BODY
FIXED = TYPO.replace("recieved", "received")
# Longer and wider than the editor: it wraps its lines and scrolls down, still clean for axe.
DROPPED = "from fastapi import FastAPI\n\napp = FastAPI()  # from a file" + " and a long comment" * 12 + "\n" * 40


def _watch_policy(page) -> list[str]:
    """Collects what the Content-Security-Policy refused on the page (console and violation events)."""
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.on("pageerror", lambda error: refused.append(f"page error: {error}"))
    return refused


def _editor_text(page) -> str:
    return page.evaluate("() => document.querySelector('#code').value")


def _button_on_first_screen(page, viewport: dict) -> None:
    box = page.get_by_role("button", name="Submit for grading").bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= viewport["height"], f"the submit button ends at {box['y'] + box['height']} px"


@pytest.mark.parametrize(("viewport", "suffix"), WIDTHS)
def test_type_submit_edit_in_place_and_submit_again(service, browser, artifacts, viewport, suffix):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=service.base_url, viewport=viewport)
    page = context.new_page()
    refused = _watch_policy(page)
    sign_up(page, email=f"ed-{suffix}@example.org", name=f"Ed {suffix.title()}", password="ed-password-12")
    page.goto("/exercises/message-echo")

    # The form comes first: the submit button is on the first screen, the lesson one link away.
    _button_on_first_screen(page, viewport)
    expect(
        page.get_by_role("navigation", name="This exercise").get_by_role("link", name="The lesson’s trace")
    ).to_be_visible()
    editor = page.locator("#submit .cm-editor")
    expect(editor).to_be_visible()
    expect(page.locator("#code")).to_be_hidden()
    expect(page.get_by_text("Tab indents. To leave the editor with the keyboard, press Esc then Tab.")).to_be_visible()
    assert page.evaluate("() => typeof window.GraderEditor") == "object"  # loaded past its integrity check
    page.screenshot(path=artifacts / f"exercise-editor-{suffix}.png")
    assert_accessible(page, f"the exercise page with its editor ({suffix})")

    # Type the typo: the label leads to the editor; Tab indents and keeps the focus in it.
    page.get_by_text("Your code", exact=True).click()
    content = page.get_by_role("textbox", name="Your code")
    expect(content).to_be_focused()
    # The focus is seen: the page's focus ring goes round the whole editor.
    ring = editor.evaluate("(box) => getComputedStyle(box).outlineStyle + ' ' + getComputedStyle(box).outlineWidth")
    assert ring == "solid 3px", ring
    page.keyboard.insert_text(HEAD)
    page.keyboard.press("Tab")
    expect(content).to_be_focused()
    page.keyboard.type(BODY)
    assert _editor_text(page) == TYPO
    expect(editor.locator(".cm-lineNumbers .cm-gutterElement", has_text="8")).to_be_visible()
    expect(editor.locator(".tok-keyword", has_text="async")).to_be_visible()
    # Escape, then Tab, leaves the editor for the next control: no keyboard trap.
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(page.locator("#file")).to_be_focused()

    page.get_by_role("button", name="Submit for grading").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
    expect(page.locator("#report-heading")).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Attempt 1")
    expect(page.locator("article.diagnosis")).to_have_count(1)

    # The result page holds the code just sent, its diagnosed line marked (live, as it arrived).
    resubmit = page.locator("#resubmit")
    expect(resubmit.locator(".cm-diagnosed-line")).to_have_text("    " + BODY)
    expect(resubmit.locator(".cm-diagnosed-gutter")).to_have_text("8")
    assert _editor_text(page) == TYPO

    # Opened again (a reload), the page is the same, and axe finds nothing on it.
    page.reload()
    expect(page.locator("#report-heading")).to_be_visible()
    expect(resubmit.locator(".cm-diagnosed-line")).to_have_text("    " + BODY)
    # Once in view, the line's number stands beside the line (the editor measures what it shows).
    resubmit.locator(".cm-diagnosed-line").scroll_into_view_if_needed()
    page.wait_for_function(
        """() => {
            const number = document.querySelector("#resubmit .cm-diagnosed-gutter").getBoundingClientRect();
            const line = document.querySelector("#resubmit .cm-diagnosed-line").getBoundingClientRect();
            return Math.abs(number.top - line.top) < 1 && Math.abs(number.height - line.height) < 1;
        }""",
        timeout=5_000,
    )
    page.screenshot(path=artifacts / f"result-editor-{suffix}.png", full_page=True)
    resubmit.screenshot(path=artifacts / f"result-editor-{suffix}-edit.png")
    # The dark theme colours the editor too, with the same contrast.
    page.emulate_media(color_scheme="dark")
    resubmit.screenshot(path=artifacts / f"result-editor-{suffix}-edit-dark.png")
    assert_accessible(page, f"the result page with its editor, dark ({suffix})")
    page.emulate_media(color_scheme="light")
    assert_accessible(page, f"the result page with its editor ({suffix})")

    # Fix the marked line in place: select the misspelt word and type over it.
    page.get_by_role("link", name="Edit your code and submit again").click()
    word = resubmit.locator(".cm-diagnosed-line").get_by_text("recieved")
    word.dblclick()
    page.keyboard.type("received")
    assert _editor_text(page) == FIXED
    expect(resubmit.locator(".cm-diagnosed-line")).to_have_text("    " + BODY.replace("recieved", "received"))
    expect(page.get_by_role("button", name="Submit for grading")).to_be_enabled(timeout=10_000)
    page.get_by_role("button", name="Submit for grading").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Attempt 2", timeout=10_000)
    expect(page.locator("#report-heading")).to_contain_text("Passed", timeout=GRADING_TIMEOUT_MS)
    # What was graded is what was edited: the second attempt's code, as the server stored it.
    assert _editor_text(page) == FIXED
    expect(page.locator("#resubmit .cm-diagnosed-line")).to_have_count(0)

    # "Submit again" keeps the code: the exercise page opens on the last attempt.
    page.goto("/exercises/message-echo")
    assert _editor_text(page) == FIXED
    expect(page.locator("#submit .label-row")).to_have_text("Your code from your attempt 2")
    _button_on_first_screen(page, viewport)
    history = page.locator("#history")
    expect(history.get_by_role("link", name="Attempt 2")).to_be_visible()
    expect(history.get_by_role("link", name="Attempt 1")).to_be_visible()
    # Typing over the whole code replaces it (and the browser's own editing, refused by the
    # policy, is not what does it).
    page.get_by_role("textbox", name="Your code").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("# again")
    assert _editor_text(page) == "# again"
    assert refused == [], refused
    context.close()


def test_a_dropped_or_chosen_file_opens_in_the_editor(service, browser, artifacts, tmp_path):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=service.base_url, viewport=DESKTOP)
    page = context.new_page()
    refused = _watch_policy(page)
    sign_up(page, email="drop@example.org", name="Dee Drop", password="dee-password-12")
    page.goto("/exercises/message-echo")
    expect(page.locator("#submit .cm-editor")).to_be_visible()

    def drop(name: str, text: str) -> None:
        page.evaluate(
            """([name, text]) => {
                const data = new DataTransfer();
                data.items.add(new File([text], name, { type: "text/x-python" }));
                const target = document.querySelector("#submit .cm-content");
                target.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
            }""",
            [name, text],
        )

    drop("notes.txt", "not python")
    expect(page.get_by_role("status").filter(has_text="notes.txt is not a Python file")).to_be_visible()
    assert _editor_text(page) == ""
    drop("solution.py", DROPPED)
    expect(page.get_by_text("Opened solution.py in the editor.")).to_be_visible()
    expect(page.locator("#submit .cm-content")).to_contain_text("app = FastAPI()  # from a file")
    assert _editor_text(page) == DROPPED
    scroller = page.locator("#submit .cm-scroller")
    assert scroller.evaluate("(box) => box.scrollWidth <= box.clientWidth && box.scrollHeight > box.clientHeight")
    assert_accessible(page, "the exercise page with a long file in its editor")

    # The file field opens a chosen file in the editor too, and is emptied: only the code is sent.
    chosen = tmp_path / "mine.py"
    chosen.write_text(TYPO)
    page.locator("#file").set_input_files(chosen)
    expect(page.get_by_text("Opened mine.py in the editor.")).to_be_visible()
    assert _editor_text(page) == TYPO
    assert page.evaluate("() => document.querySelector('#file').files.length") == 0
    assert refused == [], refused
    context.close()


def test_without_script_the_textarea_and_file_field_submit(service, browser, artifacts, tmp_path):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=service.base_url, viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    sign_up(page, email="plain@example.org", name="Pat Plain", password="pat-password-12")
    page.goto("/exercises/message-echo")
    expect(page.locator(".cm-editor")).to_have_count(0)
    expect(page.get_by_text("Tab indents.")).to_be_hidden()
    _button_on_first_screen(page, PHONE)
    page.screenshot(path=artifacts / "exercise-no-script-phone.png")
    page.get_by_label("Your code", exact=True).fill(TYPO)
    page.get_by_role("button", name="Submit for grading").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
    # Without script the page refreshes itself until the result is there.
    expect(page.locator("#report-heading")).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    expect(page.get_by_label("Your code", exact=True)).to_have_value(TYPO)

    # The file field still sends a file.
    chosen = tmp_path / "fixed.py"
    chosen.write_text(FIXED)
    page.get_by_label("Your code", exact=True).fill("")
    page.locator("#file").set_input_files(chosen)
    expect(page.get_by_role("button", name="Submit for grading")).to_be_enabled()
    page.wait_for_timeout(2_100)  # the service's interval between gradings (GRADER_SUBMISSION_INTERVAL_SECONDS)
    page.get_by_role("button", name="Submit for grading").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Attempt 2")
    expect(page.locator("#report-heading")).to_contain_text("Passed", timeout=GRADING_TIMEOUT_MS)
    expect(page.get_by_label("Your code", exact=True)).to_have_value(FIXED)
    context.close()
