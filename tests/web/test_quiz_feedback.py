"""Nothing a learner reads before the reveal names the right option or explains it; after the reveal, all of it.

Each question is answered wrong in turn (the others right) and its feedback is read everywhere a
learner can read it: the result page, the attempt API, the quiz page and the quiz API. The options
and the lesson's trace are on the page from the start, so the right option's text is looked for
in the feedback (the page's explanation blocks; the API's fields other than the options), and the
full explanation anywhere. The same reads after the last attempt must show both: the checks can fail.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from grader.models import Choice, Question

from .conftest import Browser, api_token

SLUG = "message-cycle"
QUIZ = f"/quizzes/{SLUG}"


def _plain(text: str) -> str:
    """Words as a reader sees them: no tags, code marks or entities, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).replace("`", "").split())


def _questions(session: Session) -> list[tuple[Question, Choice, Choice]]:
    """Each question with its right option and one wrong one."""
    found = []
    for question in session.exec(select(Question).where(Question.active).order_by(Question.position)):
        choices = session.exec(select(Choice).where(Choice.question_id == question.id)).all()
        right = next(choice for choice in choices if choice.is_correct)
        wrong = next(choice for choice in choices if not choice.is_correct)
        found.append((question, right, wrong))
    return found


def _feedback_blocks(page: str, question_id: int) -> str:
    """What the result page says about one question beyond its options: its explanation blocks, as text."""
    section = page[page.index(f'aria-labelledby="q-{question_id}"') :]
    section = section[: section.index("</section>")]
    return _plain(" ".join(re.findall(r'<div class="explanation">.*?</div>', section, flags=re.S)))


def _api_feedback(body: dict, question_id: int) -> dict:
    """One question's feedback from the attempt API, without its options (which list every text)."""
    found = next(item for item in body["questions"] if item["question_id"] == question_id)
    return {key: value for key, value in found.items() if key != "choices"}


def _first_sentence(explanation: str) -> str:
    return _plain(explanation).split(". ")[0]


@pytest.mark.parametrize("position", [1, 2, 3])
def test_before_the_reveal_nothing_names_the_right_option_and_after_it_everything_does(
    app, synced, learner, settings, position
):
    client = TestClient(app)
    browser = Browser(client).sign_in(learner)
    headers = api_token(client, learner)
    questions = _questions(synced)
    question, right, wrong = questions[position - 1]
    answers = {str(q.id): (w.id if q.id == question.id else r.id) for q, r, w in questions}
    right_text, explanation = _plain(right.text), _first_sentence(question.explanation)
    assert right_text and explanation

    def attempt() -> tuple[str, dict]:
        body = client.post(f"/api/v1/quizzes/{SLUG}/attempts", headers=headers, json={"answers": answers}).json()
        page = browser.get(f"{QUIZ}/attempts/{body['id']}").text
        return page, body

    def quiz_reads() -> str:
        return _plain(browser.get(QUIZ).text) + json.dumps(
            client.get(f"/api/v1/quizzes/{SLUG}", headers=headers).json()
        )

    for _ in range(settings.quiz_max_attempts - 1):
        page, body = attempt()
        assert body["right_answers_shown"] is False
        said = _feedback_blocks(page, question.id)
        # Why the option chosen does not hold, and where to look.
        assert _plain(wrong.feedback) in said and _plain(question.hint) in said
        assert right_text not in said and explanation not in _plain(page)
        assert "option-right" not in page and "the answer is here" not in page
        sent = _api_feedback(body, question.id)
        assert sent["choice_feedback"] == wrong.feedback and sent["explanation"] == ""
        assert sent["right_answer"] is None
        assert sent["evidence"] is None or None in (sent["evidence"]["row"], sent["evidence"]["column"])
        assert right.text not in json.dumps(sent, ensure_ascii=False) and right_text not in _plain(str(sent))
        assert explanation not in quiz_reads()

    page, body = attempt()  # the last attempt: the right answers are revealed
    assert body["right_answers_shown"] is True
    said = _feedback_blocks(page, question.id)
    assert explanation in said and explanation in _plain(page)
    assert "option-right" in page and "the answer is here" in page
    sent = _api_feedback(body, question.id)
    assert sent["explanation"] == question.explanation and sent["right_answer"]["text"] == right.text
    assert {sent["evidence"]["row"], sent["evidence"]["column"]} == {
        question.evidence["row"],
        question.evidence["column"],
    }


def test_feedback_of_a_right_answer_says_why_it_holds_and_still_not_the_explanation(app, synced, learner):
    client = TestClient(app)
    browser = Browser(client).sign_in(learner)
    headers = api_token(client, learner)
    questions = _questions(synced)
    answers = {str(q.id): r.id for q, r, _ in questions}
    body = client.post(f"/api/v1/quizzes/{SLUG}/attempts", headers=headers, json={"answers": answers}).json()
    page = browser.get(f"{QUIZ}/attempts/{body['id']}").text
    for question, right, _ in questions:
        said = _feedback_blocks(page, question.id)
        assert _plain(right.feedback) in said and _first_sentence(question.explanation) not in _plain(page)
        sent = _api_feedback(body, question.id)
        assert sent["choice_feedback"] == right.feedback and sent["explanation"] == "" and sent["evidence"] is None


def test_the_staff_of_the_course_read_the_explanation_at_once(app, synced, learner, instructor):
    client = TestClient(app)
    headers = api_token(client, learner)
    questions = _questions(synced)
    answers = {str(q.id): w.id for q, _, w in questions}
    body = client.post(f"/api/v1/quizzes/{SLUG}/attempts", headers=headers, json={"answers": answers}).json()
    page = Browser(TestClient(app)).sign_in(instructor).get(f"{QUIZ}/attempts/{body['id']}").text
    for question, _, _ in questions:
        assert _first_sentence(question.explanation) in _feedback_blocks(page, question.id)
