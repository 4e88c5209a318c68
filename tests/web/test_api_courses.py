"""The API's courses and assignments: the caller's own dates and status; work sent for a chosen assignment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from grader.models import DEFAULT_COURSE_ID, Assignment, QuizAttempt, Submission, utcnow
from grader.services import courses
from tests.factories import exercise

from .conftest import api_token

SOLUTION = ("solution.py", b"from fastapi import FastAPI\napp = FastAPI()\n", "text/x-python")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request) -> str:
    """Each test once on SQLite and once on PostgreSQL."""
    return request.param


def _lesson(session) -> Assignment:
    session.expire_all()
    return session.exec(select(Assignment).where(Assignment.exercise_id == exercise(session).id)).one()


def test_courses_list_the_callers_role(client, learner, instructor, synced):
    evening = courses.create(session=synced, title="Evening", created_by=instructor)
    as_learner = client.get("/api/v1/courses", headers=api_token(client, learner)).json()
    assert [(row["id"], row["role"]) for row in as_learner] == [(DEFAULT_COURSE_ID, "learner")]
    as_teacher = client.get("/api/v1/courses", headers=api_token(client, instructor)).json()
    assert [(row["title"], row["role"]) for row in as_teacher][-1] == ("Evening", "instructor")
    assert as_teacher[-1]["assignments_url"].endswith(f"/api/v1/courses/{evening.id}/assignments")


def test_assignments_carry_the_callers_own_due_date_and_status(client, learner, other_learner, instructor, synced):
    lesson = _lesson(synced)
    due = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    courses.update_assignment(
        session=synced, assignment_id=lesson.id, by=instructor, due_at=due, late_policy="penalty", penalty_percent=10
    )
    courses.grant_extension(
        session=synced, assignment_id=lesson.id, user_id=learner.id, due_at=due + timedelta(days=2), by=instructor
    )
    mine = client.get(f"/api/v1/courses/{DEFAULT_COURSE_ID}/assignments", headers=api_token(client, learner)).json()
    row = next(item for item in mine if item["id"] == lesson.id)
    assert row["exercise"] == "message-echo" and row["quiz"] == "message-cycle"
    assert row["due_at"].startswith((due + timedelta(days=2)).isoformat()[:19]) and row["extended"] is True
    assert row["status"] == "extended" and row["best_score"] is None and row["max_score"] == 16
    assert row["late_policy"]["policy"] == "penalty" and row["late_policy"]["penalty_percent"] == 10
    assert "10% off" in row["late_policy"]["sentence"]
    theirs = client.get("/api/v1/assignments", headers=api_token(client, other_learner)).json()
    row = next(item for item in theirs if item["id"] == lesson.id)
    assert row["due_at"].startswith(due.isoformat()[:19]) and row["extended"] is False and row["status"] == "open"
    staff = client.get("/api/v1/assignments", headers=api_token(client, instructor)).json()
    assert next(item for item in staff if item["id"] == lesson.id)["status"] is None


def test_a_course_the_caller_is_not_in_is_404_as_json(client, learner, instructor, synced):
    evening = courses.create(session=synced, title="Evening", created_by=instructor)
    response = client.get(f"/api/v1/courses/{evening.id}/assignments", headers=api_token(client, learner))
    assert response.status_code == 404 and response.json() == {"detail": "There is no such course."}
    assert client.get("/api/v1/courses/0/assignments", headers=api_token(client, learner)).status_code == 404
    assert client.get("/api/v1/assignments").status_code == 401


def test_a_submission_and_an_attempt_count_for_the_assignment_named(client, learner, instructor, synced, queued):
    evening = courses.create(session=synced, title="Evening", created_by=instructor)
    quiz_id = _lesson(synced).quiz_id
    placed = courses.place_assignment(
        session=synced, course_id=evening.id, by=instructor, exercise_id=exercise(synced).id, quiz_id=quiz_id
    )
    headers = api_token(client, learner)
    url = "/api/v1/exercises/message-echo/submissions"
    refused = client.post(url, headers=headers, files={"file": SOLUTION}, data={"assignment_id": str(placed.id)})
    assert refused.status_code == 404 and refused.json() == {"detail": "There is no such assignment."}
    courses.add_member(session=synced, course_id=evening.id, user_id=learner.id, role="learner")
    synced.commit()
    response = client.post(url, headers=headers, files={"file": SOLUTION}, data={"assignment_id": str(placed.id)})
    assert response.status_code == 202
    synced.expire_all()
    assert synced.get(Submission, response.json()["id"]).assignment_id == placed.id

    quiz = client.get("/api/v1/quizzes/message-cycle", headers=headers).json()
    answers = {str(q["id"]): q["choices"][0]["id"] for q in quiz["questions"]}
    attempt = client.post(
        "/api/v1/quizzes/message-cycle/attempts", headers=headers, json={"answers": answers, "assignment_id": placed.id}
    )
    assert attempt.status_code == 201
    synced.expire_all()
    assert synced.get(QuizAttempt, attempt.json()["id"]).assignment_id == placed.id
    bad = client.post(
        "/api/v1/quizzes/message-cycle/attempts", headers=headers, json={"answers": answers, "assignment_id": "1"}
    )
    assert bad.status_code == 422


def test_work_past_due_is_409_as_json_and_nothing_is_stored(client, learner, instructor, synced):
    lesson = _lesson(synced)
    courses.update_assignment(
        session=synced, assignment_id=lesson.id, by=instructor, due_at=utcnow() - timedelta(hours=1)
    )
    headers = api_token(client, learner)
    response = client.post(
        "/api/v1/exercises/message-echo/submissions",
        headers=headers,
        files={"file": SOLUTION},
        data={"assignment_id": str(lesson.id)},
    )
    assert response.status_code == 409 and "takes no late work" in response.json()["detail"]
    quiz = client.get("/api/v1/quizzes/message-cycle", headers=headers).json()
    answers = {str(q["id"]): q["choices"][0]["id"] for q in quiz["questions"]}
    response = client.post("/api/v1/quizzes/message-cycle/attempts", headers=headers, json={"answers": answers})
    assert response.status_code == 409 and "takes no late work" in response.json()["detail"]
    synced.expire_all()
    assert synced.exec(select(Submission)).all() == [] and synced.exec(select(QuizAttempt)).all() == []


def test_the_new_endpoints_are_documented(client):
    schema = client.get("/openapi.json").json()
    for path in ("/api/v1/courses", "/api/v1/courses/{course_id}/assignments", "/api/v1/assignments"):
        assert schema["paths"][path]["get"]["description"]
    assert "assignment_id" in schema["components"]["schemas"]["AttemptIn"]["properties"]
    upload = schema["paths"]["/api/v1/exercises/{slug}/submissions"]["post"]
    assert "409" in upload["responses"]
