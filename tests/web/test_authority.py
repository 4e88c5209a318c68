"""Who may open a learner's work and manage accounts: every such route tried by every role it can meet.

Course B: Bea (the author) and Pia (a peer) are its learners, Tim its TA (a learner account),
Tess its instructor. Olga is an instructor account who instructs only course A: to her, B's
work does not exist and B's learners' accounts are not hers to manage.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from grader.models import DEFAULT_COURSE_ID, AuditEvent, Choice, CourseMember, Exercise, Quiz, RegradeBatch, User
from grader.services import courses, quizzes
from tests.factories import make_submission, make_user
from tests.grading.test_visibility import SECRET_SENT, restricted_report

from .conftest import CONFIRM, Browser, api_token

ROLES = ("anonymous", "author", "peer", "ta", "instructor", "other_instructor")
SEES = {"author": 200, "peer": 404, "ta": 200, "instructor": 200, "other_instructor": 404}
NEW_ACCOUNT = {"email": "new@example.org", "display_name": "New", "role": "learner", "course_id": "{c}"}
CSV = {"csv_text": "email,display_name\nimported@example.org,Imported\n", "course_id": "{c}"}

# (method, path, form, status by role). Anonymous visitors are sent to sign in (pages) or get 401 (API);
# forms are not tried by them (a form needs a page's token first).
ROUTES = [
    ("GET", "/submissions/{s}", None, SEES),
    ("GET", "/submissions/{s}/result", None, SEES),
    ("GET", "/submissions/{s}/status", None, SEES),
    ("GET", "/submissions/{s}/events", None, SEES),
    ("API", "/api/v1/submissions/{s}", None, SEES),
    ("GET", "/quizzes/message-cycle/attempts/{a}", None, SEES),
    (
        "POST",
        "/courses/{c}/submissions/{s}/regrade",
        {},
        {"author": 403, "peer": 403, "ta": 303, "instructor": 303, "other_instructor": 404},
    ),
    (
        "POST",
        "/instructor/submissions/{s}/regrade",
        {},
        {"author": 404, "peer": 404, "ta": 307, "instructor": 307, "other_instructor": 404},
    ),
    (
        "GET",
        "/instructor/learners/{author}",
        None,
        {"author": 404, "peer": 404, "ta": 307, "instructor": 307, "other_instructor": 404},
    ),
    (
        "GET",
        "/instructor/learners/{author}/password",
        None,
        {"author": 403, "peer": 403, "ta": 403, "instructor": 200, "other_instructor": 404},
    ),
    (
        "GET",
        "/instructor/users",
        None,
        {"author": 403, "peer": 403, "ta": 403, "instructor": 200, "other_instructor": 200},
    ),
    (
        "POST",
        "/instructor/users",
        NEW_ACCOUNT,
        {"author": 403, "peer": 403, "ta": 403, "instructor": 200, "other_instructor": 404},
    ),
    (
        "POST",
        "/instructor/users/import",
        CSV,
        {"author": 403, "peer": 403, "ta": 403, "instructor": 202, "other_instructor": 404},
    ),
    # Last: it signs the author out everywhere.
    (
        "POST",
        "/instructor/learners/{author}/password",
        CONFIRM,
        {"author": 403, "peer": 403, "ta": 403, "instructor": 200, "other_instructor": 404},
    ),
]


@pytest.fixture
def course_b(synced):
    """Course B with its people, Olga of course A, Bea's graded submission (a hidden case) and quiz attempt."""
    tess = make_user(synced, role="instructor", name="Tess", email="tess@example.org")
    made = courses.create(session=synced, title="Evening class", created_by=tess)
    synced.delete(synced.get(CourseMember, (DEFAULT_COURSE_ID, tess.id)))
    echo = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    quiz = synced.exec(select(Quiz).where(Quiz.slug == "message-cycle")).one()
    courses.place(session=synced, course_id=made.id, exercise=echo, quiz=quiz)
    synced.commit()
    people = {
        "instructor": tess,
        "other_instructor": make_user(synced, role="instructor", name="Olga", email="olga@example.org"),
    }
    for key, role, name in (("author", "learner", "Bea"), ("ta", "ta", "Tim"), ("peer", "learner", "Pia")):
        people[key] = make_user(synced, name=name, email=f"{name.lower()}@example.org")
        synced.delete(synced.get(CourseMember, (DEFAULT_COURSE_ID, people[key].id)))
        courses.add_member(session=synced, course_id=made.id, user_id=people[key].id, role=role)
    synced.commit()
    submission = make_submission(
        synced, user=people["author"], status="graded", score=1, report=restricted_report("hidden").to_dict()
    )
    view = quizzes.get_for_learner(session=synced, slug="message-cycle")
    answers = {}
    for question in view.questions:
        choices = synced.exec(select(Choice).where(Choice.question_id == question.id)).all()
        answers[question.id] = choices[0].id
    attempt = quizzes.submit_attempt(session=synced, user=people["author"], slug="message-cycle", answers=answers)
    values = {"c": made.id, "s": submission.id, "a": attempt.id, "author": people["author"].id}
    return {"people": people, "values": values}


