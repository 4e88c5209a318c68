"""Fixtures of the web tests: the application on a fresh migrated database, and signed-in clients.

Submissions are not graded here: the application's queue is a list that records
submission ids, and a graded state is written straight into the rows (the grading
itself is tested in tests/grading and, for real, in tests/browser).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from grader.models import User
from grader.web.app import create_app
from tests.factories import DEFAULT_PASSWORD, make_user

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


class Browser:
    """A TestClient that signs in through the real form and fills in CSRF tokens like a browser."""

    def __init__(self, client: TestClient, user: User | None = None) -> None:
        self.client = client
        self.user = user

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def token_for(self, page: str) -> str:
        """The CSRF token a form on ``page`` carries."""
        response = self.client.get(page)
        return csrf_from(response.text)

    def post_form(self, url: str, data: dict | list | None = None, *, page: str = "/", files=None, **kwargs):
        """POST a form as the browser would after opening ``page``."""
        token = self.token_for(page)
        if isinstance(data, list):
            # Repeated fields (a question answered twice) need the body encoded by hand.
            body = urlencode([*data, ("csrf_token", token)])
            headers = {"content-type": "application/x-www-form-urlencoded"}
            return self.client.post(url, content=body, headers=headers, follow_redirects=False, **kwargs)
        fields = {**(data or {}), "csrf_token": token}
        return self.client.post(url, data=fields, files=files, follow_redirects=False, **kwargs)

    def sign_in(self, user: User, password: str = DEFAULT_PASSWORD) -> Browser:
        token = self.token_for("/login")
        response = self.client.post(
            "/login", data={"email": user.email, "password": password, "csrf_token": token}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        self.user = user
        return self


@pytest.fixture
def queued() -> list[int]:
    """Submission ids the application sent to the grading queue."""
    return []


@pytest.fixture
def app(settings, engine, synced, queued) -> FastAPI:
    """The application on this test's database, with content synced and a recording queue."""
    return create_app(settings, engine=engine, enqueue=queued.append)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    """An anonymous client."""
    with TestClient(app) as client:
        yield client


def _browser(app) -> Browser:
    return Browser(TestClient(app))


@pytest.fixture
def learner(synced: Session) -> User:
    return make_user(synced, email="ada@example.org", name="Ada")


@pytest.fixture
def other_learner(synced: Session) -> User:
    return make_user(synced, email="bob@example.org", name="Bob")


@pytest.fixture
def instructor(synced: Session) -> User:
    return make_user(synced, role="instructor", email="teacher@example.org", name="Teacher")


@pytest.fixture
def anonymous(app) -> Browser:
    return _browser(app)


@pytest.fixture
def as_learner(app, learner) -> Browser:
    return _browser(app).sign_in(learner)


@pytest.fixture
def as_other(app, other_learner) -> Browser:
    return _browser(app).sign_in(other_learner)


@pytest.fixture
def as_instructor(app, instructor) -> Browser:
    return _browser(app).sign_in(instructor)


def api_token(client: TestClient, user: User, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    """Authorization headers for ``user`` obtained through ``POST /api/v1/token``."""
    response = client.post("/api/v1/token", data={"username": user.email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def wait_until_finished(browser: Browser, status_url: str, seconds: float = 30) -> dict:
    """The JSON of a background job's status URL (a regrade, an import) once it says it is finished."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = browser.get(status_url).json()
        if status["finished"]:
            return status
        time.sleep(0.02)
    raise AssertionError(f"{status_url} did not finish in {seconds} s")
