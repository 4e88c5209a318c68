"""The take-quiz page: no answers before submitting, scoring, feedback, and refused attempts."""

from __future__ import annotations

import html as html_module
import re

import pytest
from sqlmodel import func, select

from grader.models import Choice, Question, QuizAttempt
from grader.services import quizzes

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


def _shown(html: str, question_id: int) -> list[int]:
    """The choice ids of one question's radio buttons, in the order the page shows them."""
    return [int(i) for i in re.findall(rf'name="answer-{question_id}" value="(\d+)"', html)]


def _section(html: str, question_id: int) -> str:
    """One question's part of the result page."""
    part = html[html.index(f'aria-labelledby="q-{question_id}"') :]
    return part[: part.index("</section>")]


def _option(section: str, choice_text: str) -> str:
    """The <li> of the option whose text is ``choice_text``."""
    for item in re.findall(r'<li class="option[^"]*">.*?</li>', section, flags=re.S):
        if re.search(rf"</strong> {re.escape(choice_text)}(?: <span|</li>)", item):
            return item
    raise AssertionError(f"no option {choice_text!r}")


HELLO = "{&#39;text&#39;: &#39;Hello&#39;}"


def _plain(text: str) -> str:
    """Words as a reader sees them: no tags, code marks or entities, spaces collapsed."""
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", text)).replace("`", "").split())


def test_a_wrong_answer_shows_why_not_and_where_to_look_but_not_yet_the_answer(as_learner, questions, synced):
    page = as_learner.get(QUIZ).text
    assert "The right answers appear after your last attempt." in page
    first = questions[0]
    data = {f"answer-{q['id']}": str(q["wrong"] if index == 0 else q["right"]) for index, q in enumerate(questions)}
    response = as_learner.post_form(f"{QUIZ}/attempts", data, page=QUIZ)
    html = as_learner.get(response.headers["location"]).text
    assert "Your score: 2/3" in html
    assert "The right answers appear after your last attempt." in html
    wrong = _section(html, first["id"])
    assert "verdict-failed" in wrong
    # Every option, where the learner saw it, with the letter they saw; theirs marked, the right one not.
    order = _shown(page, first["id"])
    letters = re.findall(r'<li class="option[^"]*"><strong>([A-D])\.</strong>', wrong)
    assert letters == ["A", "B", "C", "D"]
    chosen = "ABCD"[order.index(first["wrong"])]
    assert re.search(rf'<li class="option option-chosen"><strong>{chosen}\.</strong>[^<]*.*?Your answer', wrong, re.S)
    assert "option-right" not in html and ">The right answer<" not in html
    # Why the option chosen does not hold, and where to look; the explanation waits for the reveal.
    assert f"<strong>Why not {chosen}:</strong>" in wrong
    assert _plain(synced.get(Choice, first["wrong"]).feedback) in _plain(wrong)
    assert "<strong>Where to look:</strong>" in wrong and "<strong>Why:</strong>" not in html
    assert "hands it the body it parsed" not in html
    # The tracker's msg row is marked, every moment of it: where to read, not which cell.
    marked = re.findall(r'<td data-label="([^"]+)" class="evidence-line"><mark><code>', wrong)
    assert marked == ["Start", "After step 1", "After step 2", "After step 3", "Final"]
    assert "Read along the marked row." in wrong
    assert 'class="evidence"' not in html and "the answer is here" not in html
    # Right answers say why they hold, with no hint and no trace.
    for question in questions[1:]:
        right = _section(html, question["id"])
        assert "<strong>Why it holds:</strong>" in right
        assert _plain(synced.get(Choice, question["right"]).feedback) in _plain(right)
        assert "Where to look" not in right and ">The right answer<" not in right and "evidence" not in right


def test_after_the_last_attempt_every_result_marks_the_right_option(as_learner, questions, settings):
    first = questions[0]
    data = {f"answer-{q['id']}": str(q["wrong"]) for q in questions}
    locations = []
    for _ in range(settings.quiz_max_attempts):
        page = as_learner.get(QUIZ).text
        order = _shown(page, first["id"])
        response = as_learner.post_form(f"{QUIZ}/attempts", data, page=QUIZ)
        locations.append((response.headers["location"], order))
    for location, order in locations:
        html = as_learner.get(location).text
        assert "You have used every attempt, so the right answers are marked." in html
        wrong = _section(html, first["id"])
        marked = _option(wrong, HELLO)
        assert "option-right" in marked and ">The right answer<" in marked
        # Under the letter this attempt showed it with.
        assert f"<strong>{'ABCD'[order.index(first['right'])]}.</strong>" in marked
        assert wrong.count("option-right") == 1
        # The full explanation and the cell the answer comes from, after why the choice does not hold.
        assert (
            "<strong>Why not " in wrong and "<strong>Why:</strong>" in wrong and "hands it the body it parsed" in wrong
        )
        cell = re.search(r'<td data-label="([^"]+)" class="evidence"><mark><code>([^<]+)</code></mark>', wrong)
        assert cell and cell.groups() == ("After step 2", HELLO)
        assert wrong.count('class="evidence"') == 1 and "the answer is here" in wrong and "evidence-line" not in wrong


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


def test_the_quiz_page_draws_the_lessons_views_and_the_traced_code(as_learner):
    html = as_learner.get(QUIZ).text
    assert "receive_message(msg: dict)" in html  # the traced code belongs with the quiz
    flow = html[html.index('<ol class="concept-flow">') : html.index("</ol>", html.index('<ol class="concept-flow">'))]
    assert flow.count("<li>") == 5 and "Your endpoint function runs with the data" in flow
    assert "Key moments" in html and "How does FastAPI turn the JSON that arrives into a Python dict?" in html
    assert html.count('class="key-moment"') == 2
    assert "In short" in html and "The dict the function returns goes back to the client as JSON." in html
    # Lesson text is not an answer: the page still carries no explanation of the questions.
    assert "hands it the body it parsed" not in html


def _start(html: str) -> int:
    match = re.search(r'<input type="hidden" name="start" value="(\d+)">', html)
    assert match, "the form names no start"
    return int(match.group(1))


def test_a_reload_shows_the_same_order_and_an_attempt_closes_it(as_learner, questions, synced, learner):
    quiz = quizzes.get_quiz(session=synced, slug="message-cycle")
    quizzes.start(session=synced, user=learner, quiz=quiz, seed=1)
    first = as_learner.get(QUIZ).text
    orders = [_shown(first, q["id"]) for q in questions]
    assert all(sorted(order) == sorted(q["choices"]) for order, q in zip(orders, questions, strict=True))
    expected = [
        quizzes.shuffled(q["choices"], seed=1, question_id=q["id"]) for q in questions
    ]  # the stored seed's order, not one the page picked
    assert orders == expected
    again = as_learner.get(QUIZ).text
    assert _start(again) == _start(first) and [_shown(again, q["id"]) for q in questions] == orders
    data = {f"answer-{q['id']}": str(q["right"]) for q in questions} | {"start": str(_start(first))}
    assert as_learner.post_form(f"{QUIZ}/attempts", data, page=QUIZ).status_code == 303
    after = as_learner.get(QUIZ).text
    assert _start(after) != _start(first)


def test_answers_on_another_learners_start_are_refused(as_learner, questions, synced, other_learner):
    quiz = quizzes.get_quiz(session=synced, slug="message-cycle")
    theirs = quizzes.start(session=synced, user=other_learner, quiz=quiz)
    data = {f"answer-{q['id']}": str(q["right"]) for q in questions} | {"start": str(theirs.id)}
    response = as_learner.post_form(f"{QUIZ}/attempts", data, page=QUIZ)
    assert response.status_code == 422
    assert "out of date: open the quiz again" in response.text
    assert "checked" in _radio(response.text, questions[0]["right"])  # the choices made are kept
    assert _attempts(synced) == 0


def _quiz_assignment(session):
    from grader.models import Assignment

    quiz = quizzes.get_quiz(session=session, slug="message-cycle")
    return session.exec(select(Assignment).where(Assignment.quiz_id == quiz.id)).one()


def test_the_page_names_the_due_date_the_answers_wait_for_and_closes_after_it(
    as_learner, as_other, questions, synced, instructor, settings
):
    from datetime import timedelta

    from grader.models import utcnow
    from grader.services import courses

    due = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    assignment = _quiz_assignment(synced)
    courses.update_assignment(
        session=synced,
        assignment_id=assignment.id,
        by=instructor,
        due_at=due,
        reveal_answers="after_due",
        late_policy="penalty",
    )
    # The date as every time on a page: a <time> element with its moment, in UTC until the script rewrites it.
    when = f'<time datetime="{due.isoformat(timespec="seconds")}">{due:%a %-d %b %Y, %H:%M} UTC</time>'
    assert f"The right answers appear after the due date, {when}." in as_learner.get(QUIZ).text
    data = {f"answer-{q['id']}": str(q["wrong"]) for q in questions}
    for _ in range(settings.quiz_max_attempts):
        location = as_learner.post_form(f"{QUIZ}/attempts", data, page=QUIZ).headers["location"]
    # Every attempt used, but the due date has not come: nothing is marked yet.
    html = as_learner.get(location).text
    assert f"after the due date, {when}" in html and "option-right" not in html

    # Once it has passed (moved into the past here), the answers are marked and no attempt is taken.
    courses.update_assignment(
        session=synced, assignment_id=assignment.id, by=instructor, due_at=utcnow() - timedelta(minutes=1)
    )
    html = as_learner.get(location).text
    assert "has passed, so the right answers are marked" in html and html.count("option-right") == 3
    # A learner with attempts left may not answer after reading them.
    page = as_other.get(QUIZ).text
    assert "this quiz takes no more attempts" in page and "Submit answers" not in page
    refused = as_other.post_form(f"{QUIZ}/attempts", data, page=QUIZ)
    assert refused.status_code == 409 and "takes no more attempts" in refused.text
