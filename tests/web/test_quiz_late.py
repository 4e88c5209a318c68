"""A late quiz attempt under a penalty, as the pages and the API show it: its share, said plainly and counted."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from grader.models import DEFAULT_COURSE_ID, Assignment, Choice, Question, QuizAttempt, utcnow
from grader.services import courses
from tests.factories import exercise, make_user
from tests.web.conftest import api_token

QUIZ = "/quizzes/message-cycle"
LATE_NOTE = re.compile(r"Submitted 1 hour and \d+ minutes late: this attempt counts 80% \(2\.4 of 3\)\.")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request) -> str:
    """Each test once on SQLite and once on PostgreSQL."""
    return request.param


def _lesson(session) -> Assignment:
    session.expire_all()
    return session.exec(select(Assignment).where(Assignment.exercise_id == exercise(session).id)).one()


@pytest.fixture
def late_penalty(synced) -> Assignment:
    """The lesson was due 90 minutes ago; late work loses 10% per started hour: an attempt now counts 80%."""
    teacher = make_user(synced, role="instructor")
    courses.update_assignment(
        session=synced,
        assignment_id=_lesson(synced).id,
        by=teacher,
        due_at=utcnow() - timedelta(minutes=90),
        late_policy="penalty",
        penalty_percent=10,
        penalty_unit="hour",
    )
    return _lesson(synced)


def _all_right(session) -> dict[int, int]:
    return {
        question.id: session.exec(select(Choice).where(Choice.question_id == question.id, Choice.is_correct)).first().id
        for question in session.exec(select(Question).where(Question.active))
    }


def _answer_on_the_page(browser, session, assignment: Assignment) -> str:
    """Answer every question right through the form; the result page's URL."""
    page = f"{QUIZ}?assignment={assignment.id}"
    data = {f"answer-{question}": str(choice) for question, choice in _all_right(session).items()}
    response = browser.post_form(f"{QUIZ}/attempts", {**data, "assignment": str(assignment.id)}, page=page)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_the_result_start_and_quiz_pages_say_what_a_late_attempt_counts(as_learner, synced, late_penalty):
    result = as_learner.get(_answer_on_the_page(as_learner, synced, late_penalty)).text
    assert "Your score: 3/3" in result
    assert LATE_NOTE.search(result), result
    start = as_learner.get("/").text
    assert '2.4/3 <span class="muted">(late: 80% counts)</span>' in start
    quiz = as_learner.get(QUIZ).text
    assert "So far: <strong>2.4/3</strong> (late: 80% of 3 counts)." in quiz
    assert "(late: counts 2.4)" in quiz


def test_an_attempt_on_time_says_nothing_of_lateness(as_learner, synced, late_penalty):
    teacher = make_user(synced, role="instructor")
    courses.update_assignment(
        session=synced, assignment_id=late_penalty.id, by=teacher, due_at=utcnow() + timedelta(days=1)
    )
    result = as_learner.get(_answer_on_the_page(as_learner, synced, late_penalty)).text
    assert "Your score: 3/3" in result and 'id="late-share"' not in result and "this attempt counts" not in result
    start = as_learner.get("/").text
    assert "3/3" in start and "late: " not in start


def test_the_dashboard_csv_and_learner_page_count_the_share(as_learner, as_instructor, learner, synced, late_penalty):
    _answer_on_the_page(as_learner, synced, late_penalty)
    table = as_instructor.get(f"/courses/{DEFAULT_COURSE_ID}/dashboard").text
    assert '2.4 / 3 <span class="muted">(1 attempt)</span>' in table
    text = as_instructor.get(f"/courses/{DEFAULT_COURSE_ID}/gradebook.csv").text
    row = next(row for row in csv.DictReader(io.StringIO(text)) if row["email"] == learner.email)
    assert row["message-cycle score"] == "2.4" and row["message-cycle max"] == "3"
    detail = as_instructor.get(f"/courses/{DEFAULT_COURSE_ID}/learners/{learner.id}").text
    assert "3/3 (late: counts 2.4)</caption>" in detail


def test_the_api_gives_the_share_and_the_counted_score(client, learner, instructor, synced, late_penalty):
    answers = {str(question): choice for question, choice in _all_right(synced).items()}
    body = client.post(
        f"/api/v1{QUIZ}/attempts",
        headers=api_token(client, learner),
        json={"answers": answers, "assignment_id": late_penalty.id},
    ).json()
    assert body["score"] == 3 and body["late_factor"] == pytest.approx(0.8)
    assert body["counted_score"] == pytest.approx(2.4)
    page = client.get("/api/v1/gradebook", headers=api_token(client, instructor)).json()
    row = next(row for row in page["rows"] if row["email"] == learner.email)
    assert row["quizzes"]["message-cycle"]["score"] == pytest.approx(2.4)


def test_moving_the_due_date_says_how_many_attempts_changed(as_learner, as_instructor, synced, late_penalty):
    _answer_on_the_page(as_learner, synced, late_penalty)
    page = f"/courses/{late_penalty.course_id}/assignments/{late_penalty.id}"
    form = {
        "title": late_penalty.title,
        "due_at": (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "zone": "UTC",
        "late_policy": "penalty",
        "penalty_percent": "10",
        "penalty_unit": "hour",
        "reveal_answers": "after_last_attempt",
    }
    response = as_instructor.post_form(page, form, page=page)
    assert "Saved. 1 score changed." in response.text
    synced.expire_all()
    assert synced.exec(select(QuizAttempt.late_factor)).one() == 1.0
    assert "late: " not in as_learner.get("/").text
