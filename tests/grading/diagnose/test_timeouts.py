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
    # One mistake, one card: the cases it kept the grader from sending are its cases too.
    [stuck] = diagnose(report, SLEEPY)
    assert (stuck.cause, stuck.line) == ("blocking_call", 10)
    assert stuck.cases == ["hello", "hi", "unicode", "empty-object"]
    assert stuck.title == "`time.sleep(30)` keeps your endpoint from answering"
    assert "`await asyncio.sleep`" in stuck.fix and "server's only thread" in stuck.explanation
    assert "the other 2 cases were not run" in stuck.explanation


def test_cases_not_run_for_another_reason_are_a_diagnosis_of_their_own():
    ran_out = "not run: the grading's 60 s were used up before this case could be sent"
    report = report_of(
        dataclasses.replace(case("hello", {"text": "Hello"}, {"received": {"text": "Hello"}}), problem="differs"),
        _unanswered("unicode", ran_out, sent=False),
        _unanswered("empty-object", ran_out, sent=False),
    )
    diagnoses = diagnose(report, SLEEPY)
    not_run = diagnoses[-1]
    assert (not_run.cause, not_run.line, not_run.cases) == ("not_run", None, ["unicode", "empty-object"])
    assert not_run.title == "2 cases were not run"
    assert "the grading's 60 s were used up" in not_run.explanation
    assert "no reply" not in not_run.explanation


def test_the_words_follow_what_the_stuck_line_holds():
    looping = SLEEPY.replace("    time.sleep(30)\n", "    while not ready:\n        pass\n").replace(
        "app = FastAPI()\n", "app = FastAPI()\nready = False\n"
    )
    stuck = "no complete answer within 5 s: your app was still running line 11"
    [loop] = diagnose(report_of(_unanswered("hello", stuck, blocked_line=11)), looping)
    assert (loop.cause, loop.line, loop.title) == ("blocking_call", 11, "`while not ready` never ends")
    plain = SLEEPY.replace("async def", "def")
    [sleeps] = diagnose(report_of(_unanswered("hello", stuck, blocked_line=10)), plain)
    assert "only thread" not in sleeps.explanation and "asyncio" not in sleeps.fix
    [busy] = diagnose(report_of(_unanswered("hello", stuck, blocked_line=10)), BUSY)
    assert busy.title == "Your endpoint got stuck before it could answer" and busy.line == 10


BUSY = SLEEPY.replace("time.sleep(30)", "total = sum(range(10**12))")


def test_without_a_sample_or_a_call_that_waits_the_diagnosis_names_no_line():
    report = report_of(_unanswered("hello", "no complete answer within 5 s"))
    [diagnosis] = diagnose(report, BUSY)
    assert diagnosis.cause == "no_answer" and diagnosis.line is None
    assert diagnosis.title == "Some requests got no answer"


def test_a_line_outside_the_file_is_not_named():
    report = report_of(_unanswered("hello", "no complete answer within 5 s", blocked_line=99))
    [diagnosis] = diagnose(report, BUSY)
    assert diagnosis.line is None
