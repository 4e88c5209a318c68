"""Who may open what: every route tried as anonymous, learner, another learner and instructor.

The learner owns one submission and one quiz attempt; "another learner" must not
learn they exist (404), learners never reach instructor pages (403), and an
anonymous visitor is sent to sign in (pages) or answered 401 (API).
"""

from __future__ import annotations

import pytest

from tests.factories import make_report, make_submission

from .conftest import CONFIRM, api_token

ROLES = ("anonymous", "learner", "other", "instructor")


@pytest.fixture
def owned(synced, learner, as_learner):
    """The learner's graded submission, their quiz attempt and a regrade batch."""
    from grader.services import quizzes

    report = make_report(cases={"hello": True, "hi": False})
    submission = make_submission(synced, user=learner, status="graded", score=1, report=report.to_dict())
    quiz = quizzes.get_for_learner(session=synced, slug="message-cycle")
    answers = {question.id: question.choices[0].id for question in quiz.questions}
    attempt = quizzes.submit_attempt(session=synced, user=learner, slug="message-cycle", answers=answers)
    return {"submission": submission.id, "attempt": attempt.id, "learner": learner.id}


def _expect(kind: str, role: str) -> int:
    """The status ``role`` gets on a route of ``kind``."""
    table = {
        "page": {"anonymous": 303, "learner": 200, "other": 200, "instructor": 200},
        "own-page": {"anonymous": 303, "learner": 200, "other": 404, "instructor": 200},
        "instructor-page": {"anonymous": 303, "learner": 403, "other": 403, "instructor": 200},
        "api": {"anonymous": 401, "learner": 200, "other": 200, "instructor": 200},
        "own-api": {"anonymous": 401, "learner": 200, "other": 404, "instructor": 200},
        "instructor-api": {"anonymous": 401, "learner": 403, "other": 403, "instructor": 200},
    }
    return table[kind][role]


GET_ROUTES = [
    ("page", "/"),
    ("page", "/exercises/message-echo"),
    ("page", "/quizzes/message-cycle"),
    ("own-page", "/submissions/{submission}"),
    ("own-page", "/submissions/{submission}/status"),
    ("own-page", "/submissions/{submission}/result"),
    ("own-page", "/quizzes/message-cycle/attempts/{attempt}"),
    ("instructor-page", "/courses/1/dashboard"),
    ("instructor-page", "/courses/1/dashboard/rows"),
    ("instructor-page", "/courses/1/dashboard/overview"),
    ("instructor-page", "/courses/1/gradebook.csv"),
    ("instructor-page", "/instructor/users"),
    ("instructor-page", "/courses/1/learners/{learner}"),
    ("api", "/api/v1/exercises"),
    ("api", "/api/v1/quizzes"),
    ("api", "/api/v1/quizzes/message-cycle"),
    ("own-api", "/api/v1/submissions/{submission}"),
    ("instructor-api", "/api/v1/gradebook"),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind, template", GET_ROUTES)
def test_get_routes(request, app, owned, role, kind, template, learner, other_learner, instructor):
    from fastapi.testclient import TestClient

    url = template.format(**owned)
    client = TestClient(app)
    headers = {}
    user = {"learner": learner, "other": other_learner, "instructor": instructor}.get(role)
    if user is not None:
        if kind.endswith("api"):
            headers = api_token(client, user)
        else:
            from .conftest import Browser

            Browser(client).sign_in(user)
    response = client.get(url, headers=headers, follow_redirects=False)
    expected = _expect(kind, role)
    assert response.status_code == expected, f"{role} GET {url}: {response.status_code}"
    if expected == 303:
        assert response.headers["location"].startswith("/login?next=")
    if expected == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    if expected in (403, 404) and kind.endswith("api"):
        assert "detail" in response.json()
    if expected == 404 and not kind.endswith("api"):
        # The page says "not found" and gives nothing of the other learner's work away.
        assert "hello" not in response.text and "Not found" in response.text


@pytest.mark.parametrize(
    "url",
    [
        "/instructor/users",
        "/instructor/users/import",
        "/courses/1/exercises/message-echo/regrade",
        "/courses/1/submissions/{submission}/regrade",
    ],
)
def test_learners_cannot_use_instructor_forms(as_learner, owned, synced, url):
    from sqlmodel import func, select

    from grader.models import RegradeBatch, User

    users_before = synced.exec(select(func.count()).select_from(User)).one()
    data = {
        "email": "sneaky@example.org",
        "display_name": "S",
        "role": "instructor",
        "csv_text": "email,display_name\nz@example.org,Z\n",
    }
    response = as_learner.post_form(url.format(**owned), data, page="/")
    assert response.status_code == 403
    synced.expire_all()
    assert synced.exec(select(func.count()).select_from(User)).one() == users_before
    assert synced.exec(select(func.count()).select_from(RegradeBatch)).one() == 0


def test_another_learner_cannot_post_to_someone_elses_attempt_or_submission(as_other, owned):
    assert as_other.get(f"/submissions/{owned['submission']}").status_code == 404
    assert as_other.get(f"/quizzes/message-cycle/attempts/{owned['attempt']}").status_code == 404
    assert as_other.get("/quizzes/message-cycle/attempts/999999").status_code == 404


def test_an_attempt_is_only_found_under_its_own_quiz(as_learner, owned):
    assert as_learner.get(f"/quizzes/another-quiz/attempts/{owned['attempt']}").status_code == 404


def test_instructor_regrade_pages(as_instructor, owned, queued):
    response = as_instructor.post_form(
        f"/courses/1/submissions/{owned['submission']}/regrade", page="/courses/1/dashboard"
    )
    assert response.status_code == 303
    page = response.headers["location"]
    assert queued == [owned["submission"]]
    assert as_instructor.get(page).status_code == 200
    status = as_instructor.get(page + "/status").json()
    assert status == {
        "batch_id": status["batch_id"],
        "total": 1,
        "done": 0,
        "finished": False,
        "message": status["message"],
    }


def test_learners_cannot_follow_a_regrade(as_learner, as_instructor, owned):
    response = as_instructor.post_form(
        "/courses/1/exercises/message-echo/regrade", CONFIRM, page="/courses/1/dashboard"
    )
    page = response.headers["location"]
    assert as_learner.get(page).status_code == 403
    assert as_learner.get(page + "/status").status_code == 403
