"""Conversions: values that come back with another type or another value."""

from __future__ import annotations

import ast
import re

from grader.grading.diagnose.responses import classify
from grader.grading.diagnose.rules.returns import bracketed_message
from grader.grading.diagnose.source import Source
from grader.grading.diagnose.wording import (
    Context,
    Rule,
    Words,
    echoes,
    first_difference,
    line_patch,
    quote_code,
    reply_expression,
    unwrapped_call,
)
from grader.grading.report import FixPatch

# The calls that change a value's type, most telling first: (call, cause, what it does).
CONVERSIONS: tuple[tuple[str, str, str], ...] = (
    ("json.dumps", "json_dumps_value", "turns the message into JSON text, a string"),
    ("str", "str_message", "turns its argument into Python's text of it, a string"),
    ("repr", "str_message", "turns its argument into Python's text of it, a string"),
    ("int", "coerced", "turns its argument into a whole number"),
    ("float", "coerced", "turns its argument into a decimal number"),
    ("round", "coerced", "rounds its argument to a whole number"),
    ("bool", "coerced", "turns its argument into true or false"),
)


def _coerced(c: Context) -> Words:
    changes: list[str] = []
    for case in c.cases:
        found = classify(case)
        change = f"{found.get('wanted')} becomes {found.get('got')}"
        if found.cause == "coerced" and change not in changes:
            changes.append(change)
    if changes == ["object becomes array"]:
        listed = bracketed_message(c)
        if listed is not None:
            return listed
    example = first_difference(c.cases)
    title = f"Values change type on the way back ({', '.join(changes[:3]) or 'a value becomes another type'})"
    told = (
        f"A value must come back with the type it was sent with: {example}"
        'JSON\'s types count, so `3` is not `"3"`, `2.5` is not `2` and `true` is not `1`.'
    )
    for call, cause, effect in CONVERSIONS:
        line = c.text.in_endpoint(c.path, r"(?<![\w.])" + re.escape(call) + r"\s*\(")
        unwrapped = unwrapped_call(c.text.code(line), (call,))
        if line is None:
            continue
        shown = unwrapped[1] if unwrapped else f"{call}(...)"
        # Text made of the whole message is its own mistake; of single values, the habit of converting.
        whole = any(change.startswith(("object becomes", "array becomes")) for change in changes)
        cause = cause if whole else "coerced"
        removal = _needless_lines(c.text, line, unwrapped[0]) if unwrapped else None
        if removal is not None:
            first, last = removal
            what = "the loop" if last > first else "the line"
            lines = f"lines {first}–{last}" if last > first else f"line {line}"
            return Words(
                title,
                f"On line {line}, `{quote_code(shown)}` calls `{call}`, which {effect}. {told}",
                f"Send the values as they arrived: delete {what} that converts them ({lines}); without "
                f"`{call}` it would only assign each value to itself.",
                line,
                FixPatch(first, "\n".join(c.text.lines[first - 1 : last]), ""),
                cause,
            )
        return Words(
            f"`{quote_code(shown)}` turns the message into text before it is sent back" if whole else title,
            f"On line {line}, `{quote_code(shown)}` calls `{call}`, which {effect}. {told}",
            f"Send the values as they arrived, do not convert them: write `{quote_code(unwrapped[0])}`."
            if unwrapped
            else f"Send the values as they arrived: remove the `{call}(...)` call on line {line}.",
            line,
            line_patch(c.text, line, unwrapped[0]) if unwrapped else None,
            cause,
        )
    # No call in the endpoint explains it: say what came back, and where the reply is built.
    return Words(
        title,
        told + " Your endpoint sends back values of another type, and no conversion call in it explains which.",
        "Compare the types in the cases below with what your return statement builds.",
        c.text.returned(c.path),
    )


def _needless_lines(text: Source, line: int, unwrapped: str) -> tuple[int, int] | None:
    """The lines to delete when removing the conversion leaves ``x = x``: the line, or the loop it is alone in.

    ``for key in msg: msg[key] = str(msg[key])`` without ``str`` assigns each value to itself, so
    the tutor's edit is to delete the loop, not to keep a line that does nothing.
    """
    try:
        statement = ast.parse(unwrapped.strip()).body
        tree = ast.parse(text.text)
    except SyntaxError:
        return None
    if len(statement) != 1 or not isinstance(statement[0], ast.Assign) or len(statement[0].targets) != 1:
        return None
    if ast.unparse(statement[0].targets[0]) != ast.unparse(statement[0].value):
        return None
    for node in ast.walk(tree):
        for body in (getattr(node, name, None) for name in ("body", "orelse", "finalbody")):
            if not isinstance(body, list):
                continue
            for child in body:
                if not (isinstance(child, ast.stmt) and child.lineno == line and child.end_lineno == line):
                    continue
                if not isinstance(child, ast.Assign):
                    return None
                if len(body) > 1:
                    return line, line
                # Alone in its block: the block goes too when it is a plain loop; otherwise leave it.
                if isinstance(node, ast.For | ast.AsyncFor) and not node.orelse and node.end_lineno == line:
                    return node.lineno, line
                return None
    return None


CHANGING = re.compile(
    r"\[\s*-?\d*\s*:\s*-?\d*\s*\]|\.(lower|upper|strip|lstrip|rstrip|title|capitalize|casefold|replace)\s*\([^)]*\)"
)
"""Code that changes a value without changing its type: a slice, a string method."""


def _changed(c: Context) -> Words:
    found, cases, text = c.found, c.cases, c.text
    key = found.get("key")
    example = first_difference(cases)
    where = f" under {key!r}" if key else ""
    route = c.route
    line = text.find(CHANGING, route.function.line, route.function.end_line) if route is not None else None
    match = CHANGING.search(text.lines[line - 1]) if line else None
    if line is not None and match is not None:
        piece = match.group(0)
        return Words(
            f"A value comes back changed{where}",
            f"The reply holds a different value{where} from the one sent: {example}Line {line} changes it with "
            f"`{quote_code(piece)}`. The message must come back exactly as it arrived.",
            f"Send the value back as it came: remove `{quote_code(piece)}` from line {line}.",
            line,
        )
    if not echoes(cases):
        quoted = f'"{key}"' if key else "a value"
        return Words(
            f"The reply holds the wrong value{where}",
            f"The exercise expects another value{where}: {example}The reply must be exactly the object the exercise describes.",
            f"Return exactly `{reply_expression(cases)}`."
            if reply_expression(cases).startswith("{")
            else f"Check the value of {quoted} against the exercise.",
            text.quoted(key) if key else text.returned(c.path),
        )
    # No code in the endpoint shows the change: say what came back, and where the reply is built.
    return Words(
        f"A value comes back changed{where}",
        f"The reply holds a different value{where} from the one sent: {example}The message must come back exactly "
        "as it arrived.",
        "Compare the values in the cases below with what your return statement builds from the message.",
        text.returned(c.path),
    )


RULES: dict[str, Rule] = {
    "coerced": _coerced,
    "changed": _changed,
}
