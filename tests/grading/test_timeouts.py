"""Time-outs that name the learner's line, and cases never sent reported as not run.

The boot script samples a request that runs too long inside the sandbox; the host
checks the sample against the source before naming the line. Once two requests
were blocked on the same line, the remaining cases are not run instead of each
waiting out its time limit. Each path a sandbox can start by is tried: started
for the grading (cold), started ahead through bubblewrap (pooled), forked from a
template (forked).
"""

from __future__ import annotations

import time

import pytest

from grader.grading.stalls import blocked_line
from tests.grading.test_hostile import assert_host_clean

SLEEP_IN_ASYNC = (
    "import time\n"  # 1
    "\n"
    "from fastapi import FastAPI\n"
    "\n"
    "app = FastAPI()\n"  # 5
    "\n"
    "\n"
    '@app.post("/message")\n'
    "async def receive_message(msg: dict):\n"
    "    time.sleep(30)\n"  # 10
    '    return {"received": msg}\n'
)
AWAITS_FOR_EVER = (
    "import asyncio\n"
    "from fastapi import FastAPI\n"
    "\n"
    "app = FastAPI()\n"
    "\n"
    "\n"
    '@app.post("/message")\n'
    "async def receive_message(msg: dict):\n"
    "    if msg == {'text': 'Hello'}:\n"
    "        await asyncio.sleep(30)\n"  # 10
    '    return {"received": msg}\n'
)
LOOPS_IN_A_PLAIN_ENDPOINT = (
    "from fastapi import FastAPI\n"
    "\n"
    "app = FastAPI()\n"
    "\n"
    "\n"
    "def wait_for(value):\n"
    "    while value:\n"  # 7
    "        pass\n"
    "\n"
    "\n"
    '@app.post("/message")\n'
    "def receive_message(msg: dict):\n"
    "    wait_for(msg == {'text': 'Hi'})\n"
    '    return {"received": msg}\n'
)


@pytest.fixture(params=["cold", "pooled", "forked"])
def grade_on_path(request, grade, bwrap_pooled_grade, pooled_grade):
    return {"cold": grade, "pooled": bwrap_pooled_grade, "forked": pooled_grade}[request.param]


@pytest.mark.sandbox
def test_a_blocked_async_endpoint_names_its_line_and_the_rest_is_not_run(grade_on_path, quick_echo, host_snapshot):
    before = host_snapshot()
    began = time.monotonic()
    report = grade_on_path(quick_echo, SLEEP_IN_ASYNC)
    elapsed = time.monotonic() - began
    first, second, *rest = report.tests
    for case in (first, second):
        assert case.sent and case.received.status is None
        assert case.blocked_line == 10
        assert "line 10 (`time.sleep(30)`) in receive_message()" in case.problem
    assert rest and all(not case.sent and case.problem.startswith("not run: ") for case in rest)
    assert all("stuck on line 10" in case.problem for case in rest)
    # Two request limits, not one per case.
    assert elapsed < quick_echo.limits.startup_seconds + 2 * quick_echo.limits.request_seconds + 10
    # One mistake, one card: the cases it kept from being sent are its cases too.
    [stuck] = report.diagnoses
    assert stuck.line == 10 and stuck.cause == "blocking_call"
    assert stuck.cases == [case.name for case in report.tests]
    assert "time.sleep" in stuck.fix and f"the other {len(rest)} cases were not run" in stuck.explanation
    assert_host_clean(before, host_snapshot)


@pytest.mark.sandbox
def test_an_awaiting_endpoint_names_the_await_and_later_cases_still_run(grade_on_path, quick_echo):
    report = grade_on_path(quick_echo, AWAITS_FOR_EVER)
    cases = {case.name: case for case in report.tests}
    assert cases["hello"].blocked_line == 10
    assert "`await asyncio.sleep(30)`" in cases["hello"].problem
    assert cases["hi"].passed and all(case.sent for case in report.tests)


@pytest.mark.sandbox
def test_a_plain_endpoint_spinning_in_its_worker_thread_names_the_loop(grade_on_path, quick_echo):
    report = grade_on_path(quick_echo, LOOPS_IN_A_PLAIN_ENDPOINT)
    cases = {case.name: case for case in report.tests}
    assert cases["hi"].blocked_line in (7, 8)
    assert "in wait_for()" in cases["hi"].problem
    assert cases["hello"].passed and cases["extra-fields"].passed


SOURCE = SLEEP_IN_ASYNC


@pytest.mark.parametrize(
    "sample",
    [
        {"line": 99, "function": "receive_message"},  # past the end of the file
        {"line": 0, "function": "receive_message"},
        {"line": True, "function": "receive_message"},
        {"line": "10", "function": "receive_message"},
        {"line": 10, "function": "receive message; rm -rf /"},  # not an identifier
        {"line": 10, "function": "elsewhere"},  # no such function spans line 10
        {"line": 3, "function": "receive_message"},  # a line outside that function
        {"function": "receive_message"},
    ],
)
def test_a_sample_the_host_cannot_confirm_names_no_line(sample):
    assert blocked_line([{"event": "stall", **sample}], SOURCE) is None


def test_the_latest_confirmed_sample_names_the_line_with_the_hosts_own_text():
    samples = [
        {"event": "stall", "line": 11, "function": "receive_message"},
        {"event": "stall", "line": 10, "function": "receive_message", "code": "forged"},
        {"event": "stall", "line": 500, "function": "receive_message"},
    ]
    blocked = blocked_line(samples, SOURCE)
    assert blocked is not None and (blocked.line, blocked.function, blocked.code) == (
        10,
        "receive_message",
        "time.sleep(30)",
    )
