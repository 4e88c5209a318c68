"""What a case's request made the program print is that case's own, on every way a sandbox is started.

The submission prints a marker unique to each request, on its output and on its
error output, while answering it; every case must hold exactly its own markers:
none lost, none given to the next case. Two hundred cases are sent in one
grading per path (started cold, taken from a pool started through bubblewrap,
forked from the template), so a race between the reader of the capture and the
attribution of a case shows.
"""

from __future__ import annotations

import pytest

from grader.grading.spec import CaseSpec, ExerciseSpec

pytestmark = pytest.mark.sandbox

CASES = 200
PRINTS_ITS_CASE = """import sys

from fastapi import FastAPI

app = FastAPI()
print("loaded")


@app.post("/message")
async def receive_message(msg: dict):
    print(f"out-{msg['n']}")
    print(f"err-{msg['n']}", file=sys.stderr)
    return {"received": msg}
"""


@pytest.fixture(scope="module")
def many_cases(message_echo) -> ExerciseSpec:
    """The echo exercise with one case per marker, and time for all of them."""
    cases = [
        CaseSpec.model_validate(
            {
                "name": f"case-{number}",
                "description": f"prints the markers of request {number}",
                "request": {"method": "POST", "path": "/message", "json": {"n": number}},
                "expect": {"status": 200, "json": {"received": "$request"}},
            }
        )
        for number in range(CASES)
    ]
    limits = message_echo.limits.model_copy(update={"total_seconds": 300.0})
    return message_echo.model_copy(update={"cases": cases, "limits": limits})


def _misattributed(report) -> dict[str, str | None]:
    """Case name -> what it holds, for every case that does not hold exactly its own markers."""
    assert len(report.tests) == CASES
    wrong = {}
    for number, case in enumerate(report.tests):
        assert case.name == f"case-{number}"
        if case.program_output != f"out-{number}\nerr-{number}":
            wrong[case.name] = case.program_output
    return wrong


def _check(report) -> None:
    assert report.error is None, report.error
    assert report.status == "passed", [(c.name, c.problem) for c in report.tests if not c.passed][:5]
    wrong = _misattributed(report)
    assert wrong == {}, (
        f"{len(wrong)} of {CASES} cases hold another case's output or lost theirs: {list(wrong.items())[:5]}"
    )
    # What was printed while the file loaded is the program's, not a case's.
    assert report.stdout.startswith("loaded\n")


def test_cold_each_case_holds_its_own_output(grade, many_cases):
    _check(grade(many_cases, PRINTS_ITS_CASE))


def test_pooled_each_case_holds_its_own_output(bwrap_pooled_grade, many_cases):
    _check(bwrap_pooled_grade(many_cases, PRINTS_ITS_CASE))


def test_forked_each_case_holds_its_own_output(pooled_grade, many_cases):
    _check(pooled_grade(many_cases, PRINTS_ITS_CASE))
