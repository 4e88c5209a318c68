"""The quiz taken with the keyboard alone, with the focus visible at every stop."""

from __future__ import annotations

import pytest

from .conftest import option_texts, sign_up

pytestmark = pytest.mark.browser

LEARNER = {"email": "kim@example.org", "name": "Kim Keys", "password": "kim-password-1"}
MOST_TABS = 60  # more stops than the page has before its first question
RIGHT = ["{'text': 'Hello'}", "Step 3", "At step 2, msg is {'text': 'Hi'}"]  # the right options, as shown

FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {
    tag: element.tagName.toLowerCase(),
    type: element.getAttribute("type"),
    name: element.getAttribute("name"),
    text: (element.innerText || element.value || "").trim().slice(0, 40),
    checked: element.checked === true,
    outlineStyle: style.outlineStyle,
    outlineWidth: style.outlineWidth,
  };
}"""


def _focused(page) -> dict:
    """The focused element, with its outline; fails if the outline is not drawn."""
    focused = page.evaluate(FOCUSED)
    assert focused["tag"] != "body", "focus was lost"
    assert focused["outlineStyle"] != "none" and focused["outlineWidth"] != "0px", f"focus is not visible on {focused}"
    return focused


def _tab(page) -> dict:
    page.keyboard.press("Tab")
    return _focused(page)


def _checked(page, question: int) -> str:
    return (
        page.locator(".question")
        .nth(question)
        .locator("input:checked")
        .evaluate("input => input.closest('label').innerText.trim()")
    )


def test_the_quiz_can_be_taken_with_the_keyboard_alone(service, browser, artifacts):
    from playwright.sync_api import expect

    errors: list[str] = []
    context = browser.new_context(base_url=service.base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    sign_up(page, **LEARNER)

    page.goto("/quizzes/message-cycle")
    expect(page.get_by_role("heading", name="Questions")).to_be_visible()
    first_group = page.locator(".question").nth(0).locator("input[type=radio]").first.get_attribute("name")

    # Tab from the top of the page to the first question; every stop on the way shows its focus.
    focused = _tab(page)
    for _ in range(MOST_TABS):
        if focused["name"] == first_group:
            break
        focused = _tab(page)
    else:
        pytest.fail(f"{MOST_TABS} presses of Tab did not reach the first question")
    assert focused["type"] == "radio" and not focused["checked"], focused

    # The options come in a new order each attempt: where the right ones are this time.
    questions = page.locator(".question")
    right = [option_texts(questions.nth(i)).index(text) for i, text in enumerate(RIGHT)]

    # Question 1: Space chooses the focused option, the arrow keys move to the right one and choose it.
    page.keyboard.press("Space")
    for _ in range(right[0]):
        page.keyboard.press("ArrowDown")
    assert _focused(page)["checked"]
    assert _checked(page, 0) == f"{'ABCD'[right[0]]}. {RIGHT[0]}"

    # Question 2: Tab leaves the group for the next one; down and back up comes back to the first option.
    focused = _tab(page)
    assert focused["type"] == "radio" and focused["name"] != first_group, focused
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert _checked(page, 1).startswith("A.")
    for _ in range(right[1]):
        page.keyboard.press("ArrowDown")
    assert _checked(page, 1) == f"{'ABCD'[right[1]]}. {RIGHT[1]}"

    # Question 3.
    _tab(page)
    page.keyboard.press("Space")
    for _ in range(right[2]):
        page.keyboard.press("ArrowDown")
    assert _checked(page, 2) == f"{'ABCD'[right[2]]}. {RIGHT[2]}"

    # Tab onward to the submit button, and Enter sends the answers.
    focused = _tab(page)
    assert (focused["tag"], focused["text"]) == ("button", "Submit answers"), focused
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your score: 3/3")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Every answer is right.")
    page.screenshot(path=artifacts / "quiz-keyboard.png", full_page=True)
    context.close()
    assert errors == [], errors
