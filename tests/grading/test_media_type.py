"""The media type and the headers a case checks, through the real grading path (sandbox)."""

from __future__ import annotations

import pytest

from grader.grading.spec import CaseSpec

from .support import submission_text

pytestmark = pytest.mark.sandbox


def _body_cases(report) -> list:
    return [case for case in report.tests if case.expected.body is not None]


def test_json_text_under_another_media_type_fails_every_body_case(grade, message_echo):
    report = grade(message_echo, submission_text("mistakes", "html_media_type.py"), seed=3)
    body_cases = _body_cases(report)
    assert body_cases and all(not case.passed and case.score == 0 for case in body_cases)
    for case in body_cases:
        assert case.received.status == 200
        assert case.received.headers["content-type"] == "text/html; charset=utf-8"
        assert case.expected.headers == {"content-type": "application/json"}
        assert case.problem.startswith("the response says Content-Type: text/html; charset=utf-8, but a JSON client")
        assert case.diff is None, "the body itself is right"
    # The cases that check no body are judged as before.
    assert all(case.passed for case in report.tests if case.expected.body is None)
    assert report.score == sum(case.max_score for case in report.tests if case.expected.body is None)


def test_an_exercise_may_take_any_media_type(grade, message_echo):
    lenient = message_echo.model_copy(update={"media_type": "any"})
    report = grade(lenient, submission_text("mistakes", "html_media_type.py"), seed=3)
    assert report.status == "passed", [(c.name, c.problem) for c in report.tests if not c.passed]
    assert all(case.expected.headers == {} for case in report.tests)


def test_a_case_checks_the_headers_it_names(grade, message_echo):
    cases = [
        CaseSpec.model_validate(
            {
                "name": "allow",
                "description": "405 names the method it takes",
                "request": {"method": "GET", "path": "/message"},
                "expect": {"status": 405, "headers": {"Allow": "POST"}},
            }
        ),
        CaseSpec.model_validate(
            {
                "name": "echo-header",
                "description": "a header the app does not send",
                "request": {"method": "POST", "path": "/message", "json": {"text": "Hi"}},
                "expect": {"status": 200, "json": {"received": "$request"}, "headers": {"x-echo": "yes"}},
            }
        ),
    ]
    spec = message_echo.model_copy(update={"cases": cases})
    report = grade(spec, submission_text("correct", "fastapi_async.py"))
    allow, echo = report.tests
    assert allow.passed and allow.received.headers["allow"] == "POST"
    assert not echo.passed
    assert echo.problem == "header x-echo is missing: expected x-echo: yes"
    assert echo.received.headers["content-type"] == "application/json"
    [diagnosis] = report.diagnoses
    assert diagnosis.cases == ["echo-header"] and diagnosis.title == "Header x-echo is missing"
