"""Crashes: the endpoint raised an exception and FastAPI answered 500."""

from __future__ import annotations

import re

from grader.grading.diagnose.rules.names import undefined_name
from grader.grading.diagnose.source import Source
from grader.grading.diagnose.tracebacks import traceback_facts
from grader.grading.diagnose.wording import Context, Rule, Words, echoes, line_patch, quote_code, unwrapped_call
from grader.grading.evidence import ParsedTraceback, explain_traceback, parse_traceback
from grader.grading.report import CaseResult, FixPatch

# Codes of evidence's explanations that the corpus (and the dashboard) names otherwise.
EXCEPTION_CAUSES = {
    "set_instead_of_dict": "set_literal",
    "endless_recursion": "recursion",
    "name_typo": "misspelt_name",
    "attribute_typo": "misspelt_name",
    "missing_await": "json_not_awaited",
    "response_model_refused": "response_model",
    "missing_global": "missing_global",
    "json_loads_on_dict": "parsed_twice",
    "json_decode": "parsed_twice",
    "form_not_json": "form_parameter",
}
"""Every other explanation is a ``crash``: its words say which one; the code groups it with crashes."""


def _crash(c: Context) -> Words:
    helper = _async_helper(c)
    if helper is not None:
        return helper
    parsed = _first_traceback(c.cases)
    frame = parsed.learner_frame if parsed is not None else None
    named = (
        undefined_name(c.text, c.model, parsed.exception_name, parsed.message, c.text.valid_line(frame.line))
        if parsed is not None and frame is not None
        else None
    )
    if named is not None:
        return named._replace(explanation=named.explanation + _FRAMEWORK_ANSWER)
    if parsed is not None:
        explained = explain_traceback(parsed, c.model, path=c.path, method=c.method)
        if explained is not None:
            # Quoted once: an explanation that already names the exception's text is not followed by it again.
            quoted = parsed.exception and parsed.exception in explained.explanation
            printed = f" Python's message: `{quote_code(parsed.exception)}`." if parsed.exception and not quoted else ""
            fix, patch = explained.fix, explained.fix_patch
            if explained.cause in PICKED_FIELDS and echoes(c.cases):
                fix, patch = _echo_whole(c, explained.line)
            elif explained.line is not None and c.text.code(explained.line).startswith("print(") and echoes(c.cases):
                # Reading a field to print it crashes on messages without it: the print is what to take away.
                fix = f"{fix} Or simply delete line {explained.line}: it only prints, and the reply does not need it."
                patch = FixPatch(explained.line, c.text.lines[explained.line - 1], "")
            return Words(
                explained.title,
                explained.explanation + printed + ("" if "500" in explained.explanation else _FRAMEWORK_ANSWER),
                fix,
                explained.line,
                patch,
                EXCEPTION_CAUSES.get(explained.cause, "crash"),
            )
    return _described(c)


PICKED_FIELDS = {"missing_key", "attribute_on_dict"}
"""Crashes of reading one field out of the message: when the exercise echoes it, reading no field is the fix."""


def _echo_whole(c: Context, line: int | None) -> tuple[str, FixPatch | None]:
    """The fix for a crash of picking fields out of a message the exercise wants back whole."""
    reply = c.reply()
    fix = (
        f"The message does not always hold that field, and the exercise wants all of it back: "
        f"return the whole message, `return {reply}`, instead of reading fields out of it."
    )
    patch = line_patch(c.text, line, f"return {reply}") if c.text.code(line).startswith("return") else None
    return fix, patch


_FRAMEWORK_ANSWER = " FastAPI answered 500 Internal Server Error instead of your reply."


def _async_helper(c: Context) -> Words | None:
    """An ``async def`` helper of the file called from the endpoint without ``await`` (or through ``asyncio.run``)."""
    route = c.route
    if route is None:
        return None
    helpers = [f.name for f in c.model.functions if f.is_async and f.name != route.function.name]
    if not helpers:
        return None
    called = re.compile(rf"(?<![\w.])(?P<name>{'|'.join(map(re.escape, helpers))})\s*\(")
    line = c.text.find(called, route.function.line + 1, route.function.end_line)
    code = c.text.code(line)
    match = called.search(code)
    if line is None or match is None or re.search(rf"await\s+{match.group('name')}\b", code):
        return None
    name = match.group("name")
    run = unwrapped_call(code, ("asyncio.run",))
    if run is not None:
        fixed = code.replace(run[1], "await " + run[1][len("asyncio.run(") : -1], 1)
        return Words(
            "`asyncio.run` cannot run inside your endpoint",
            f"Line {line} calls `{quote_code(run[1])}`. `asyncio.run` starts a new event loop, and your endpoint "
            "already runs inside FastAPI's, so Python stopped with RuntimeError." + _FRAMEWORK_ANSWER,
            f"Inside `async def`, wait for the helper with `await`: `{quote_code(fixed)}`.",
            line,
            line_patch(c.text, line, fixed) if route.function.is_async else None,
            "crash",
        )
    fixed = code[: match.start()] + "await " + code[match.start() :]
    return Words(
        f"`{name}(...)` is not awaited",
        f"`{name}` is an `async def` function: calling it gives a coroutine, a promise of its result that only "
        f"`await` fulfils. Line {line} uses that coroutine as the reply, which FastAPI cannot send."
        + _FRAMEWORK_ANSWER,
        f"Write `{quote_code(fixed)}`" + ("." if route.function.is_async else ", in an `async def` endpoint."),
        line,
        line_patch(c.text, line, fixed) if route.function.is_async else None,
        "coroutine_not_awaited",
    )


