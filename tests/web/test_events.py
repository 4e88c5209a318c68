"""The submission page's Server-Sent Events: pushed by the worker's wake-up, bounded, owner only."""

from __future__ import annotations

import json
import threading

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from grader.jobs import GradingWorker
from grader.models import Submission
from grader.services.updates import submission_changes
from grader.web.routes import exercises
from tests.factories import make_report, make_submission
from tests.web.conftest import Browser, api_token


def _events(text: str) -> list[tuple[str, str]]:
    """(event name, data) pairs of an event-stream body."""
    found = []
    for block in text.split("\n\n"):
        lines = block.splitlines()
        name = next((line.removeprefix("event: ") for line in lines if line.startswith("event: ")), None)
        data = "\n".join(line.removeprefix("data: ") for line in lines if line.startswith("data: "))
        if name:
            found.append((name, data))
    return found


def _stream_in_thread(browser, url: str) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run() -> None:
        response = browser.get(url)
        result["response"] = response

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _wait_for_listener(submission_id: int, thread: threading.Thread) -> None:
    for _ in range(400):
        if submission_changes.waiting(submission_id):
            return
        thread.join(0.025)
    raise AssertionError("the stream never started waiting")


def test_the_worker_wakes_the_stream_which_ends_with_the_result(as_learner, learner, synced, engine, monkeypatch):
    submission = make_submission(synced, user=learner)
    thread, result = _stream_in_thread(as_learner, f"/submissions/{submission.id}/events")
    _wait_for_listener(submission.id, thread)

    report = make_report(cases={"hello": True, "hi": False})
    worker = GradingWorker(engine=engine, grade=lambda spec, source, seed: report)
    assert worker.run(submission.id).outcome == "graded"
    thread.join(20)
    assert not thread.is_alive(), "the stream should end once the submission is graded"

    response = result["response"]
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-store"
    assert "connect-src 'self'" in response.headers["content-security-policy"]
    events = _events(response.text)
    names = [name for name, _ in events]
    assert names[0] == "progress" and names[-1] == "graded"
    # The first read may come before or after the worker's claim; either way it is progress, not the result.
    assert json.loads(events[0][1])["status"] in ("queued", "running")
    graded = events[-1][1]
    assert '"status":"graded"' in graded and 'id=\\"report-heading\\"' in graded
    assert submission_changes.waiting(submission.id) == 0, "the stream must stop listening when it ends"


def test_a_graded_submission_gets_its_result_at_once(as_learner, learner, synced):
    report = make_report(cases={"hello": True})
    submission = make_submission(synced, user=learner, status="graded", score=1, report=report.to_dict())
    events = _events(as_learner.get(f"/submissions/{submission.id}/events").text)
    assert [name for name, _ in events] == ["graded"]


def test_without_the_worker_in_process_the_stream_reads_the_database(
    app, learner, synced, engine, settings, monkeypatch
):
    monkeypatch.setattr(settings, "embedded_worker", False)
    submission = make_submission(synced, user=learner)
    # The client runs the application's lifespan, which starts the process's database watch.
    with TestClient(app) as client:
        browser = Browser(client).sign_in(learner)
        thread, result = _stream_in_thread(browser, f"/submissions/{submission.id}/events")
        _wait_for_listener(submission.id, thread)
        # The process's watch reads only while someone listens (tests/web/test_streams.py shows
        # that it, not the stream, is what reads while nothing changes).
        for _ in range(400):
            if app.state.database_watch.reads >= 2:
                break
            thread.join(0.025)
        _store_result_elsewhere(engine, submission.id)
        thread.join(20)
        assert not thread.is_alive()
        assert _events(result["response"].text)[-1][0] == "graded"


def _store_result_elsewhere(engine, submission_id: int) -> None:
    report = make_report(cases={"hello": True})
    # Another process stores the result: no wake-up reaches this one.
    with Session(engine) as other:
        other.exec(
            update(Submission)
            .where(Submission.id == submission_id)
            .values(status="graded", score=1, report=report.to_dict())
        )
        other.commit()


def test_a_stream_ends_at_its_time_limit(as_learner, learner, synced, monkeypatch):
    monkeypatch.setattr(exercises, "EVENTS_MAX_SECONDS", 0.3)
    submission = make_submission(synced, user=learner)
    response = as_learner.get(f"/submissions/{submission.id}/events")
    assert response.text.startswith("retry: 1000")
    assert [name for name, _ in _events(response.text)] == ["progress"]
    assert '"queue_position":1' in response.text


def test_only_the_owner_may_follow_a_submission(as_other, anonymous, learner, synced):
    submission = make_submission(synced, user=learner)
    assert as_other.get(f"/submissions/{submission.id}/events").status_code == 404
    refused = anonymous.get(f"/submissions/{submission.id}/events", follow_redirects=False)
    assert refused.status_code in (303, 401)
    assert submission_changes.waiting(submission.id) == 0


def test_the_page_names_the_stream_and_keeps_the_fallbacks(as_learner, learner, synced):
    submission = make_submission(synced, user=learner)
    html = as_learner.get(f"/submissions/{submission.id}").text
    assert f'data-events-url="/submissions/{submission.id}/events"' in html
    assert f'data-status-url="/submissions/{submission.id}/status"' in html
    assert '<noscript><meta http-equiv="refresh"' in html


# --- the API's long poll: GET /api/v1/submissions/{id}?wait=… ---------------------------


def test_a_long_poll_answers_when_the_worker_stores_the_result(client, learner, synced, engine, monkeypatch):

    headers = api_token(client, learner)
    submission = make_submission(synced, user=learner)
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.update(
            response=client.get(f"/api/v1/submissions/{submission.id}?wait=30", headers=headers)
        ),
        daemon=True,
    )
    thread.start()
    _wait_for_listener(submission.id, thread)

    worker = GradingWorker(engine=engine, grade=lambda spec, source, seed: make_report(cases={"hello": True}))
    assert worker.run(submission.id).outcome == "graded"
    thread.join(20)
    assert not thread.is_alive(), "the request should be answered once the submission is graded"
    body = result["response"].json()
    assert (body["status"], body["score"], body["report"]["status"]) == ("graded", 1.0, "passed")
    assert submission_changes.waiting(submission.id) == 0


def test_a_long_poll_that_runs_out_answers_with_the_status_then(client, learner, synced):

    submission = make_submission(synced, user=learner)
    response = client.get(f"/api/v1/submissions/{submission.id}?wait=0.3", headers=api_token(client, learner))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["queue_position"], body["report"]) == ("queued", 1, None)
    assert submission_changes.waiting(submission.id) == 0


def test_a_long_poll_is_bounded_and_only_for_the_owner(client, learner, other_learner, synced):

    submission = make_submission(synced, user=learner)
    headers = api_token(client, learner)
    for wait in ("61", "-1", "soon"):
        refused = client.get(f"/api/v1/submissions/{submission.id}?wait={wait}", headers=headers)
        assert refused.status_code == 422, (wait, refused.text)
    other = client.get(f"/api/v1/submissions/{submission.id}?wait=5", headers=api_token(client, other_learner))
    assert other.status_code == 404
    assert submission_changes.waiting(submission.id) == 0


def test_a_graded_submission_is_answered_at_once_whatever_the_wait(client, learner, synced):

    report = make_report(cases={"hello": True})
    submission = make_submission(synced, user=learner, status="graded", score=1, report=report.to_dict())
    body = client.get(f"/api/v1/submissions/{submission.id}?wait=60", headers=api_token(client, learner)).json()
    assert body["status"] == "graded" and body["report"]["status"] == "passed"
