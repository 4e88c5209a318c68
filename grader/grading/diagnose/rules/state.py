"""State: replies that do not follow the request (written by hand, or remembered between requests)."""

from __future__ import annotations

from typing import Any

from grader.grading.diagnose.responses import parse_body
from grader.grading.diagnose.wording import Context, Rule, Words


def _same_answer(c: Context) -> Words:
    reply = c.reply()
    cases, text, path = c.cases, c.text, c.path
    names = ", ".join(case.name for case in cases[:3])
    line = None
    for case in cases:
        for value in _leaf_strings(parse_body(case.received.body)):
            line = text.quoted(value)
            if line:
                break
        if line:
            break
    return Words(
        "Your reply does not follow the request",
        f"The cases {names}{' and more' if len(cases) > 3 else ''} sent different messages but got back the same "
        "reply, one that fits another request. An answer written out by hand (or remembered from an earlier "
        "request) passes only for the message it was written for.",
        f"Build the reply from the message each time: `return {reply}`, where `msg` is your endpoint's parameter.",
        line or text.returned(path),
    )


def _leaf_strings(value: Any) -> list[str]:
    """The short strings a JSON value holds, outermost first (walked with a stack)."""
    found: list[str] = []
    stack = [value]
    while stack and len(found) < 50:
        item = stack.pop(0)
        if isinstance(item, str) and 0 < len(item) <= 80:
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


RULES: dict[str, Rule] = {
    "same_answer": _same_answer,
}
