"""Backpressure as learners meet it: 429 while their previous upload is graded, 503 when the queue is full."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from grader.web.app import create_app
from tests.factories import make_user
from tests.web.conftest import Browser, api_token

SOLUTION = b"from fastapi import FastAPI\n\napp = FastAPI()\n"
EXERCISE = "/exercises/message-echo"
API_UPLOAD = "/api/v1/exercises/message-echo/submissions"


@pytest.fixture
def roomy_app(settings, engine, synced, queued):
    """The application with no interval between uploads and room for two waiting uploads."""
    relaxed = settings.model_copy(update={"submission_interval_seconds": 0, "max_queued": 2})
    return create_app(relaxed, engine=engine, enqueue=queued.append)


def _upload_page(browser: Browser):
    return browser.post_form(
        f"{EXERCISE}/submissions", {}, page=EXERCISE, files={"file": ("solution.py", SOLUTION, "text/x-python")}
    )


def test_the_page_says_the_previous_submission_is_still_being_graded(roomy_app, synced, queued):
    learner = make_user(synced)
    browser = Browser(TestClient(roomy_app)).sign_in(learner)
    assert _upload_page(browser).status_code == 303
    response = _upload_page(browser)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert "Your previous submission is still being graded" in response.text
    assert f'<a href="/submissions/{queued[0]}">Follow your previous submission.</a>' in response.text
    assert len(queued) == 1


def test_the_api_answers_429_then_503_when_the_queue_is_full(roomy_app, synced, queued):
    client = TestClient(roomy_app)
    first, second, third = (api_token(client, make_user(synced)) for _ in range(3))
    upload = {"file": ("solution.py", SOLUTION, "text/x-python")}
    assert client.post(API_UPLOAD, headers=first, files=upload).status_code == 202
    again = client.post(API_UPLOAD, headers=first, files=upload)
    assert again.status_code == 429 and "still being graded" in again.json()["detail"]
    assert client.post(API_UPLOAD, headers=second, files=upload).status_code == 202
    full = client.post(API_UPLOAD, headers=third, files=upload)
    assert full.status_code == 503
    assert int(full.headers["retry-after"]) >= 1
    assert "The graders are busy: 2 submissions are waiting" in full.json()["detail"]
    assert len(queued) == 2


def test_the_page_says_when_the_graders_are_busy(roomy_app, synced, queued):
    client = TestClient(roomy_app)
    for _ in range(2):
        headers = api_token(client, make_user(synced))
        client.post(API_UPLOAD, headers=headers, files={"file": ("solution.py", SOLUTION, "text/x-python")})
    browser = Browser(TestClient(roomy_app)).sign_in(make_user(synced))
    response = _upload_page(browser)
    assert response.status_code == 503 and "retry-after" in response.headers
    assert "The graders are busy" in response.text and "Nothing was stored" in response.text
