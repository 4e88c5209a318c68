"""KeyError (which key, which dict), IndexError, JSON that does not parse, a failed conversion,
and RecursionError from a function that calls itself."""

from __future__ import annotations

import ast
import re

from grader.grading.evidence.exceptions.common import (
    Evidence,
    Explanation,
    body_param_names,
    replace_in_line,
    shown,
    statement,
)

ASSUMED_TYPES = {"int": "a whole number", "float": "a decimal number", "bool": "true or false"}
"""JSON values that are not text and not lists, by their Python type's name."""


def missing_key(evidence: Evidence) -> Explanation | None:
    quoted = re.fullmatch(r"""(['"])(?P<key>.{1,100})\1""", evidence.message.strip())
    if quoted is None:
        return None
    key = quoted["key"]
    tree = statement(evidence.code)
    reads = [
        node
        for node in (ast.walk(tree) if tree else ())
        if isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == key
    ]
    if not reads:
        return None
    read = reads[0]
    code = evidence.code.strip()
    written = ast.get_source_segment(code, read) or ""
    holder = ast.get_source_segment(code, read.value) or "the dict"
    is_message = isinstance(read.value, ast.Name) and read.value.id in body_param_names(evidence)
    what = "the message the grader sent" if is_message else f"`{shown(holder)}`"
    patch = None
    if written and _value_kept_as_it_is(tree, read):
        # .get() gives None for a missing key: fine where the value is only kept, not where it is used.
        patch = replace_in_line(evidence.model, evidence.line, written, f'{holder}.get("{key}")')
    return Explanation(
        cause="missing_key",
        title=f'The key "{key}" is not always there',
        explanation=(
            f'On line {evidence.line}, `{shown(written)}` reads the key "{key}", and {what} has no such key: '
            "reading a missing key with square brackets stops with KeyError."
            + (" The grader sends messages of every shape, so no key can be counted on." if is_message else "")
        ),
        fix=f'Read it with `{holder}.get("{key}")`, which gives None when the key is missing, or do not read it at all.',
        line=evidence.line,
        fix_patch=patch,
    )


def _value_kept_as_it_is(tree: ast.Module | None, read: ast.Subscript) -> bool:
    """Whether the value read is only stored or shown (assigned, put in a literal, printed), not used."""
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Assign) and node.value is read:
            return True
        if isinstance(node, (ast.Dict, ast.List, ast.Tuple)) and any(item is read for item in _items(node)):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            return any(arg is read for arg in node.args)
    return False


def _items(node: ast.Dict | ast.List | ast.Tuple) -> list[ast.expr]:
    return list(node.values) if isinstance(node, ast.Dict) else list(node.elts)


def value_type_assumed(evidence: Evidence) -> Explanation | None:
    """A value of the message used as text or a list (``value[0]``, ``len(value)``) when it is a number."""
    match = re.match(
        r"(?:'(?P<a>\w+)' object is not (?P<how>subscriptable|iterable)|object of type '(?P<b>\w+)' has no len\(\)"
        r"|argument of type '(?P<c>\w+)' is not iterable)",
        evidence.message,
    )
    if match is None or evidence.line is None:
        return None
    kind = match["a"] or match["b"] or match["c"]
    if kind not in ASSUMED_TYPES:
        return None
    return Explanation(
        cause="value_type_assumed",
        title=f"A value was {ASSUMED_TYPES[kind]}, and line {evidence.line} treats it as text or a list",
        explanation=(
            f"On line {evidence.line}, `{shown(evidence.code)}` reads positions or a length from a value, and one "
            f"value was {ASSUMED_TYPES[kind]}: `{evidence.exception}: {shown(evidence.message)}`. A message's values "
            "can be of every JSON type: numbers, true/false and null have no length and no positions."
        ),
        fix="Do not count on the type of the message's values: send the message back as it came.",
        line=evidence.line,
    )


def empty_sequence(evidence: Evidence) -> Explanation | None:
    if "index out of range" not in evidence.message or evidence.line is None:
        return None
    return Explanation(
        cause="empty_sequence",
        title="A position is read that is not there",
        explanation=(
            f"On line {evidence.line}, `{shown(evidence.code)}` reads an item by its position, and there are fewer "
            "items than that: an empty message has no first key, for example."
        ),
        fix="Do not count on a message having any particular field or length: send it back whole.",
        line=evidence.line,
    )


def json_decode(evidence: Evidence) -> Explanation | None:
    if evidence.exception != "JSONDecodeError" and not evidence.message.startswith("Expecting"):
        return None
    stringified = re.search(r"json\.loads\(\s*str\(\s*(?P<arg>[A-Za-z_]\w*)\s*\)\s*\)", evidence.code)
    if stringified:
        return Explanation(
            cause="json_decode",
            title="`str()` of a dict is not JSON",
            explanation=(
                f"On line {evidence.line}, `str({stringified['arg']})` writes the dict the way Python prints it (with "
                "single quotes), which is not JSON, so `json.loads` cannot read it back. And it does not need to: "
                "the message is already a dict."
            ),
            fix=f"Use `{stringified['arg']}` itself instead of `{stringified.group(0)}`.",
            line=evidence.line,
            fix_patch=replace_in_line(evidence.model, evidence.line, stringified.group(0), stringified["arg"]),
        )
    if "json.loads" not in evidence.code and "json.load(" not in evidence.code:
        return None
    return Explanation(
        cause="json_decode",
        title="`json.loads` was given text that is not JSON",
        explanation=(
            f"On line {evidence.line}, `json.loads` could not read its text as JSON: `{shown(evidence.message)}`. "
            "FastAPI already reads the request's JSON for you when the parameter is declared `msg: dict`."
        ),
        fix="Declare the parameter `msg: dict` and use it as it is, without `json.loads`.",
        line=evidence.line,
    )


def bad_conversion(evidence: Evidence) -> Explanation | None:
    match = re.match(r"invalid literal for (?P<kind>int|float)\(\)", evidence.message)
    if not match or evidence.line is None:
        return None
    return Explanation(
        cause="bad_conversion",
        title=f"`{match['kind']}()` was given text that is not a number",
        explanation=(
            f"On line {evidence.line}, `{shown(evidence.code)}` turns a value into a number, and the value was not one: "
            f"`{shown(evidence.message)}`."
        ),
        fix="Send the values back as they arrived; do not convert them.",
        line=evidence.line,
    )


def endless_recursion(evidence: Evidence) -> Explanation | None:
    function = evidence.function
    if function is None or not any(call.name == function.name for call in function.calls):
        return None
    call = next(call for call in function.calls if call.name == function.name)
    return Explanation(
        cause="endless_recursion",
        title=f"`{function.name}` calls itself without end",
        explanation=(
            f"Line {call.line} (`{shown(call.text)}`) calls `{function.name}` from inside `{function.name}`, which "
            "calls it again, and again, until Python gives up (RecursionError). A function that calls itself needs "
            "a case where it stops."
        ),
        fix=(
            f"Do not call `{function.name}` inside itself; if you meant another function or a value with a similar "
            "name, give them different names."
        ),
        line=call.line,
    )
