"""Submissions that cannot be graded case by case get an error of the right kind.

Each corpus file names its kind (``# error:``, several when either is right),
phrases the message must contain (``# message:``), and ``# limits: quick`` when
it is meant to hang, so it is graded with short time limits.
"""

from __future__ import annotations

import time

import pytest

from grader.grading.report import LEARNER_ERROR_KINDS, error_kind_words
from grader.grading.textreport import render_text

from .support import header_values, submission_files, wait_for_no_sandbox_processes

pytestmark = pytest.mark.sandbox

BROKEN = submission_files("broken")


def test_every_learner_error_kind_has_a_submission():
    kinds = {kind for path in BROKEN for kind in header_values(path.read_text(encoding="utf-8"), "error")[0].split()}
    assert set(LEARNER_ERROR_KINDS) <= kinds


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_submission_gets_an_error_report(grade, message_echo, quick_echo, sandbox_config, path):
    source = path.read_text(encoding="utf-8")
    kinds = header_values(source, "error")[0].split()
    quick = header_values(source, "limits") == ["quick"]
    spec = quick_echo if quick else message_echo

    began = time.monotonic()
    report = grade(spec, source)
    elapsed = time.monotonic() - began

    assert report.error is not None, [(c.name, c.status) for c in report.tests]
    assert report.error.kind in kinds, report.error
    assert not report.is_infra_error
    assert report.status == "error"
    assert report.score == 0
    assert all(case.score == 0 for case in report.tests)
    for phrase in header_values(source, "message"):
        assert phrase in report.error.message, f"{phrase!r} not in:\n{report.error.message}"
    text = render_text(report)
    assert error_kind_words(report.error.kind) in text
    assert f"({report.error.kind})" not in text and f"[{report.error.kind}]" not in text
    # The first thing a learner reads is the diagnosis, never a traceback.
    assert report.diagnoses and report.diagnoses[0].title
    assert report.summary().startswith(report.diagnoses[0].title)
    assert not report.summary().startswith("Traceback")
    # A hanging file costs the start-up limit, not more.
    assert elapsed < spec.limits.startup_seconds + 10
    if quick:
        assert elapsed >= spec.limits.startup_seconds * 0.9, "the timeout came before the limit"
    assert wait_for_no_sandbox_processes(sandbox_config) == []


def test_syntax_error_message_points_at_the_code(grade, message_echo):
    report = grade(message_echo, (BROKEN[0].parent / "syntax_error.py").read_text(encoding="utf-8"))
    assert "async def receive_message(msg: dict)" in report.error.message
    assert "^" in report.error.message


def test_import_error_shows_the_learners_frames_not_the_graders(grade, message_echo):
    report = grade(message_echo, (BROKEN[0].parent / "raise_at_import.py").read_text(encoding="utf-8"))
    message = report.error.message
    assert "solution.py" in message
    assert "line 10" in message and "connect" in message
    assert "boot.py" not in message
    assert len(message.splitlines()) <= 20
