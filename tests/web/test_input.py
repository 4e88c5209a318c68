"""No input makes a server error: out-of-range ids, odd digits, booleans, long names, races.

Each test sends what once produced a 500 and checks the clear answer given instead,
and that nothing was stored.
"""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from grader.models import Choice, Question, QuizAttempt, Submission, User
from tests.factories import make_submission

from .conftest import Browser, api_token

QUIZ = "/quizzes/message-cycle"
# 2**63 is one past the largest id a row can have; SQLite raised OverflowError on it.
HUGE_IDS = [str(2**63), str(10**30)]
SOLUTION = b"from fastapi import FastAPI\napp = FastAPI()\n"


def _count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize("huge", HUGE_IDS)
@pytest.mark.parametrize(
    "path",
    [
        "/submissions/{}",
        "/submissions/{}/status",
        "/submissions/{}/result",
        QUIZ + "/attempts/{}",
    ],
)
def test_learner_pages_answer_404_to_an_id_no_row_can_have(as_learner, path, huge):
    response = as_learner.get(path.format(huge))
    assert response.status_code == 404, response.text
    assert "nothing at this address" in response.text


@pytest.mark.parametrize("huge", HUGE_IDS)
@pytest.mark.parametrize(
    "path",
    ["/courses/1/learners/{}", "/instructor/regrades/{}", "/instructor/regrades/{}/status"],
)
def test_instructor_pages_answer_404_to_an_id_no_row_can_have(as_instructor, path, huge):
    assert as_instructor.get(path.format(huge)).status_code == 404


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_regrading_an_id_no_row_can_have_is_404(as_instructor, huge, synced):
    response = as_instructor.post_form(f"/courses/1/submissions/{huge}/regrade", {}, page="/instructor/users")
    assert response.status_code == 404
    assert _count(synced, Submission) == 0


@pytest.mark.parametrize("huge", [*HUGE_IDS, "0", "-1", "abc"])
def test_the_api_answers_404_in_json_to_an_id_that_names_nothing(client, learner, huge):
    response = client.get(f"/api/v1/submissions/{huge}", headers=api_token(client, learner))
    assert response.status_code == 404
    assert response.json() == {"detail": "There is nothing at this address."}


def test_the_largest_possible_id_is_an_ordinary_unknown_id(as_learner, learner, synced):
    make_submission(synced, user=learner)
    assert as_learner.get(f"/submissions/{2**63 - 1}").status_code == 404


@pytest.fixture
def answer_fields(synced) -> list[tuple[str, str]]:
    """A right answer to every question of the quiz, as form fields."""
    fields = []
    for question in synced.exec(select(Question).where(Question.active).order_by(Question.position)):
        right = synced.exec(select(Choice).where(Choice.question_id == question.id, Choice.is_correct)).one()
        fields.append((f"answer-{question.id}", str(right.id)))
    return fields


@pytest.mark.parametrize("where", ["question", "choice"])
@pytest.mark.parametrize("odd", ["²", "١", *HUGE_IDS, "9" * 5000])
def test_quiz_form_with_odd_numbers_is_refused_and_stores_nothing(as_learner, answer_fields, synced, where, odd):
    # "²".isdigit() is True but int("²") fails: the page used to crash building its "kept choices".
    fields = list(answer_fields)
    name, value = fields[0]
    fields[0] = (f"answer-{odd}", value) if where == "question" else (name, odd)
    response = as_learner.post_form(f"{QUIZ}/attempts", fields, page=QUIZ)
    assert response.status_code == 422, response.text
    assert 'role="alert"' in response.text
    assert _count(synced, QuizAttempt) == 0


def _api_answers(client, headers) -> dict[str, int]:
    quiz = client.get("/api/v1/quizzes/message-cycle", headers=headers).json()
    return {str(question["id"]): question["choices"][0]["id"] for question in quiz["questions"]}


@pytest.mark.parametrize("value", ["true", "false", '"1"', "1.0"])
def test_api_choice_ids_must_be_json_integers(client, learner, synced, value):
    headers = {**api_token(client, learner), "content-type": "application/json"}
    answers = _api_answers(client, headers)
    first = next(iter(answers))
    pairs = ", ".join(f'"{key}": {value if key == first else choice}' for key, choice in answers.items())
    response = client.post(f"/api/v1{QUIZ}/attempts", headers=headers, content=f'{{"answers": {{{pairs}}}}}')
    assert response.status_code == 422, response.text
    assert _count(synced, QuizAttempt) == 0


@pytest.mark.parametrize("huge", [*HUGE_IDS, "9" * 5000])
def test_api_question_id_no_row_can_have_is_an_unknown_question(client, learner, synced, huge):
    headers = api_token(client, learner)
    answers = _api_answers(client, headers)
    first = next(iter(answers))
    answers[huge] = answers.pop(first)
    response = client.post(f"/api/v1{QUIZ}/attempts", headers=headers, json={"answers": answers})
    assert response.status_code == 422
    detail = response.json()["detail"]
    if len(huge) <= 19:  # as many digits as an id can have: read, and found to name no question
        assert f"no question {huge}" in detail
    else:  # longer: not read at all
        assert detail == f"Question '{huge[:28]}… is not an id."
    assert _count(synced, QuizAttempt) == 0


@pytest.mark.parametrize("length", [256, 300, 1000])
def test_a_long_file_name_is_shortened_and_keeps_its_suffix(client, learner, synced, length):
    name = "s" * (length - 3) + ".py"
    response = client.post(
        "/api/v1/exercises/message-echo/submissions",
        headers=api_token(client, learner),
        files={"file": (name, SOLUTION)},
    )
    assert response.status_code == 202, response.text
    synced.expire_all()
    stored = synced.exec(select(Submission)).one()
    assert stored.filename.endswith(".py") and len(stored.filename) == 255
    assert stored.filename.startswith("sss")


def test_parallel_sign_ups_with_one_email_make_one_account(app, synced):
    racers = 10
    browsers = [Browser(TestClient(app)) for _ in range(racers)]
    tokens = [browser.token_for("/signup") for browser in browsers]
    barrier = threading.Barrier(racers, timeout=30)
    statuses: list[int | None] = [None] * racers

    def sign_up(index: int) -> None:
        data = {
            "email": "twin@example.org",
            "display_name": f"Twin {index}",
            "password": "a fine long passphrase",
            "join_code": "JOIN-ME",
            "csrf_token": tokens[index],
        }
        barrier.wait()
        response = browsers[index].client.post("/signup", data=data, follow_redirects=False)
        statuses[index] = response.status_code

    threads = [threading.Thread(target=sign_up, args=(index,)) for index in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [303] + [409] * (racers - 1), statuses
    synced.expire_all()
    assert len(synced.exec(select(User).where(User.email == "twin@example.org")).all()) == 1
