"""State: replies that do not follow the request (written by hand, or remembered between requests)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from grader.grading.diagnose.responses import parse_body
from grader.grading.diagnose.wording import Context, Rule, Words
from grader.grading.evidence import SourceModel

CHANGES = r"\.(update|append|extend|insert|add|setdefault|pop|clear)\s*\(|\[[^\]]*\]\s*=|\s*\+?=(?!=)"


@dataclass(frozen=True)
class KeptState:
    """A module-level variable a handler changes and builds its reply from.

    name: the variable; defined: the line it is bound at the top of the file;
    changed: the first line of the handler that changes it; read: the first return that reads it.
    """

    name: str
    defined: int | None
    changed: int
    read: int
    how: str


def kept_state(model: SourceModel) -> KeptState | None:
    """The state a route keeps between requests and answers from, when its code shows one."""
    for route in model.routes:
        function = route.function
        for returned in function.returns:
            for name in returned.names:
                rebound = model.find(rf"^\s*{re.escape(name)}\s*(:[^=]*)?=(?!=)", function.line, function.end_line)
                if name not in model.module_names or (rebound and name not in function.globals_declared):
                    continue  # a local variable of the same name, not the module's
                changed = _changed_at(model, name, function.first_line, function.end_line)
                if changed is not None:
                    how = next((w.how for w in model.state_writes if w.name == name and w.line == changed), "item")
                    return KeptState(name, model.module_names.get(name), changed, returned.line, how)
    return None


def _changed_at(model: SourceModel, name: str, start: int, end: int) -> int | None:
    written = [w.line for w in model.state_writes if w.name == name and start <= w.line <= end]
    if written:
        return min(written)
    return model.find(re.compile(rf"^\s*{re.escape(name)}\b(\[[^\]]*\])*({CHANGES})"), start, end)


def _kept_state(c: Context) -> Words:
    state = kept_state(c.model)
    if state is None:
        return _same_answer(c)
    # A container changed in place is where the mistake is; a value stored under a key shows when it is read.
    line = state.changed if state.how == "mutation" else state.read
    defined = f" (defined on line {state.defined})" if state.defined else ""
    return Words(
        f"Your reply does not follow the request: it is built from `{state.name}`, kept between requests",
        f"`{state.name}`{defined} lives at the top of your file, so it outlives each request: line {state.changed} "
        f"changes it and line {state.read} answers from it. Each reply then carries what earlier requests left "
        f"there, and the grader's later messages get answers that belong to earlier ones.",
        f"Build each reply from the request alone, `return {c.reply()}`, and keep `{state.name}` out of it.",
        line,
        None,
        "kept_state",
    )


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
    "kept_state": _kept_state,
    "same_answer": _same_answer,
}
