"""The take-quiz page: no answers before submitting, scoring, feedback, and refused attempts."""

from __future__ import annotations

import re

import pytest
from sqlmodel import func, select

from grader.models import Choice, Question, QuizAttempt

QUIZ = "/quizzes/message-cycle"


@pytest.fixture
def questions(synced) -> list[dict]:
    """The quiz's questions in order, each with its choices and which one is right."""
    rows = synced.exec(select(Question).where(Question.active).order_by(Question.position)).all()
    result = []
    for question in rows:
        choices = synced.exec(select(Choice).where(Choice.question_id == question.id).order_by(Choice.position)).all()
        result.append(
            {
                "id": question.id,
                "hint": question.hint,
                "right": next(c.id for c in choices if c.is_correct),
                "wrong": next(c.id for c in choices if not c.is_correct),
                "choices": [c.id for c in choices],
            }
        )
    return result


def _radio(html: str, choice_id: int) -> str:
    """The <input> tag of one option."""
    match = re.search(rf'<input[^>]*id="choice-{choice_id}"[^>]*>', html)
    assert match, f"no radio button for choice {choice_id}"
    return match.group(0)


def _attempts(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(QuizAttempt)).one()


def test_quiz_page_draws_the_visuals_and_one_radio_group_per_question(as_learner, questions):
    html = as_learner.get(QUIZ).text
    assert "<caption>Execution table</caption>" in html and "<caption>Variable tracker</caption>" in html
    assert '<th scope="row"><code>msg</code></th>' in html
    for question in questions:
        assert html.count(f'name="answer-{question["id"]}"') == 4
        for choice in question["choices"]:
            assert f'<label class="choice" for="choice-{choice}">' in html
    assert "Attempts left: <strong>3</strong>" in html


def test_the_page_gives_no_answer_away(as_learner, questions):
    html = as_learner.get(QUIZ).text
    for question in questions:
        assert question["hint"] not in html
    assert "correct" not in html.lower() and "is_correct" not in html


def test_all_right_scores_three(as_learner, questions, synced):
    data = {f"answer-{q['id']}": str(q["right"]) for q in questions}
    response = as_learner.post_form(f"{QUIZ}/attempts", data, page=QUIZ)
    assert response.status_code == 303
    html = as_learner.get(response.headers["location"]).text
    assert "Your score: 3/3" in html
    assert html.count('verdict-passed">Right') == 3
    assert _attempts(synced) == 1


def test_wrong_answers_say_wrong_with_the_hint(as_learner, questions):
    data = {f"answer-{q['id']}": str(q["wrong"] if index == 0 else q["right"]) for index, q in enumerate(questions)}
    response = as_learner.post_form(f"{QUIZ}/attempts", data, page=QUIZ)
    html = as_learner.get(response.headers["location"]).text
    assert "Your score: 2/3" in html
    assert "Wrong" in html and "Right" in html
    assert "Hint:" in html and "After step 2" in html


def test_missing_answer_is_refused_and_choices_are_kept(as_learner, questions, synced):
    first = questions[0]
    response = as_learner.post_form(f"{QUIZ}/attempts", {f"answer-{first['id']}": str(first["right"])}, page=QUIZ)
    assert response.status_code == 422
    assert "Answer every question; missing: 2, 3." in response.text
    assert "checked" in _radio(response.text, first["right"])
    assert "checked" not in _radio(response.text, first["wrong"])
    assert _attempts(synced) == 0


@pytest.mark.parametrize("problem", ["unknown-choice", "other-question", "duplicate", "not-a-number"])
def test_bad_answers_are_refused(as_learner, questions, synced, problem):
    data = [(f"answer-{q['id']}", str(q["right"])) for q in questions]
    if problem == "unknown-choice":
        data[0] = (data[0][0], "999999")
    elif problem == "other-question":
        data[0] = (data[0][0], str(questions[1]["right"]))
    elif problem == "duplicate":
        data.append((f"answer-{questions[0]['id']}", str(questions[0]["wrong"])))
    else:
        data[0] = (data[0][0], "C")
    response = as_learner.post_form(f"{QUIZ}/attempts", data, page=QUIZ)
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert _attempts(synced) == 0


def test_attempt_limit(as_learner, questions, synced, settings):
    data = {f"answer-{q['id']}": str(q["wrong"]) for q in questions}
    for _ in range(settings.quiz_max_attempts):
        assert as_learner.post_form(f"{QUIZ}/attempts", data, page=QUIZ).status_code == 303
    response = as_learner.client.post(
        f"{QUIZ}/attempts", data={**data, "csrf_token": as_learner.token_for("/")}, follow_redirects=False
    )
    assert response.status_code == 409
    assert "used all 3 attempts" in response.text
    assert _attempts(synced) == 3
    assert "You have used every attempt" in as_learner.get(QUIZ).text


def test_unknown_quiz_is_404(as_learner):
    assert as_learner.get("/quizzes/nope").status_code == 404
