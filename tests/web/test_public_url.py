"""Absolute URLs come from GRADER_PUBLIC_URL; the Host header decides nothing, and only listed hosts are answered."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from grader.config import Settings
from grader.web.app import create_app
from tests.conftest import make_settings

from .conftest import Browser, api_token

PUBLIC = "https://grader.example.edu"
EVIL = {"host": "evil.example"}


@pytest.fixture
def public_app(settings, engine, synced):
    return create_app(settings.model_copy(update={"public_url": PUBLIC}), engine=engine, enqueue=lambda _id: None)


def test_static_redirect_goes_to_the_public_url_whatever_the_host(public_app):
    response = TestClient(public_app).get("/static", headers=EVIL, follow_redirects=False)
    assert response.status_code in (301, 307)
    assert response.headers["location"] == f"{PUBLIC}/static/"


def test_exercise_curl_line_names_the_public_url(public_app, learner):
    browser = Browser(TestClient(public_app, headers=EVIL)).sign_in(learner)
    html = browser.get("/exercises/message-echo").text
    assert f"-F file=@solution.py {PUBLIC}/api/v1/exercises/message-echo/submissions" in html
    assert "evil.example" not in html


def test_api_urls_name_the_public_url(public_app, learner):
    client = TestClient(public_app, headers=EVIL)
    headers = api_token(client, learner)
    exercises = client.get("/api/v1/exercises", headers=headers).json()
    assert {item["submit_url"] for item in exercises} >= {f"{PUBLIC}/api/v1/exercises/message-echo/submissions"}
    created = client.post(
        "/api/v1/exercises/message-echo/submissions",
        headers=headers,
        files={"file": ("solution.py", b"from fastapi import FastAPI\napp = FastAPI()\n")},
    ).json()
    assert created["url"] == f"{PUBLIC}/api/v1/submissions/{created['id']}"
    quizzes = client.get("/api/v1/quizzes", headers=headers).json()
    assert all(item["url"].startswith(f"{PUBLIC}/api/v1/quizzes/") for item in quizzes)


def test_without_a_public_url_urls_use_the_served_address_not_the_host(settings, engine, synced, learner):
    app = create_app(settings.model_copy(update={"host": "0.0.0.0", "port": 8123}), engine=engine)
    client = TestClient(app, headers=EVIL)
    exercises = client.get("/api/v1/exercises", headers=api_token(client, learner)).json()
    assert exercises[0]["submit_url"].startswith("http://127.0.0.1:8123/api/v1/")


def test_listed_hosts_only_are_answered(settings, engine, synced):
    app = create_app(
        settings.model_copy(update={"public_url": PUBLIC, "allowed_hosts": "grader.example.edu, localhost"}),
        engine=engine,
    )
    client = TestClient(app)
    assert client.get("/login", headers=EVIL).status_code == 400
    assert client.get("/login", headers={"host": "grader.example.edu"}).status_code == 200
    assert client.get("/login", headers={"host": "localhost:8000"}).status_code == 200


def test_production_answers_only_the_public_host_by_default(tmp_path):
    production = make_settings(tmp_path, environment="production", public_url=PUBLIC)
    assert production.effective_allowed_hosts == ["grader.example.edu"]
    assert make_settings(tmp_path).effective_allowed_hosts == ["*"]


@pytest.mark.parametrize(
    "url", ["grader.example.edu", "ftp://grader.example.edu", "https://", "https://grader.example.edu/course"]
)
def test_a_public_url_that_is_not_an_origin_is_refused(tmp_path, url):
    with pytest.raises(ValidationError, match="GRADER_PUBLIC_URL"):
        Settings(public_url=url, state_dir=tmp_path, _env_file=None)
