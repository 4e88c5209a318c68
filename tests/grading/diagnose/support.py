"""Hand-made case results of the echo exercise, for the diagnosis tests (no sandbox)."""

from __future__ import annotations

import json

from grader.grading.diagnose import diagnose
from grader.grading.report import CaseResult, GradingError, HttpExchange, Report

ECHO = """from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"recieved": msg}
"""


def case(
    name: str,
    sent,
    received,
    *,
    status: int = 200,
    expected_status: int = 200,
    method: str = "POST",
    passed: bool = False,
    headers: dict | None = None,
    output: str | None = None,
) -> CaseResult:
    """A case of the echo exercise: ``sent`` is echoed under "received" when 200 is expected."""
    expected = json.dumps({"received": sent}) if expected_status == 200 else None
    return CaseResult(
        name=name,
        description="",
        score=1.0 if passed else 0.0,
        max_score=1.0,
        status="passed" if passed else "failed",
        request=HttpExchange(method=method, path="/message", body=None if sent is None else json.dumps(sent)),
        expected=HttpExchange(status=expected_status, body=expected),
        received=HttpExchange(status=status, body=json.dumps(received), headers=headers or {}),
        problem=None if passed else "the response body differs from the expected one",
        program_output=output,
    )


def report_of(*cases: CaseResult, error: GradingError | None = None) -> Report:
    report = Report(exercise="message-echo", spec_hash="x", seed=1, max_score=float(len(cases)) or 1.0)
    report.tests = list(cases)
    report.error = error
    return report.finish()


HELLO = {"text": "Hello"}
HI = {"text": "Hi"}


def program(*body: str, imports: str = "from fastapi import FastAPI") -> str:
    """A learner's file: ``imports``, ``app = FastAPI()`` on line 3, then ``body`` from line 6."""
    return "\n".join([imports, "", "app = FastAPI()", "", "", *body]) + "\n"


def traceback(line: int, code: str, exception: str, function: str = "receive_message") -> str:
    """What the server prints when the learner's ``line`` raises ``exception`` (library frames folded)."""
    return (
        "ERROR:    Exception in ASGI application\n"
        "Traceback (most recent call last):\n"
        "  … 9 frames inside uvicorn, starlette, fastapi …\n"
        f'  File "solution.py", line {line}, in {function}\n'
        f"    {code}\n"
        f"{exception}\n"
    )


def first_diagnosis(source: str, *cases: CaseResult, **options):
    """The first diagnosis of a report made of ``cases`` for ``source``, and all of them."""
    diagnoses = diagnose(report_of(*cases), source, **options)
    assert diagnoses, "a failed report has a diagnosis"
    return diagnoses[0], diagnoses


def code_spans(text: str) -> list[str]:
    """The pieces of code (between backticks) a text shows."""
    return text.split("`")[1::2]
