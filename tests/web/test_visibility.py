"""Hidden cases end to end: a real grading that fails them, then every page a learner can open.

The submission is graded in the real sandbox by the worker, the way the service grades it,
its proposed fixes checked too; then each learner-facing route is read and must not contain
the hidden cases' request, expected or received data, nor what the program printed meanwhile,
while an instructor's views show all of it.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from grader.config import PROJECT_ROOT, get_settings
from grader.grading import runtime
from grader.grading.report import Report
from grader.grading.runner import grade_source
from grader.grading.textreport import render_text
from grader.grading.visibility import OUTPUT_CUT
from grader.jobs import GradingWorker
from grader.models import Assignment, Submission, utcnow
from tests.web.conftest import api_token

pytestmark = pytest.mark.sandbox

SLUG = "echo-secrets"
EXERCISE = """
title = "Echo, with secrets"
instructions = "POST /message answers {\\"received\\": <the object sent>}."

[[cases]]
name = "hello"
description = "The lesson's message"
request = { method = "POST", path = "/message", json = { text = "Hello" } }
expect = { status = 200, json = { received = "$request" } }

[[cases]]
name = "ostrich-after-due"
description = "A message shown once the due date has passed"
visibility = "after_due_date"
request = { method = "POST", path = "/message", json = { text = "OSTRICH-sent-41", code = 48151623 } }
expect = { status = 200, json = { received = "$request" } }

[[cases]]
name = "pelican-never"
description = "A message learners never see"
visibility = "hidden"
request = { method = "POST", path = "/message", json = { text = "PELICAN-sent-97", kiwi = "TERN-key-value" } }
expect = { status = 200, json = { received = "$request", checked = "CORMORANT-expected-only" } }
"""

# Right for the lesson's message only: every other message comes back wrapped, and is printed.
WRONG = """
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def echo(msg: dict):
    print("echoing", msg)
    if msg.get("text") == "Hello":
        return {"received": msg}
    return {"received": {"wrapped": msg}}
"""

HIDDEN_MARKS = ("PELICAN-sent-97", "TERN-key-value", "CORMORANT-expected-only", "pelican-never", "kiwi")
AFTER_DUE_MARKS = ("OSTRICH-sent-41", "48151623", "ostrich-after-due")


@pytest.fixture
def exercises_dir(tmp_path: Path) -> Path:
    """The course's exercises and one with hidden cases."""
    folder = tmp_path / "exercises"
    shutil.copytree(PROJECT_ROOT / "exercises", folder)
    (folder / SLUG).mkdir()
    (folder / SLUG / "exercise.toml").write_text(EXERCISE, encoding="utf-8")
    return folder


@pytest.fixture
def graded(settings, engine, synced, as_learner, queued) -> int:
    """The id of the learner's wrong submission, graded in the sandbox with its fixes checked."""
    runtime.build(get_settings().runtime_requirements, get_settings().learner_runtime_parent)
    config = settings.sandbox_config()
    response = as_learner.post_form(f"/exercises/{SLUG}/submissions", {"code": WRONG}, page=f"/exercises/{SLUG}")
    assert response.status_code == 303, response.text
    submission_id = queued[-1]
    worker = GradingWorker(
        engine=engine,
        grade=lambda spec, source, seed: grade_source(spec, source, seed=seed, config=config),
        check_fixes=True,
        request_checks=lambda _: None,
    )
    result = worker.run(submission_id)
    assert result.outcome == "graded", result
    worker.check(submission_id)
    return submission_id


def _learner_reads(browser, client, learner, submission_id: int) -> dict[str, str]:
    """Everything a learner can read about the submission, by route."""
    headers = api_token(client, learner)
    api = client.get(f"/api/v1/submissions/{submission_id}", headers=headers)
    assert api.status_code == 200, api.text
    pages = {
        "result page": browser.get(f"/submissions/{submission_id}"),
        "result fragment": browser.get(f"/submissions/{submission_id}/result"),
        "status": browser.get(f"/submissions/{submission_id}/status"),
        "events": browser.get(f"/submissions/{submission_id}/events"),
        "exercise page and history": browser.get(f"/exercises/{SLUG}"),
        "home": browser.get("/"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, (name, response.text)
    read = {name: response.text for name, response in pages.items()}
    read["api"] = api.text
    read["text report"] = render_text(Report.from_dict(api.json()["report"]))
    return read


def test_a_learner_never_reads_a_hidden_cases_data_where_an_instructor_does(
    graded, as_learner, as_instructor, client, learner
):
    read = _learner_reads(as_learner, client, learner, graded)
    for route, text in read.items():
        for mark in HIDDEN_MARKS + AFTER_DUE_MARKS:
            assert mark not in text, f"{mark!r} leaks through the {route}"

    # The learner still sees that the hidden checks exist, failed, and what they are worth.
    report = json.loads(read["api"])["report"]
    assert report["score"] == 1 and report["max_score"] == 3
    hidden = [case for case in report["tests"] if case["visibility"] != "visible"]
    assert [(case["name"], case["status"], case["max_score"]) for case in hidden] == [
        ("hidden-1", "failed", 1.0),
        ("hidden-2", "failed", 1.0),
    ]
    assert all(case["request"]["body"] is None and case["received"]["body"] is None for case in hidden)
    # The program's output as it stood when the first hidden case was sent.
    assert report["stdout"] == f"echoing {{'text': 'Hello'}}\n{OUTPUT_CUT}"
    page = read["result page"]
    assert "A hidden check" in page and "shown to you once your due date has passed" in page
    assert "echoing {&#39;text&#39;: &#39;Hello&#39;}" in page  # the output of the visible case stays
    assert "A hidden check" in read["exercise page and history"]

    # An instructor sees every case's data, and which ones learners do not see.
    staff_page = as_instructor.get(f"/submissions/{graded}").text
    learner_page = as_instructor.get(f"/instructor/learners/{learner.id}?submission={graded}").text
    staff_api = client.get(f"/api/v1/submissions/{graded}", headers=api_token(client, as_instructor.user)).text
    for text in (staff_page, learner_page, staff_api):
        for mark in ("PELICAN-sent-97", "CORMORANT-expected-only", "OSTRICH-sent-41"):
            assert mark in text
    assert "hidden from learners" in staff_page and "shown to learners after their due date" in staff_page
    exercise_page = as_instructor.get(f"/exercises/{SLUG}").text
    assert "A message learners never see" in exercise_page and "hidden from learners" in exercise_page


def test_the_after_due_date_case_is_shown_once_the_learners_due_date_has_passed(
    graded, as_learner, client, learner, synced
):
    submission = synced.get(Submission, graded)
    assignment = synced.get(Assignment, submission.assignment_id)
    assignment.due_at = utcnow() - timedelta(hours=1)
    synced.add(assignment)
    synced.commit()
    read = _learner_reads(as_learner, client, learner, graded)
    for route in ("result page", "result fragment", "events", "api", "text report"):
        assert "OSTRICH-sent-41" in read[route], route
        for mark in HIDDEN_MARKS:
            assert mark not in read[route], f"{mark!r} leaks through the {route} once the due date passed"
    assert "A message shown once the due date has passed" in read["exercise page and history"]

    # Publishing the grades releases after_published cases only: a hidden case stays hidden.
    assignment.published = True
    synced.add(assignment)
    synced.commit()
    page = as_learner.get(f"/submissions/{graded}").text
    assert "OSTRICH-sent-41" in page
    assert not any(mark in page for mark in HIDDEN_MARKS)
