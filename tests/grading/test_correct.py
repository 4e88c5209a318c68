"""Correct solutions, written in different styles, get full marks."""

from __future__ import annotations

import pytest

from .support import submission_files, submission_text

pytestmark = pytest.mark.sandbox

CORRECT = submission_files("correct")


def test_the_corpus_is_there():
    assert len(CORRECT) >= 6


@pytest.mark.parametrize("path", CORRECT, ids=[p.stem for p in CORRECT])
def test_correct_solution_gets_full_marks(grade, message_echo, path):
    report = grade(message_echo, path.read_text(encoding="utf-8"))
    failed = {case.name: case.problem for case in report.tests if not case.passed}
    assert report.error is None, report.error
    assert failed == {}
    assert report.status == "passed"
    assert report.score == report.max_score == message_echo.max_score
    assert len(report.tests) == 14  # 11 fixed cases and 3 random ones
    assert all(case.hint is None for case in report.tests), "a passed case shows no hint"
    assert report.diagnoses == [], "full marks need no diagnosis"
    assert all(case.reached_endpoint is not False for case in report.tests if case.received.status == 200)


def test_random_cases_follow_the_seed(grade, message_echo):
    """The same seed replays the same random objects; another seed gives others."""
    source = submission_text("correct", "fastapi_async.py")
    first = grade(message_echo, source, seed=1234)
    again = grade(message_echo, source, seed=1234)
    other = grade(message_echo, source, seed=98765)

    def random_bodies(report):
        return [case.request.body for case in report.tests if case.name.startswith("random-")]

    assert first.seed == again.seed == 1234
    assert random_bodies(first) == random_bodies(again)
    assert random_bodies(first) != random_bodies(other)
    assert len(set(random_bodies(first))) == 3
    assert first.status == other.status == "passed"


def test_second_exercise_is_graded_from_its_own_folder(grade, exercises):
    """health-check needs nothing but its folder: a right answer passes, a wrong one fails."""
    spec = exercises["health-check"]
    right = grade(spec, submission_text("health_check", "correct.py"))
    wrong = grade(spec, submission_text("health_check", "wrong_status_text.py"))
    assert right.exercise == "health-check"
    assert right.status == "passed", [(c.name, c.problem) for c in right.tests]
    assert {c.name for c in right.tests} == {"health", "post-not-allowed"}
    assert wrong.status == "failed"
    assert {c.name: c.status for c in wrong.tests} == {"health": "failed", "post-not-allowed": "passed"}
    assert right.spec_hash == spec.spec_hash != ""
