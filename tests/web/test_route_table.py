"""Every route of the application, pages and API alike, called with path values no row can have.

The routes are read from ``app.routes`` (so a route added later is walked too), and each
path parameter in turn gets each odd value while the others keep a real one. Nothing
may answer with a server error, and nothing may answer as if the value named something.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import make_submission

from .conftest import Browser, api_token

# 0 and -1 are below every id, 2**63 is one past the largest a row can hold (SQLite raised
# OverflowError on it), 10**30 is far past it, and "٣" is a digit that int() reads as 3.
ODD_VALUES = ["0", "-1", str(2**63), str(10**30), "٣"]
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
# What a refusal may be: not allowed (403), nothing there (404), or the input is wrong (422).
REFUSALS = {403, 404, 422}


def route_table(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route with a parameter in its path, included routers expanded."""
    for route in app.routes:
        expand = getattr(route, "effective_route_contexts", None)
        for entry in expand() if expand is not None else [route]:
            path = getattr(entry, "path", "")
            for method in sorted(getattr(entry, "methods", None) or ()):
                if method != "HEAD" and PARAMETER.search(path):
                    yield method, path


def _real_value(name: str, path: str, owned: dict[str, int]) -> str:
    if name == "slug":
        return "message-cycle" if "/quizzes/" in path else "message-echo"
    return str(owned.get(name, 1))


def _calls(app: FastAPI, owned: dict[str, int]) -> list[tuple[str, str]]:
    calls = []
    for method, path in route_table(app):
        names = PARAMETER.findall(path)
        for tried in names:
            for value in ODD_VALUES:
                filled = path
                for name in names:
                    filled = re.sub(
                        "{" + name + r"(?::\w+)?}", value if name == tried else _real_value(name, path, owned), filled
                    )
                calls.append((method, filled))
    return calls


@pytest.fixture
def owned(synced, learner, as_learner) -> dict[str, int]:
    """Real ids for the parameters that are not being tried: a submission and a quiz attempt of the learner's."""
    from grader.services import quizzes

    submission = make_submission(synced, user=learner, status="graded", score=1.0)
    quiz = quizzes.get_for_learner(session=synced, slug="message-cycle")
    answers = {question.id: question.choices[0].id for question in quiz.questions}
    attempt = quizzes.submit_attempt(session=synced, user=learner, slug="message-cycle", answers=answers)
    return {"submission_id": submission.id, "attempt_id": attempt.id, "user_id": learner.id}


def test_the_route_table_is_walked(app):
    paths = {path for _method, path in route_table(app)}
    # The pages and the API both have routes with ids in their paths; a walk that found none would prove nothing.
    assert "/submissions/{submission_id}/events" in paths
    assert "/api/v1/submissions/{submission_id}" in paths
    assert "/instructor/regrades/{batch_id}/status" in paths
    assert len(paths) >= 20, sorted(paths)


@pytest.mark.parametrize("role", ["learner", "instructor"])
def test_no_route_answers_an_odd_path_value_with_a_server_error(request, app, owned, role):
    browser: Browser = request.getfixturevalue(f"as_{role}")
    user = browser.user
    assert user is not None
    headers = api_token(TestClient(app), user)
    csrf = browser.token_for("/account")
    failures = []
    calls = _calls(app, owned)
    for method, url in calls:
        data = None if method in ("GET", "DELETE") else {"csrf_token": csrf}
        try:
            response = browser.client.request(method, url, headers=headers, data=data, follow_redirects=False)
        except Exception as exc:  # noqa: BLE001 - the test client raises what the server did not handle
            failures.append(f"{method} {url}: {exc!r}")
            continue
        if response.status_code not in REFUSALS:
            failures.append(f"{method} {url}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    assert len(calls) >= 100
