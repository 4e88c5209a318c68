"""Quiz retakes in a real browser: each attempt's options in their own order, the right answers held back
until the last attempt, at both widths, with axe's check on every page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from grader.db import create_db_engine
from grader.models import Choice, Question, User
from grader.services import quizzes
from tests.factories import seeds_with_different_orders

from .axe import assert_accessible
from .conftest import choose, option_texts, sign_up

pytestmark = [pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LEARNER = {"email": "rita@example.org", "name": "Rita Retake", "password": "rita-password-1"}
QUIZ = "/quizzes/message-cycle"


@pytest.fixture
def database(service) -> Iterator[Session]:
    """The running service's own database (the test sets the seed of the next opening through the service)."""
    engine = create_db_engine(f"sqlite:///{service.state_dir / 'grader.sqlite3'}")
    with Session(engine) as session:
        yield session
    engine.dispose()


def _shown(page) -> list[list[str]]:
    """Per question, the options' texts in the order the page shows them (without their letters)."""
    return [option_texts(group) for group in page.locator("fieldset").all()]


def _listed(page) -> list[list[str]]:
    """Per question of a result page, the options' texts in the order listed."""
    orders = []
    for options in page.locator("ul.options").all():
        items = options.locator("li").all()
        orders.append([item.locator("xpath=.").evaluate(_OPTION_TEXT) for item in items])
    return orders


# An option's text without its letter and its "Your answer" / "The right answer" marks.
_OPTION_TEXT = """li => [...li.childNodes].filter((n) => !(n.nodeType === 1 && n.matches('strong, .option-mark')))
    .map((n) => n.textContent).join('').trim()"""


def _plain(text: str) -> str:
    """A choice's text as the page shows it (its Markdown code marks drawn, not written)."""
    return text.replace("`", "")


def _expected(session: Session, seed: int) -> list[list[str]]:
    questions = session.exec(select(Question).where(Question.active).order_by(Question.position)).all()
    orders = []
    for question in questions:
        options = session.exec(select(Choice).where(Choice.question_id == question.id).order_by(Choice.position)).all()
        orders.append([_plain(c.text) for c in quizzes.shuffled(options, seed=seed, question_id=question.id)])
    return orders


def _answer(page, texts: list[str]) -> None:
    """Choose the option with each text, wherever it is shown, and send the answers."""
    for group, text in zip(page.locator("fieldset").all(), texts, strict=True):
        choose(group, text)
    page.get_by_role("button", name="Submit answers").click()


