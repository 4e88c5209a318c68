"""What a grading tells operators: log lines carrying its submission id, and the metrics it counts."""

from __future__ import annotations

import io
import json
import logging

import pytest
from prometheus_client import REGISTRY

from grader import metrics
from grader.jobs import GradingWorker
from grader.logs import configure_logging
from tests.factories import make_report, make_submission, make_user


def _remove_our_handlers() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_grader_handler", False):
            root.removeHandler(handler)


@pytest.fixture
def captured_logs():
    stream = io.StringIO()
    configure_logging(format="json", level="INFO", stream=stream)
    yield stream
    _remove_our_handlers()


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_every_line_logged_while_grading_carries_the_submission_id(engine, synced, captured_logs):
    submission = make_submission(synced, user=make_user(synced))

    def grade(spec, source, seed):
        logging.getLogger("grader.grading.runner").warning("a line from the grading core")
        return make_report(cases={"hello": True})

    GradingWorker(engine=engine, grade=grade).run(submission.id)
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    grading_lines = [line for line in lines if line["logger"].startswith("grader.")]
    assert {line["message"] for line in grading_lines} >= {"a line from the grading core", "grading graded"}
    assert all(line["submission_id"] == submission.id for line in grading_lines)
    assert [line["event"] for line in grading_lines if line.get("event") == "result-stored"] == ["result-stored"]


def test_text_logs_name_the_submission_too(engine, synced):
    stream = io.StringIO()
    configure_logging(format="text", stream=stream)
    try:
        submission = make_submission(synced, user=make_user(synced))
        GradingWorker(engine=engine, grade=lambda *_: make_report(cases={"hello": False})).run(submission.id)
    finally:
        _remove_our_handlers()
    assert f"grader.jobs: [submission {submission.id}] result stored: failed, 0/1" in stream.getvalue()


def test_gradings_are_counted_by_outcome_with_their_duration(engine, synced):
    user = make_user(synced)
    before = {outcome: _sample("grader_gradings_total", outcome=outcome) for outcome in ("passed", "infra")}
    durations = _sample("grader_grading_duration_seconds_count")
    slots = _sample("grader_sandbox_failures_total", kind="slots_busy")

    worker = GradingWorker(engine=engine, grade=lambda *_: make_report(cases={"hello": True}), max_infra_retries=0)
    worker.run(make_submission(synced, user=user).id)
    busy = make_report(cases={}, infra="the grader could not run the submission: all 8 sandbox slots stayed busy")
    GradingWorker(engine=engine, grade=lambda *_: busy, max_infra_retries=0).run(make_submission(synced, user=user).id)

    assert _sample("grader_gradings_total", outcome="passed") == before["passed"] + 1
    assert _sample("grader_gradings_total", outcome="infra") == before["infra"] + 1
    assert _sample("grader_grading_duration_seconds_count") == durations + 2
    assert _sample("grader_sandbox_failures_total", kind="slots_busy") == slots + 1


def test_failure_kinds_come_from_the_sandbox_messages():
    assert metrics.failure_kind("the sandbox did not start: bwrap: boom") == "start"
    assert metrics.failure_kind("internal grader error: KeyError: 'x'") == "internal"
    assert metrics.failure_kind("something new") == "other"
