"""Rules that hold whatever the exception: a coroutine used as data (a missing ``await``), ``input()``
in a handler, a form read without the package forms need."""

from __future__ import annotations

import ast
import re

from grader.grading.evidence.exceptions.common import (
    Evidence,
    Explanation,
    replace_in_line,
    route_at,
    shown,
    statement,
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


def own_coroutine_not_awaited(evidence: Evidence) -> Explanation | None:
    """A coroutine used as data: the file's own ``async def`` helper called without ``await``."""
    if "coroutine" not in evidence.message:
        return None
    function = evidence.function
    if function is None:
        return None
    helpers = {f.name for f in evidence.model.functions if f.is_async and f.line != function.line}
    for number in range(function.body_line or function.line, function.end_line + 1):
        for name in helpers:
            call = re.search(rf"(?<!await )(?<![\w.]){re.escape(name)}\(", evidence.model.line_text(number))
            if call is None or evidence.model.line_text(number).lstrip().startswith(("def ", "async def ")):
                continue
            patch = replace_in_line(evidence.model, number, f"{name}(", f"await {name}(") if function.is_async else None
            return Explanation(
                cause="coroutine_not_awaited",
                title=f"`{name}(...)` is not awaited",
                explanation=(
                    f"`{name}` is an `async def` function, so calling it on line {number} does not run it: it gives a "
                    "coroutine, a promise of its result that only `await` fulfils. The coroutine itself went on as "
                    f"if it were the result, and Python stopped with `{evidence.exception}: {shown(evidence.message)}`."
                ),
                fix=f"Write `await {name}(...)` on line {number}"
                + ("." if function.is_async else f", and make `{function.name}` an `async def`."),
                line=number,
                fix_patch=patch,
            )
    return None


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
    patch = None
    function = evidence.function
    tree = statement(evidence.code.strip())
    runs = [
        node
        for node in (ast.walk(tree) if tree else ())
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("run", "run_until_complete")
        and len(node.args) == 1
    ]
    if runs and function is not None and function.is_async:
        # In an async endpoint the coroutine is simply awaited.
        written = ast.get_source_segment(evidence.code.strip(), runs[0]) or ""
        inner = ast.get_source_segment(evidence.code.strip(), runs[0].args[0]) or ""
        if written and inner:
            patch = replace_in_line(evidence.model, evidence.line, written, f"await {inner}")
    return Explanation(
        cause="event_loop_in_handler",
        title="`asyncio.run` inside an endpoint: the server's loop is already running",
        explanation=(
            f"Line {evidence.line} starts an event loop with `{call.group(1)}(...)`, inside a request the server "
            "is already handling on its own running loop, and Python allows one running loop per thread."
        ),
        fix="Make the endpoint `async def` and `await` the coroutine instead of running it with asyncio.run."
        if patch is None
        else f"`await` the coroutine instead: `{patch.after.strip()}`.",
        line=evidence.line,
        fix_patch=patch,
    )
