"""The JSON API: tokens, exercises, submissions, quizzes, gradebook, and its errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import func, select

from grader.models import Choice, Question, QuizAttempt, Submission
from tests.factories import DEFAULT_PASSWORD, make_report, make_submission

from .conftest import api_token

SOLUTION = b"from fastapi import FastAPI\napp = FastAPI()\n@app.post('/message')\nasync def r(msg: dict):\n    return {'received': msg}\n"


def _count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def test_token_by_password_flow(client, learner):
    response = client.post("/api/v1/token", data={"username": learner.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"]


@pytest.mark.parametrize("password", ["wrong password", ""])
def test_wrong_password_gets_no_token(client, learner, password):
    response = client.post("/api/v1/token", data={"username": learner.email, "password": password})
    assert response.status_code in (401, 422)
    assert "access_token" not in response.text


def test_bad_or_missing_token_is_401(client):
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/exercises", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_list_exercises(client, learner):
    response = client.get("/api/v1/exercises", headers=api_token(client, learner))
    slugs = [item["slug"] for item in response.json()]
    assert "message-echo" in slugs
    echo = next(item for item in response.json() if item["slug"] == "message-echo")
    assert echo["max_score"] == 16
    assert echo["submit_url"] == "http://127.0.0.1:8000/api/v1/exercises/message-echo/submissions"
    assert set(echo) == {"id", "slug", "title", "summary", "max_score", "instructions", "submit_url"}


def test_submit_then_follow(client, learner, synced, queued):
    headers = api_token(client, learner)
    response = client.post(
        "/api/v1/exercises/message-echo/submissions", headers=headers, files={"file": ("solution.py", SOLUTION)}
    )
    assert response.status_code == 202
    created = response.json()
    assert created["status"] == "queued" and queued == [created["id"]]
    follow = client.get(f"/api/v1/submissions/{created['id']}", headers=headers).json()
    assert follow["status"] == "queued" and follow["queue_position"] == 1 and follow["report"] is None
    assert follow["id"] == created["id"] and follow["user_id"] == learner.id and follow["exercise"] == "message-echo"
    assert {"exercise_id", "filename", "score", "max_score", "created_at", "started_at", "finished_at"} <= set(follow)
    assert follow["exercise"] == "message-echo" and follow["max_score"] == 16
    assert follow["attempt"] == 1


def test_the_api_numbers_attempts_per_learner_and_exercise(client, learner, other_learner, synced):
    make_submission(synced, user=other_learner)
    make_submission(synced, user=learner)
    make_submission(synced, user=learner, slug="health-check")
    third = make_submission(synced, user=learner)
    body = client.get(f"/api/v1/submissions/{third.id}", headers=api_token(client, learner)).json()
    assert body["id"] == third.id and body["attempt"] == 2


def test_graded_submission_carries_the_report(client, learner, synced):
    report = make_report(cases={"hello": True, "hi": False}).to_dict()
    submission = make_submission(synced, user=learner, status="graded", score=1, report=report)
    body = client.get(f"/api/v1/submissions/{submission.id}", headers=api_token(client, learner)).json()
    assert body["status"] == "graded" and body["score"] == 1
    assert [case["name"] for case in body["report"]["tests"]] == ["hello", "hi"]


@pytest.mark.parametrize(
    "files, status, words",
    [
        ({"file": ("solution.py", b"")}, 422, "empty"),
        ({"file": ("solution.py", b"\x00\x01")}, 422, "binary"),
        ({"file": ("solution.py", b"\xff\xfe x")}, 422, "UTF-8"),
        ({"file": ("solution.txt", SOLUTION)}, 422, "not a Python file"),
        ({"file": ("solution.py", b"#" * (64 * 1024 + 1))}, 413, "limit"),
        ({"other": ("solution.py", SOLUTION)}, 422, "file"),
    ],
)
def test_bad_uploads(client, learner, synced, queued, files, status, words):
    response = client.post(
        "/api/v1/exercises/message-echo/submissions", headers=api_token(client, learner), files=files
    )
    assert response.status_code == status
    assert words in str(response.json()["detail"])
    assert _count(synced, Submission) == 0 and queued == []


def test_rate_limited_submission_is_429_with_retry_after(client, learner, synced):
    headers = api_token(client, learner)
    url = "/api/v1/exercises/message-echo/submissions"
    assert client.post(url, headers=headers, files={"file": ("a.py", SOLUTION)}).status_code == 202
    response = client.post(url, headers=headers, files={"file": ("a.py", SOLUTION)})
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 10
    assert _count(synced, Submission) == 1


def test_unknown_exercise_is_404(client, learner):
    response = client.post(
        "/api/v1/exercises/nope/submissions", headers=api_token(client, learner), files={"file": ("a.py", SOLUTION)}
    )
    assert response.status_code == 404 and "nope" in response.json()["detail"]


def _all_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _all_keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _all_keys(item)}
    return set()


def test_quiz_has_no_answers(client, learner, synced):
    headers = api_token(client, learner)
    assert [quiz["slug"] for quiz in client.get("/api/v1/quizzes", headers=headers).json()] == ["message-cycle"]
    response = client.get("/api/v1/quizzes/message-cycle", headers=headers)
    quiz = response.json()
    assert not _all_keys(quiz) & {"is_correct", "correct", "hint", "answer", "answers", "right_answer", "evidence"}
    # The lesson's key moments have explanations of their own; the questions have none.
    assert not _all_keys(quiz["questions"]) & {"explanation"}
    for question in synced.exec(select(Question)):
        assert question.hint not in response.text
        assert question.explanation not in response.text
    assert len(quiz["questions"]) == 3 and all(len(q["choices"]) == 4 for q in quiz["questions"])
    assert quiz["visuals"]["execution_table"]["rows"][0]["step"] == 1


def _answers(client, headers, pick) -> dict[str, int]:
    quiz = client.get("/api/v1/quizzes/message-cycle", headers=headers).json()
    return {str(q["id"]): pick(q) for q in quiz["questions"]}


def _file_option(session, label: str) -> Callable[[dict], int]:
    """Picks, in a quiz from the API, the option the quiz file labels ``label`` (wherever it is shown)."""
    ids = {c.question_id: c.id for c in session.exec(select(Choice).where(Choice.label == label))}
    return lambda question: ids[question["id"]]


def test_attempt_scores_and_gives_feedback(client, learner, synced):
    headers = api_token(client, learner)
    answers = _answers(client, headers, _file_option(synced, "A"))
    response = client.post("/api/v1/quizzes/message-cycle/attempts", headers=headers, json={"answers": answers})
    assert response.status_code == 201
    body = response.json()
    # The file's option A is right only for question 2 ("Step 3").
    assert body["score"] == 1 and body["max_score"] == 3
    assert [q["correct"] for q in body["questions"]] == [False, True, False]
    assert all(q["hint"] for q in body["questions"])


def _right_choice(session, question_id: int) -> Choice:
    return session.exec(select(Choice).where(Choice.question_id == question_id, Choice.is_correct)).one()


def test_the_right_answer_is_sent_only_after_the_last_attempt(client, learner, synced, settings):
    headers = api_token(client, learner)
    wrong = {c.question_id: c.id for c in synced.exec(select(Choice).where(~Choice.is_correct))}
    bodies = []
    for attempt in range(settings.quiz_max_attempts):
        quiz = client.get("/api/v1/quizzes/message-cycle", headers=headers).json()
        if attempt < settings.quiz_max_attempts - 1:
            assert quiz["right_answers"] == "The right answers appear after your last attempt."
        answers = {str(q["id"]): wrong[q["id"]] for q in quiz["questions"]}
        body = client.post(
            "/api/v1/quizzes/message-cycle/attempts",
            headers=headers,
            json={"answers": answers, "start_id": quiz["start_id"]},
        ).json()
        # The options come back as the quiz offered them, letters included.
        assert [q["choices"] for q in body["questions"]] == [q["choices"] for q in quiz["questions"]]
        bodies.append((quiz, body))
    for _, body in bodies[:-1]:
        assert body["right_answers_shown"] is False
        assert all(q["right_answer"] is None for q in body["questions"])
    quiz, last = bodies[-1]
    assert last["right_answers_shown"] is True
    assert last["right_answers"] == "You have used every attempt, so the right answers are marked."
    offered = {q["id"]: {c["id"]: c for c in q["choices"]} for q in quiz["questions"]}
    for feedback in last["questions"]:
        right = _right_choice(synced, feedback["question_id"])
        # The right option as this attempt offered it: its letter is the one shown, not the file's.
        assert feedback["right_answer"] == offered[feedback["question_id"]][right.id]
        assert feedback["right_answer"]["text"] == right.text


def test_attempt_feedback_gives_why_not_then_why_and_its_trace_cell(client, learner, synced, settings):
    headers = api_token(client, learner)
    quiz = client.get("/api/v1/quizzes/message-cycle", headers=headers).json()
    answers = {str(q["id"]): q["choices"][0]["id"] for q in quiz["questions"]}
    stored = {question.id: question for question in synced.exec(select(Question))}
    for attempt in range(settings.quiz_max_attempts):
        body = client.post("/api/v1/quizzes/message-cycle/attempts", headers=headers, json={"answers": answers}).json()
        revealed = attempt == settings.quiz_max_attempts - 1
        assert body["right_answers_shown"] is revealed
        for feedback in body["questions"]:
            question = stored[feedback["question_id"]]
            right = _right_choice(synced, question.id)
            assert feedback["correct"] == (feedback["choice_id"] == right.id)
            assert feedback["choice_feedback"] == synced.get(Choice, feedback["choice_id"]).feedback
            if not revealed:
                # Before the reveal: no explanation, and for a wrong answer only the line to read along.
                assert feedback["explanation"] == ""
                line = question.evidence["before_reveal"]
                if feedback["correct"] or line == "none":
                    assert feedback["evidence"] is None
                else:
                    other = "column" if line == "row" else "row"
                    expected = {"table": question.evidence["table"], line: question.evidence[line], other: None}
                    assert feedback["evidence"] == expected
                continue
            assert feedback["explanation"] == question.explanation and feedback["explanation"]
            cell = feedback["evidence"]
            assert cell == {key: question.evidence[key] for key in ("table", "row", "column")}
            # The cell is one the quiz's own trace has.
            if cell["table"] == "execution_table":
                table = quiz["visuals"]["execution_table"]
                first = table["columns"][0]
                assert cell["column"] in table["columns"]
                assert any(str(row[first]) == cell["row"] for row in table["rows"])
            else:
                tracker = quiz["visuals"]["variable_tracker"]
                assert cell["column"] in tracker["moments"]
                assert cell["row"] in [variable["name"] for variable in tracker["variables"]]


def test_attempt_feedback_is_documented(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    feedback = schemas["QuestionFeedbackOut"]["properties"]
    for field in ("correct", "choice_feedback", "right_answer", "explanation", "evidence"):
        assert feedback[field].get("description"), field
    assert set(schemas["EvidenceOut"]["properties"]) == {"table", "row", "column"}


def test_refused_attempt_gives_no_answers_away(client, learner, synced, settings):
    headers = api_token(client, learner)
    answers = _answers(client, headers, lambda q: q["choices"][0]["id"])
    first = next(iter(answers))
    missing = client.post(
        "/api/v1/quizzes/message-cycle/attempts", headers=headers, json={"answers": {first: answers[first]}}
    )
    assert missing.status_code == 422
    for _ in range(settings.quiz_max_attempts):
        client.post("/api/v1/quizzes/message-cycle/attempts", headers=headers, json={"answers": answers})
    over = client.post("/api/v1/quizzes/message-cycle/attempts", headers=headers, json={"answers": answers})
    assert over.status_code == 409
    for response in (missing, over):
        assert not _all_keys(response.json()) & {"right_answer", "explanation", "evidence", "correct"}
        for question in synced.exec(select(Question)):
            assert question.explanation not in response.text


@pytest.mark.parametrize("problem", ["missing", "unknown", "duplicate", "not-a-dict", "no-answers-key"])
def test_bad_attempts_store_nothing(client, learner, synced, problem):
    headers = {**api_token(client, learner), "content-type": "application/json"}
    answers = _answers(client, headers, lambda q: q["choices"][0]["id"])
    first = next(iter(answers))
    if problem == "missing":
        body = f'{{"answers": {{"{first}": {answers[first]}}}}}'
    elif problem == "unknown":
        body = '{{"answers": {{"{}": 999999, {}}}}}'.format(
            first, ", ".join(f'"{k}": {v}' for k, v in answers.items() if k != first)
        )
    elif problem == "duplicate":
        pairs = ", ".join(f'"{k}": {v}' for k, v in answers.items())
        body = f'{{"answers": {{{pairs}, "{first}": {answers[first]}}}}}'
    elif problem == "not-a-dict":
        body = '{"answers": [1, 2, 3]}'
    else:
        body = "{}"
    response = client.post("/api/v1/quizzes/message-cycle/attempts", headers=headers, content=body)
    assert response.status_code == 422, response.text
    assert _count(synced, QuizAttempt) == 0


def test_attempt_limit_is_409(client, learner, synced, settings):
    headers = api_token(client, learner)
    answers = _answers(client, headers, lambda q: q["choices"][0]["id"])
    for _ in range(settings.quiz_max_attempts):
        assert (
            client.post(
                "/api/v1/quizzes/message-cycle/attempts", headers=headers, json={"answers": answers}
            ).status_code
            == 201
        )
    response = client.post("/api/v1/quizzes/message-cycle/attempts", headers=headers, json={"answers": answers})
    assert response.status_code == 409
    assert _count(synced, QuizAttempt) == settings.quiz_max_attempts


def test_gradebook_for_instructors(client, learner, instructor, synced):
    make_submission(synced, user=learner, status="graded", score=16, report=make_report(cases={"a": True}).to_dict())
    assert client.get("/api/v1/gradebook", headers=api_token(client, learner)).status_code == 403
    page = client.get("/api/v1/gradebook", headers=api_token(client, instructor)).json()
    row = next(row for row in page["rows"] if row["email"] == learner.email)
    assert row["exercises"]["message-echo"]["best"] == 16 and row["submissions"] == 1
    assert page["next"] is None


def test_gradebook_pages_follow_a_cursor_to_every_learner(client, instructor, synced):
    from tests.factories import make_user

    made = [make_user(synced, name=f"Learner {number}") for number in range(5)]
    headers = api_token(client, instructor)
    url, seen, pages = "/api/v1/gradebook?limit=2", [], 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        page = response.json()
        assert len(page["rows"]) <= 2
        seen += [row["user_id"] for row in page["rows"]]
        url, pages = page["next"], pages + 1
    assert seen == sorted(user.id for user in made) and pages == 3
    assert client.get("/api/v1/gradebook?limit=0", headers=headers).status_code == 422
    assert client.get("/api/v1/gradebook?after=-1", headers=headers).status_code == 422


def test_openapi_documents_the_gradebook_cursor(client):
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/gradebook"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert {"after", "limit"} <= set(parameters)
    assert "Cursor" in parameters["after"]["description"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/GradebookPage")


def test_openapi_documents_the_api(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in [
        "/api/v1/token",
        "/api/v1/exercises",
        "/api/v1/exercises/{slug}/submissions",
        "/api/v1/submissions/{submission_id}",
        "/api/v1/quizzes",
        "/api/v1/quizzes/{slug}",
        "/api/v1/quizzes/{slug}/attempts",
        "/api/v1/gradebook",
    ]:
        assert path in paths, path
    assert not any(path.startswith("/courses/1/dashboard") or path == "/login" for path in paths)
    assert (
        schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"]
        == "/api/v1/token"
    )


def test_docs_page_is_self_hosted(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert "POST /api/v1/exercises/{slug}/submissions" in response.text
    assert "swagger" not in response.text.lower() and "cdn" not in response.text.lower()
    assert client.get("/redoc").status_code == 404