def _fill(template, values: dict[str, int]):
    if template is None:
        return None
    return {key: str(value).format(**values) for key, value in template.items()}


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_the_course_rule_allows(app, synced, course_b, queued, role):
    client = TestClient(app)
    browser = Browser(client)
    user = course_b["people"].get(role)
    headers: dict[str, str] = {}
    if user is not None:
        headers = api_token(client, user)
        browser.sign_in(user)
    wrong = []
    for method, template, form, statuses in ROUTES:
        url = template.format(**course_b["values"])
        if role == "anonymous":
            if method == "POST":
                continue
            expected = 401 if method == "API" else 303
        else:
            expected = statuses[role]
        if method == "GET":
            response = client.get(url, follow_redirects=False)
        elif method == "API":
            response = client.get(url, headers=headers, follow_redirects=False)
        else:
            response = browser.post_form(url, _fill(form, course_b["values"]), page="/account")
        if response.status_code != expected:
            wrong.append(f"{method} {url}: {response.status_code}, expected {expected}")
            continue
        if expected == 404 and method != "API":
            # Nothing of B's work or learners is given away.
            assert SECRET_SENT not in response.text, url
            assert role == "author" or "bea@example.org" not in response.text, url
        if expected == 307:
            assert response.headers["location"].startswith(f"/courses/{course_b['values']['c']}/"), url
        if method != "POST" and expected == 200 and "/submissions/" in url and not url.endswith("/status"):
            # Staff read the hidden case's data; its author does not.
            assert (SECRET_SENT in response.text) is (role in ("ta", "instructor")), url
    assert not wrong, f"{role}: " + "; ".join(wrong)


@pytest.mark.parametrize("role", ["ta", "instructor", "other_instructor", "peer"])
def test_only_the_courses_staff_regrade_and_follow_the_regrade(app, synced, course_b, queued, role):
    browser = Browser(TestClient(app)).sign_in(course_b["people"][role])
    values = course_b["values"]
    response = browser.post_form(f"/courses/{values['c']}/submissions/{values['s']}/regrade", page="/account")
    synced.expire_all()
    batches = synced.exec(select(func.count()).select_from(RegradeBatch)).one()
    if role not in ("ta", "instructor"):
        assert response.status_code in (403, 404) and batches == 0 and queued == []
        return
    assert response.status_code == 303 and batches == 1 and queued == [values["s"]]
    page = response.headers["location"]
    assert browser.get(page).status_code == 200
    for outsider in ("other_instructor", "author"):
        other = Browser(TestClient(app)).sign_in(course_b["people"][outsider])
        assert other.get(page).status_code == 403
        assert other.get(page + "/status").status_code == 403


def test_the_users_page_lists_and_creates_accounts_in_the_instructors_course(app, synced, course_b):
    values = course_b["values"]
    tess = Browser(TestClient(app)).sign_in(course_b["people"]["instructor"])
    page = tess.get("/instructor/users").text
    assert "bea@example.org" in page and "tim@example.org" in page and "olga@example.org" not in page
    assert f'<option value="{values["c"]}" selected>Evening class</option>' in page
    olga = Browser(TestClient(app)).sign_in(course_b["people"]["other_instructor"])
    assert "bea@example.org" not in olga.get("/instructor/users").text

    response = tess.post_form("/instructor/users", _fill(NEW_ACCOUNT, values), page="/instructor/users")
    assert response.status_code == 200, response.text
    synced.expire_all()
    made = synced.exec(select(User).where(User.email == "new@example.org")).one()
    assert courses.role_in(session=synced, user=made, course_id=values["c"]) == "learner"
    assert courses.role_in(session=synced, user=made, course_id=DEFAULT_COURSE_ID) is None
    event = synced.exec(select(AuditEvent).where(AuditEvent.action == "account.create")).one()
    assert event.details["course"] == f"course {values['c']} (Evening class)"

    # Olga may not put an account into B; nothing is stored.
    refused = olga.post_form(
        "/instructor/users", {**_fill(NEW_ACCOUNT, values), "email": "sneaky@example.org"}, page="/instructor/users"
    )
    assert refused.status_code == 404
    synced.expire_all()
    assert synced.exec(select(User).where(User.email == "sneaky@example.org")).first() is None


def test_an_instructor_account_that_instructs_no_course_is_told_to_create_one(app, synced):
    lonely = make_user(synced, role="instructor", email="lonely@example.org")
    synced.delete(synced.get(CourseMember, (DEFAULT_COURSE_ID, lonely.id)))
    synced.commit()
    make_user(synced, email="stranger@example.org")
    browser = Browser(TestClient(app)).sign_in(lonely)
    page = browser.get("/instructor/users")
    assert page.status_code == 200
    assert "You instruct no course yet" in page.text and "stranger@example.org" not in page.text
    response = browser.post_form(
        "/instructor/users", {"email": "x@example.org", "display_name": "X"}, page="/instructor/users"
    )
    assert response.status_code == 403


def test_an_imports_progress_is_shown_to_its_courses_instructors_only(app, synced, course_b):
    values = course_b["values"]
    tess = Browser(TestClient(app)).sign_in(course_b["people"]["instructor"])
    response = tess.post_form("/instructor/users/import", _fill(CSV, values), page="/instructor/users")
    assert response.status_code == 202, response.text
    match = re.search(r"/instructor/users/imports/(\d+)", response.text)
    assert match
    page = f"/instructor/users/imports/{match.group(1)}"
    assert tess.get(page).status_code == 200
    # Another instructor of course B follows it too; course A's does not learn it exists; a TA manages no accounts.
    colleague = make_user(synced, role="instructor", email="colleague@example.org")
    courses.add_member(session=synced, course_id=values["c"], user_id=colleague.id, role="instructor")
    synced.commit()
    expected = {"instructor": 200, "other_instructor": 404, "ta": 403}
    for role, status in expected.items():
        user = colleague if role == "instructor" else course_b["people"][role]
        browser = Browser(TestClient(app)).sign_in(user)
        assert browser.get(page).status_code == status, role
        assert browser.get(page + "/status").status_code == status, role
