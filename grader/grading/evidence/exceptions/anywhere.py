"""Rules that hold whatever the exception: a coroutine used as data (a missing ``await``), ``input()``
in a handler, a form read without the package forms need."""

from __future__ import annotations

import re

from grader.grading.evidence.exceptions.common import (
    Evidence,
    Explanation,
    replace_in_line,
    route_at,
    shown,
)

UNAWAITED = re.compile(r"(?<!await )(?<!await\()\b(?P<call>[A-Za-z_]\w*\.(?:json|body|form)\(\))")


def missing_await(evidence: Evidence) -> Explanation | None:
    """A coroutine used as data: ``request.json()`` without ``await``."""
    if "coroutine" not in evidence.message:
        return None
    function = evidence.function
    start = function.line if function else 1
    end = function.end_line if function else None
    line = evidence.model.find(UNAWAITED, start, end)
    if line is None:
        return None
    call = UNAWAITED.search(evidence.model.line_text(line))
    assert call is not None
    patch = None
    if function is not None and function.is_async:
        patch = replace_in_line(evidence.model, line, call["call"], "await " + call["call"])
        fix = f"Write `await {call['call']}` on line {line}."
    else:
        fix = f"Make the endpoint `async def` and write `await {call['call']}` on line {line}."
    return Explanation(
        cause="missing_await",
        title=f"`{call['call']}` is not awaited",
        explanation=(
            f"`{call['call']}` on line {line} does not give the data straight away: it gives a coroutine, a "
            "promise of the data that only `await` fulfils. Your code then used that coroutine as if it were the "
            f"message, and Python stopped with `{evidence.exception}: {shown(evidence.message)}`."
        ),
        fix=fix + " Simpler still: declare the parameter `msg: dict` and let FastAPI read the body for you.",
        line=line,
        fix_patch=patch,
    )


def input_in_handler(evidence: Evidence) -> Explanation | None:
    if evidence.exception != "EOFError" or "input(" not in evidence.code:
        return None
    return Explanation(
        cause="input_in_handler",
        title="`input()` waits for someone to type",
        explanation=(
            f"Line {evidence.line} calls `input()`, which waits for a person at a keyboard. Nobody types while "
            "the grader runs your app, so Python gave up with EOFError."
        ),
        fix="Remove the `input()` call: the message arrives as your endpoint's parameter.",
        line=evidence.line,
    )


def form_without_parser(evidence: Evidence) -> Explanation | None:
    """Forms need python-multipart, which the runtime does not have; and the grader sends JSON."""
    if "python-multipart" not in evidence.message:
        return None
    route = evidence.route or route_at(evidence.model, evidence.line)
    form = None
    if route is not None:
        form = next((p for p in route.function.params if p.marker in ("Form", "File")), None)
    line = form.line if form is not None else evidence.line
    what = f"`{form.name}: {form.annotation} = {form.default}`" if form is not None else f"`{shown(evidence.code)}`"
    return Explanation(
        cause="form_not_json",
        title="The message is JSON, not a form",
        explanation=(
            f"{what} on line {line} reads an HTML form. The grader sends JSON, and forms need the package "
            "python-multipart, which the grading runtime does not have, so FastAPI stopped."
        ),
        fix="Take the message as JSON: one parameter `msg: dict`, and return it.",
        line=line,
        raised_by_framework=form is not None,
    )


def event_loop_in_handler(evidence: Evidence) -> Explanation | None:
    """``asyncio.run(...)`` (or ``loop.run_until_complete``) inside a handler the server's loop already runs."""
    if (
        "cannot be called from a running event loop" not in evidence.message
        and "This event loop is already running" not in evidence.message
    ):
        return None
    call = re.search(r"[\w.]*(asyncio\.run|run_until_complete)\(", evidence.code)
    if call is None:
        return None
    return Explanation(
        cause="event_loop_in_handler",
        title="`asyncio.run` inside an endpoint: the server's loop is already running",
        explanation=(
            f"Line {evidence.line} starts an event loop with `{call.group(1)}(...)`, inside a request the server "
            "is already handling on its own running loop, and Python allows one running loop per thread."
        ),
        fix="Make the endpoint `async def` and `await` the coroutine instead of running it with asyncio.run.",
        line=evidence.line,
    )