def _first_traceback(cases: list[CaseResult]) -> ParsedTraceback | None:
    for case in cases:
        parsed = parse_traceback(case.program_output or "")
        if parsed is not None and parsed.exception_type:
            return parsed
    return None


def _described(c: Context) -> Words:
    """No rule explains the exception: say what was raised and where, and offer no code."""
    cases, text = c.cases, c.text
    exc, detail, line = crash_facts(cases, text)
    what = f"`{exc}: {detail}`" if exc and detail else f"`{exc}`" if exc else "an exception"
    parsed = _first_traceback(cases)
    if parsed is not None and parsed.raised_by_framework:
        return Words(
            f"FastAPI failed with {exc} while handling the request",
            f"No line of yours was running when {what} was raised: FastAPI raised it itself, before calling your "
            "function or after it returned, and answered 500 Internal Server Error.",
            "Compare what your route declares (its decorator and parameters) and what your function returns with "
            "the cases below.",
            c.route.line if c.route is not None else None,
        )
    where = f" at line {line}: `{quote_code(text.code(line))}`" if line and text.code(line) else ""
    if parsed is not None and parsed.raised_in_library and line is not None and where:
        # The line called into a library and the library raised: blaming the line's own code would guess.
        return Words(
            f"A call on line {line} was given something it cannot take ({exc})",
            f"{what} was raised inside the library code that line {line} calls{where}. The library is not "
            "wrong: one of the values your line hands it is not what it expects. FastAPI answered 500 "
            "Internal Server Error instead of your reply.",
            f"Check each value line {line} passes against what the function expects (its documentation "
            "says which types it takes); send the request of a failed case to your app yourself to see it happen.",
            line,
        )
    explanation = (
        f"Your endpoint function raised {what}{where}. When an endpoint raises an exception, "
        "FastAPI answers 500 Internal Server Error instead of your reply."
    )
    fix = _crash_fix(exc, detail, c.reply(), line)
    title = f"Your endpoint crashed with {exc}" if exc else "Your endpoint crashed"
    return Words(title, explanation, fix, line)


def _crash_fix(exc: str | None, detail: str | None, reply: str, line: int | None) -> str:
    detail = detail or ""
    if exc == "KeyError":
        return f"A message does not always hold the key you read: echo the whole message (`return {reply}`) instead of picking fields out of it."
    if exc == "AttributeError" and "dict" in detail:
        attribute = re.search(r"has no attribute '(\w+)'", detail)
        name = attribute.group(1) if attribute else "text"
        return (
            f'The message is a dict: its fields are read with `msg["{name}"]`, not `msg.{name}`; '
            "but to send it back, return the whole dict."
        )
    if exc == "EOFError" and "input()" in detail:
        return "Remove the `input()` call: nobody can type while the grader runs your app, and the message arrives as your endpoint's parameter."
    if exc == "TypeError" and "coroutine" in detail:
        return "Put `await` before `request.json()`: it gives a coroutine, not the data, until it is awaited."
    if line is None:
        return (
            "The server's output below shows where it was raised; send the request of a failed case to your app "
            "yourself to see it happen."
        )
    return (
        f"Look at what line {line} does with the message of the failed cases below: for those messages it raises "
        f"{exc or 'an exception'}. Send the same request to your app yourself to see it happen."
    )


def crash_facts(cases: list[CaseResult], text: Source) -> tuple[str | None, str | None, int | None]:
    """(exception type, message, learner's line) from the error output of the crashed cases."""
    for case in cases:
        found = traceback_facts(case.program_output or "", text)
        if found[0] or found[2]:
            return found
    return None, None, None


RULES: dict[str, Rule] = {
    "crash": _crash,
}
