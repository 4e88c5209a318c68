"""Crashes: the endpoint raised an exception and FastAPI answered 500."""

from __future__ import annotations

import re

from grader.grading.diagnose.source import Source
from grader.grading.diagnose.tracebacks import traceback_facts
from grader.grading.diagnose.wording import Context, Rule, Words, quote_code, reply_expression
from grader.grading.report import CaseResult


def _crash(c: Context) -> Words:
    cases, text = c.cases, c.text
    exc, detail, line = crash_facts(cases, text)
    what = f"`{exc}: {detail}`" if exc and detail else f"`{exc}`" if exc else "an exception"
    where = f" at line {line}: `{quote_code(text.code(line))}`" if line and text.code(line) else ""
    explanation = (
        f"Your endpoint function raised {what}{where}. When an endpoint raises an exception, "
        "FastAPI answers 500 Internal Server Error instead of your reply."
    )
    fix = _crash_fix(exc, detail, reply_expression(cases))
    title = f"Your endpoint crashed with {exc}" if exc else "Your endpoint crashed"
    return Words(title, explanation, fix, line)


def _crash_fix(exc: str | None, detail: str | None, reply: str) -> str:
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
    return "Fix the line the error points at; the grader's requests are in the failed cases below, so you can send the same ones yourself."


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