def _look(page, artifacts, name: str, what: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    assert_accessible(page, what)


def test_each_attempt_shows_its_own_order_and_the_right_answers_come_after_the_last(
    service, browser, artifacts, database
):
    from playwright.sync_api import expect

    desktop = browser.new_context(base_url=service.base_url, viewport=DESKTOP)
    page = desktop.new_page()
    sign_up(page, **LEARNER)
    learner = database.exec(select(User).where(User.email == LEARNER["email"])).one()
    quiz = quizzes.get_quiz(session=database, slug="message-cycle")
    questions = database.exec(select(Question.id).where(Question.active).order_by(Question.position)).all()
    first_seed, second_seed = seeds_with_different_orders(list(questions))
    right = [
        _plain(database.exec(select(Choice.text).where(Choice.question_id == q, Choice.is_correct)).one())
        for q in questions
    ]
    wrong_first = _plain(
        database.exec(select(Choice.text).where(Choice.question_id == questions[0], ~Choice.is_correct)).first()
    )

    # The first opening, with a seed the test chose; the page shows the order it gives.
    quizzes.start(session=database, user=learner, quiz=quiz, seed=first_seed)
    page.goto(QUIZ)
    first_order = _shown(page)
    assert first_order == _expected(database, first_seed)
    expect(page.locator(".reveal-note")).to_have_text("The right answers appear after your last attempt.")
    _look(page, artifacts, "quiz-retake-first-desktop", "the quiz, first opening")
    # A reload and a second tab (on a phone) show the same order.
    page.reload()
    assert _shown(page) == first_order
    phone = browser.new_context(base_url=service.base_url, viewport=PHONE, storage_state=desktop.storage_state())
    tab = phone.new_page()
    tab.goto(QUIZ)
    assert _shown(tab) == first_order
    _look(tab, artifacts, "quiz-retake-first-phone", "the quiz on a phone, first opening")

    # One wrong answer: the result lists the options as they were shown, theirs marked, the right one not.
    _answer(page, [wrong_first, *right[1:]])
    expect(page.get_by_role("heading", name="Your score: 2/3")).to_be_visible()
    first_result = page.url
    assert _listed(page) == first_order
    wrong = page.locator(".question-wrong")
    expect(wrong.locator(".option-chosen")).to_contain_text(wrong_first)
    expect(wrong.locator(".option-chosen .option-mark")).to_have_text("Your answer")
    # Why their option does not hold and where to look, but not the explanation, which names the right value.
    expect(wrong.locator(".explanation").first).to_contain_text("Why not ")
    expect(wrong.locator(".explanation")).to_contain_text(["Why not ", "Where to look:"])
    expect(page.get_by_text("Why:", exact=True)).to_have_count(0)
    expect(page.locator(".option-right")).to_have_count(0)
    expect(page.get_by_text("The right answer", exact=True)).to_have_count(0)
    expect(page.locator(".reveal-note")).to_have_text("The right answers appear after your last attempt.")
    _look(page, artifacts, "quiz-retake-result-desktop", "the quiz's result before the right answers are shown")
    tab.goto(first_result)
    _look(tab, artifacts, "quiz-retake-result-phone", "the quiz's result on a phone before the right answers")

    # The second opening draws again (here: the second seed): every question's order is another one.
    quizzes.start(session=database, user=learner, quiz=quiz, seed=second_seed)
    page.goto(QUIZ)
    second_order = _shown(page)
    assert second_order == _expected(database, second_seed)
    assert all(a != b for a, b in zip(first_order, second_order, strict=True))
    _look(page, artifacts, "quiz-retake-second-desktop", "the quiz, second opening")
    _answer(page, [wrong_first, *right[1:]])
    expect(page.get_by_role("heading", name="Your score: 2/3")).to_be_visible()
    assert _listed(page) == second_order

    # The last attempt (an order the server draws): now every result marks the right option.
    page.goto(QUIZ)
    _answer(page, [wrong_first, *right[1:]])
    expect(page.get_by_role("heading", name="Your score: 2/3")).to_be_visible()
    expect(page.locator(".reveal-note")).to_have_text("You have used every attempt, so the right answers are marked.")
    marked = page.locator(".question-wrong .option-right")
    expect(marked).to_contain_text(right[0])
    expect(marked.locator(".option-mark")).to_have_text("The right answer")
    expect(page.locator(".option-right")).to_have_count(3)  # the two answered right are marked too
    _look(page, artifacts, "quiz-retake-revealed-desktop", "the quiz's result once the right answers are shown")
    tab.goto(first_result)
    assert _listed(tab) == first_order  # the first attempt, still in the order it was shown
    expect(tab.locator(".question-wrong .option-right")).to_contain_text(right[0])
    _look(tab, artifacts, "quiz-retake-revealed-phone", "an earlier result on a phone once the right answers are shown")
    tab.goto(QUIZ)
    expect(tab.get_by_text("You have used every attempt at this quiz.")).to_be_visible()
    # The marks keep their contrast in a browser that prefers the dark theme.
    for viewport, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        dark = browser.new_context(
            base_url=service.base_url, viewport=viewport, color_scheme="dark", storage_state=desktop.storage_state()
        )
        night = dark.new_page()
        night.goto(first_result)
        _look(night, artifacts, f"quiz-retake-revealed-dark-{suffix}", f"a result in the dark theme ({suffix})")
        dark.close()
    phone.close()
    desktop.close()


def test_a_late_attempt_under_a_penalty_says_what_it_counts(service, browser, artifacts, database):
    from datetime import timedelta

    from playwright.sync_api import expect

    from grader.models import Assignment, utcnow
    from grader.services import courses

    from .conftest import INSTRUCTOR_EMAIL

    teacher = database.exec(select(User).where(User.email == INSTRUCTOR_EMAIL)).one()
    quiz = quizzes.get_quiz(session=database, slug="message-cycle")
    lesson = database.exec(select(Assignment).where(Assignment.quiz_id == quiz.id)).one()
    # Due 90 minutes ago, 10% off per started hour late: an attempt now counts 80%.
    courses.update_assignment(
        session=database,
        assignment_id=lesson.id,
        by=teacher,
        due_at=utcnow() - timedelta(minutes=90),
        late_policy="penalty",
        penalty_percent=10,
        penalty_unit="hour",
    )
    try:
        desktop = browser.new_context(base_url=service.base_url, viewport=DESKTOP)
        page = desktop.new_page()
        sign_up(page, email="lena@example.org", name="Lena Late", password="lena-password-1")
        page.goto(QUIZ)
        expect(page.locator("#assignment-dates")).to_contain_text("what you send now counts 80% of its score")
        questions = database.exec(select(Question.id).where(Question.active).order_by(Question.position)).all()
        right = [
            _plain(database.exec(select(Choice.text).where(Choice.question_id == q, Choice.is_correct)).one())
            for q in questions
        ]
        _answer(page, right)
        expect(page.get_by_role("heading", name="Your score: 3/3")).to_be_visible()
        note = page.locator("#late-share")
        expect(note).to_have_text(
            re.compile(r"^Submitted 1 hour and \d+ minutes late: this attempt counts 80% \(2\.4 of 3\)\.$")
        )
        _look(page, artifacts, "quiz-late-result-desktop", "a late attempt's result under a penalty")
        phone = browser.new_context(base_url=service.base_url, viewport=PHONE, storage_state=desktop.storage_state())
        tab = phone.new_page()
        tab.goto(page.url)
        expect(tab.locator("#late-share")).to_be_visible()
        _look(tab, artifacts, "quiz-late-result-phone", "a late attempt's result on a phone")
        page.goto("/")
        expect(page.locator('td[data-label="Quiz"]')).to_contain_text("2.4/3 (late: 80% counts)")
        phone.close()
        desktop.close()
    finally:
        courses.update_assignment(
            session=database, assignment_id=lesson.id, by=teacher, due_at=None, late_policy="none", penalty_percent=0
        )
