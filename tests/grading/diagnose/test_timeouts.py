"""The rule for requests that got no answer in time and cases never sent."""

from __future__ import annotations

import dataclasses

from grader.grading.diagnose import diagnose
from grader.grading.report import HttpExchange

from .support import case, report_of

SLEEPY = """import time

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    time.sleep(30)
    return {"received": msg}
"""


def _unanswered(name: str, problem: str, *, blocked_line: int | None = None, sent: bool = True):
    base = case(name, {"text": name}, None)
    return dataclasses.replace(base, received=HttpExchange(), problem=problem, blocked_line=blocked_line, sent=sent)


def test_a_request_stuck_on_a_line_is_one_diagnosis_at_that_line_and_the_cases_not_run_another():
    stuck = "no complete answer within 5 s: your app was still running line 10 (`time.sleep(30)`) in receive_message()"
    not_run = "not run: two requests before this one were stuck on line 10"
    report = report_of(
        _unanswered("hello", stuck, blocked_line=10),
        _unanswered("hi", stuck, blocked_line=10),
        _unanswered("unicode", not_run, sent=False),
        _unanswered("empty-object", not_run, sent=False),
    )
    first, second = diagnose(report, SLEEPY)
    assert (first.cause, first.line, first.cases) == ("no_answer", 10, ["hello", "hi"])
    assert "`time.sleep(30)`" in first.fix and "got stuck" in first.title
    assert (second.cause, second.line, second.cases) == ("not_run", None, ["unicode", "empty-object"])
    assert second.title == "2 cases were not run"
    assert "two requests before this one were stuck on line 10" in second.explanation
    assert "no reply" not in second.explanation


def test_without_a_confirmed_line_the_diagnosis_names_no_line():
    report = report_of(_unanswered("hello", "no complete answer within 5 s"))
    [diagnosis] = diagnose(report, SLEEPY)
    assert diagnosis.cause == "no_answer" and diagnosis.line is None
    assert diagnosis.title == "Some requests got no answer"


def test_a_line_outside_the_file_is_not_named():
    report = report_of(_unanswered("hello", "no complete answer within 5 s", blocked_line=99))
    [diagnosis] = diagnose(report, SLEEPY)
    assert diagnosis.line is None
