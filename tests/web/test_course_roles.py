"""Who may open a course's staff pages: every route of a course tried by every role it can meet.

A course's TAs and instructors see its views and regrade; only its instructors change its
settings; its learners are refused (403); anyone who is not a member, an account-level
instructor included, is told the course does not exist (404); anonymous visitors sign in first.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from grader.models import DEFAULT_COURSE_ID, Course, CourseMember, Exercise, Quiz
from grader.services import courses
from tests.factories import DEFAULT_PASSWORD, make_report, make_submission, make_user

from .conftest import CONFIRM, Browser, api_token

ROLES = ("anonymous", "outsider", "learner", "ta", "instructor")

# (who may, method, path, status on success). Paths name the course {c}, its assignment {a},
# its learner {learner} and that learner's submission {submission}.
ROUTES = [
    ("staff", "GET", "/courses/{c}/dashboard", 200),
    ("staff", "GET", "/courses/{c}/dashboard?assignment={a}&exercise=message-echo&sort=best", 200),
    ("staff", "GET", "/courses/{c}/dashboard/rows?page=1", 200),
    ("staff", "GET", "/courses/{c}/dashboard/overview", 200),
    ("staff", "GET", "/courses/{c}/dashboard/changes?since=", 200),
    ("staff", "GET", "/courses/{c}/gradebook.csv", 200),
    ("staff", "GET", "/courses/{c}/cases?exercise=message-echo&case=hi", 200),
    ("staff", "GET", "/courses/{c}/mistakes?exercise=message-echo&cause=other", 200),
    ("staff", "GET", "/courses/{c}/learners/{learner}", 200),
    ("staff", "GET", "/courses/{c}/exercises/message-echo/regrade", 200),
    ("staff", "POST", "/courses/{c}/submissions/{submission}/regrade", 303),
    ("staff", "POST", "/courses/{c}/exercises/message-echo/regrade", 303),
    ("staff", "API", "/api/v1/gradebook?course_id={c}", 200),
    ("instructor", "POST", "/courses/{c}/join-code", 200),
]


def _expected(who: str, role: str, success: int, method: str) -> int:
    if role == "anonymous":
        return 401 if method == "API" else 303
    if role == "outsider":
        return 404
    if role == "learner" or (who == "instructor" and role == "ta"):
        return 403
    return success


@pytest.fixture
def course(synced):
    """Course B with its instructor, a TA and a learner who submitted; the lesson's exercise and quiz placed in it."""
    teacher = make_user(synced, role="instructor", email="teacher@example.org", name="Teacher")
    made = courses.create(session=synced, title="Evening class", created_by=teacher)
    echo = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    quiz = synced.exec(select(Quiz).where(Quiz.slug == "message-cycle")).one()
    placed = courses.place(session=synced, course_id=made.id, exercise=echo, quiz=quiz)
    members = {"instructor": teacher}
    for role in ("ta", "learner"):
        user = make_user(synced, email=f"{role}@example.org", name=role.upper())
        synced.delete(synced.get(CourseMember, (DEFAULT_COURSE_ID, user.id)))
        courses.add_member(session=synced, course_id=made.id, user_id=user.id, role=role)
        members[role] = user
    synced.commit()
    # An instructor of the default course only: the account may teach, but not this course.
    members["outsider"] = make_user(synced, role="instructor", email="outsider@example.org", name="Outsider")
    report = make_report(cases={"hello": True, "hi": False}).to_dict()
    submission = make_submission(synced, user=members["learner"], status="graded", score=1, report=report)
    values = {"c": made.id, "a": placed.id, "learner": members["learner"].id, "submission": submission.id}
    return {"members": members, "values": values, "id": made.id}


@pytest.mark.parametrize("role", ROLES)
def test_every_course_route_answers_each_role_as_its_role_allows(app, synced, course, queued, role):
    client = TestClient(app)
    browser = Browser(client)
    user = course["members"].get(role)
    headers: dict[str, str] = {}
    if user is not None:
        headers = api_token(client, user)
        browser.sign_in(user)
    wrong = []
    for who, method, template, success in ROUTES:
        url = template.format(**course["values"])
        if method == "POST" and role == "anonymous":
            continue  # a form needs a page's token first; the GET rows show where anonymous visitors go
        if method == "GET":
            response = client.get(url, follow_redirects=False)
        elif method == "API":
            response = client.get(url, headers=headers, follow_redirects=False)
        else:
            response = browser.post_form(url, CONFIRM, page="/account")
        expected = _expected(who, role, success, method)
        if response.status_code != expected:
            wrong.append(f"{method} {url}: {response.status_code}, expected {expected}")
        elif expected == 404 and method != "API":
            # Nothing of the course is given away to someone outside it.
            assert "Evening class" not in response.text and "Not found" in response.text
    assert not wrong, f"{role}: " + "; ".join(wrong)


def test_the_join_code_changes_only_when_an_instructor_asks(app, synced, course):
    before = synced.get(Course, course["id"]).join_code
    ta = Browser(TestClient(app)).sign_in(course["members"]["ta"])
    assert ta.post_form(f"/courses/{course['id']}/join-code", page="/account").status_code == 403
    synced.expire_all()
    assert synced.get(Course, course["id"]).join_code == before
    teacher = Browser(TestClient(app)).sign_in(course["members"]["instructor"])
    response = teacher.post_form(f"/courses/{course['id']}/join-code", page="/account")
    assert response.status_code == 200 and "the old one no longer works" in response.text
    synced.expire_all()
    after = synced.get(Course, course["id"]).join_code
    assert after and after != before
    page = teacher.get(f"/courses/{course['id']}/dashboard").text
    assert after in page and before not in page


def test_staff_land_on_their_course_dashboard_and_old_paths_lead_there(app, synced, course):
    client = TestClient(app)
    browser = Browser(client)
    token = browser.token_for("/login")
    ta = course["members"]["ta"]
    response = client.post(
        "/login", data={"email": ta.email, "password": DEFAULT_PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert response.headers["location"] == f"/courses/{course['id']}/dashboard"
    moved = client.get("/instructor?exercise=message-echo&q=LEA", follow_redirects=False)
    assert moved.status_code == 307
    assert moved.headers["location"] == f"/courses/{course['id']}/dashboard?exercise=message-echo&q=LEA"
    learner_id = course["values"]["learner"]
    moved = client.get(f"/instructor/learners/{learner_id}", follow_redirects=False)
    assert moved.headers["location"] == f"/courses/{course['id']}/learners/{learner_id}"


def test_a_learner_signs_in_to_their_home(app, synced, course):
    client = TestClient(app)
    token = Browser(client).token_for("/login")
    learner = course["members"]["learner"]
    response = client.post(
        "/login",
        data={"email": learner.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_a_ta_follows_the_regrade_they_started(app, synced, course, queued):
    ta = Browser(TestClient(app)).sign_in(course["members"]["ta"])
    started = ta.post_form(f"/courses/{course['id']}/exercises/message-echo/regrade", CONFIRM, page="/account")
    progress = started.headers["location"]
    assert progress.startswith("/instructor/regrades/") and ta.get(progress).status_code == 200
    assert ta.get(f"{progress}/status").json()["total"] == 1
    # Another course's learner may not follow it.
    learner = Browser(TestClient(app)).sign_in(course["members"]["learner"])
    assert learner.get(progress).status_code == 403
