"""Keys of the reply: misspelt, renamed, changed by the code, dropped or added.

"You wrote X" is said only of a key the file writes (a string, or a keyword as in
``dict(recieved=msg)``); keys the file never writes were changed by its code, which
``_changed_keys`` names from the syntax tree (``k.upper()``) when it can.
"""

from __future__ import annotations

import json
import re
from typing import Any

from grader.grading.diagnose.responses import parse_body
from grader.grading.diagnose.source import Source
from grader.grading.diagnose.wording import (
    Context,
    Rule,
    Words,
    line_patch,
    quote_code,
    replaced_in_line,
    replaced_string,
)
from grader.grading.evidence import KeyChange, Route, SourceModel
from grader.grading.evidence.exceptions.framework import without_declaration
from grader.grading.report import CaseResult, FixPatch


def _misspelt_key(c: Context) -> Words:
    found, text, path = c.found, c.text, c.path
    wrong, right = found.get("wrong"), found.get("right")
    written = c.model.written_at(wrong)
    return Words(
        f"Misspelt key: you wrote `{quote_code(wrong)}`; the key is `{quote_code(right)}`",
        f'Your reply uses the key "{wrong}" where the exercise expects "{right}". To a program these are two '
        "different keys, so every reply that should hold it fails, although the message itself is right.",
        f'Write "{right}" instead of "{wrong}".',
        written or text.returned(path),
        _key_patch(text, written, wrong, right),
    )


def _renamed_key(c: Context) -> Words:
    found, text, path = c.found, c.text, c.path
    wrong, right = found.get("wrong"), found.get("right")
    written = c.model.written_at(wrong)
    return Words(
        f"Wrong key: you wrote `{quote_code(wrong)}`; the key is `{quote_code(right)}`",
        f'Your reply puts the value under "{wrong}"; the exercise expects the key "{right}".',
        f'Use the key "{right}" instead of "{wrong}".',
        written or text.returned(path),
        _key_patch(text, written, wrong, right),
    )


def _key_patch(text: Source, line: int | None, wrong: str, right: str) -> FixPatch | None:
    """The key written as a string (``"recieved"``) or as a keyword (``dict(recieved=msg)``), corrected."""
    patch = replaced_string(text, line, wrong, right)
    if patch is not None or line is None or not wrong.isidentifier() or not right.isidentifier():
        return patch
    code = text.lines[line - 1]
    fixed = re.sub(rf"(?<![\w.]){re.escape(wrong)}(?=\s*=(?!=))", right, code, count=1)
    return line_patch(text, line, fixed) if fixed != code else None


def key_change_for(
    model: SourceModel, function_line: int | None, pairs: tuple[tuple[str, str], ...]
) -> KeyChange | None:
    """The key change in the file that turns every sent key of ``pairs`` (wrong, right) into the one received.

    The endpoint's own changes are tried first (``function_line`` is its ``def`` line), then a helper's.
    """
    functions = sorted(model.functions, key=lambda function: function.line != function_line)
    for function in functions:
        for change in function.key_changes:
            if pairs and all(change.applied(right) == wrong for wrong, right in pairs):
                return change
    return None


def _changed_keys(c: Context) -> Words:
    pairs: tuple[tuple[str, str], ...] = c.found.get("pairs", ())
    wrong, right = pairs[0] if pairs else ("", "")
    route = c.route
    change = key_change_for(c.model, route.function.line if route is not None else None, pairs)
    if change is not None:
        whole = replaced_in_line(c.text, change.line, change.copy, change.source) if change.copy else None
        patch = whole or replaced_in_line(c.text, change.line, change.key, change.name)
        fix = (
            f"Send the message itself: write `{change.source}` instead of `{quote_code(change.copy)}`."
            if whole
            else f"Keep each key as it came: write `{change.name}` instead of `{quote_code(change.key)}`."
        )
        return Words(
            f"`{quote_code(change.key)}` changes every key of the message",
            f'Line {change.line} copies the message with `{quote_code(change.key)}` as each key, so "{right}" comes '
            f'back as "{wrong}". The keys are part of the message: the client looks up the keys it sent, exactly '
            "as it sent them, so each one must come back unchanged.",
            fix,
            change.line,
            patch,
            "changed_keys",
        )
    returned = c.text.returned(c.path)
    reply = c.reply()
    patch = line_patch(c.text, returned, f"return {reply}")
    return Words(
        "Keys of the message come back changed",
        f'Your reply has the key "{wrong}" where the message had "{right}", and your file never writes "{wrong}": '
        "it is not a typing slip, your code changes the keys of the message on the way back. The keys must come "
        "back exactly as they were sent.",
        f"Send the message as it arrived: `return {reply}`."
        if patch is not None
        else "Find where your code changes the keys of the message, and send them back as they came.",
        returned,
        patch,
        "changed_keys",
    )


FILTERED = re.compile(r"\bfor\b[^\]}]*\bin\b[^\]}]*\bif\b(?P<condition>[^\]}]+)[\]}]")


def _dropped_fields(c: Context) -> Words:
    reply = c.reply()
    text, path = c.text, c.path
    route = c.route
    filtered = text.find(FILTERED, route.function.line, route.function.end_line) if route is not None else None
    match = FILTERED.search(text.lines[filtered - 1]) if filtered else None
    if filtered is not None and match is not None:
        condition = f"if {match.group('condition').strip()}"
        return Words(
            "Fields of the message are missing from the reply",
            f"Line {filtered} copies the message with `{quote_code(condition)}`, which leaves out every field whose "
            "value does not pass it: false, 0, null, an empty text or list. The message must come back whole.",
            f"Send the message itself: `return {reply}`, without the copy.",
            filtered,
        )
    truth = _truth_filter(c, route) if route is not None else None
    if truth is not None:
        return truth
    returned = text.returned(path)
    if " ".join(text.code(returned).split()) == " ".join(f"return {reply}".split()):
        # The return line already sends the message whole: the fields were taken out of the message
        # before it, or filtered out after it by the response model.
        found = (_removed(c, route, returned) or _filtered_on_the_way_out(c, route, returned)) if route else None
        if found is not None:
            return found
        return Words(
            "Fields of the message are missing from the reply",
            f"Some fields the grader sent did not come back, though line {returned} sends the message as your "
            "endpoint has it: they were lost before that line, in how your endpoint declares or changes the message.",
            "Look at what happens to the message before line "
            f"{returned}: its parameter's type and every line that changes it.",
            returned,
        )
    return Words(
        "Fields of the message are missing from the reply",
        "Some fields the grader sent did not come back: your endpoint builds a new object from a few fields "
        "instead of sending back the whole message.",
        f"Return the whole message: `return {reply}`, without picking fields out of it.",
        returned,
    )


def _truth_filter(c: Context, route: Route) -> Words | None:
    """A loop that copies a field only when its value is true, when the replies lost exactly those fields."""
    names = {param.name for param in route.function.body_params}
    truth = next((found for found in route.function.truth_filters if found.source in names), None)
    if truth is None:
        return None
    left_out = _false_fields_left_out(c.cases)
    if not left_out:
        return None
    shown = ", ".join(f'"{key}" ({json.dumps(value)})' for key, value in left_out[:3])
    return Words(
        f"`if {quote_code(truth.condition)}:` leaves out the fields whose value is false or empty",
        f"Line {truth.line} copies a field of the message only `if {quote_code(truth.condition)}`, and in Python "
        "false, 0, null (None), an empty text, list or object all count as false there. So those fields never "
        f"come back: here {shown}. A field's value is part of the message, whatever it is.",
        f"Send the message itself: `return {c.reply()}`, without the copy.",
        truth.line,
    )


def _false_fields_left_out(cases: list[CaseResult]) -> list[tuple[str, Any]]:
    """The fields the replies left out, when they are exactly the sent fields whose values are false.

    Empty when any reply kept a false value, lost a true one, or is not the message echoed as an object.
    """
    left_out: list[tuple[str, Any]] = []
    for case in cases:
        sent = parse_body(case.request.body)
        where = _path_to(parse_body(case.expected.body), sent) if isinstance(sent, dict) else None
        got = _at(parse_body(case.received.body), where) if where is not None else None
        if not isinstance(sent, dict) or not isinstance(got, dict) or set(got) - set(sent):
            return []
        for key, value in sent.items():
            if (key in got) != bool(value):
                return []
            if key not in got:
                left_out.append((key, value))
    return left_out


def _path_to(value: Any, message: dict[str, Any], path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The keys that lead, in an expected reply, to where the message sent is echoed (``("received",)``)."""
    if value == message:
        return path
    if isinstance(value, dict):
        for key, inner in value.items():
            found = _path_to(inner, message, (*path, key))
            if found is not None:
                return found
    return None


def _at(value: Any, path: tuple[str, ...]) -> Any:
    """What a reply holds at ``path``; None where it holds nothing."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _removed(c: Context, route: Route, returned: int | None) -> Words | None:
    """A line taking fields out of the message itself (``msg.pop("text")``, ``del msg["id"]``, ``msg.clear()``)."""
    names = {param.name for param in route.function.body_params}
    removal = next((found for found in route.function.removals if found.name in names), None)
    if removal is None:
        return None
    name, code, line = removal.name, quote_code(removal.code), removal.line
    sent_back = f"the message that line {returned} sends back" if returned else "the message your reply sends back"
    if removal.how == "pop" and removal.used:
        read = removal.code.replace(f"{name}.pop(", f"{name}.get(", 1)
        return Words(
            f"`{code}` takes the field out of the message",
            f"Line {line} reads a field with `{code}`: `pop` gives the field's value and also removes the field "
            f"from `{name}`. So {sent_back} has lost that field.",
            f"Read it with `{quote_code(read)}` instead: `get` gives the same value and leaves the message whole.",
            line,
            replaced_in_line(c.text, line, removal.code, read),
        )
    what = "every field" if removal.how == "clear" else "a field"
    fix = (
        f"Remove `{code}` from line {line}: the message must come back with every field it was sent with."
        if not removal.used
        else f"Read the fields you need (`{name}.get(...)`) without taking them out of `{name}`."
    )
    return Words(
        f"`{code}` takes {what} out of the message",
        f"Line {line} runs `{code}`, which removes {what} from `{name}` itself, not from a copy. So {sent_back} "
        f"has lost {'its fields' if removal.how == 'clear' else 'that field'}.",
        fix,
        line,
    )


def _filtered_on_the_way_out(c: Context, route: Route, returned: int | None) -> Words | None:
    """A response model (``response_model=Reply``, ``-> Reply``) of the file's that keeps only its own fields."""
    declaration = route.response_declaration()
    if declaration is None:
        return None
    declared_as, line = declaration
    declared = c.model.class_named(declared_as.split("=", 1)[-1].removeprefix("-> ").rsplit(".", 1)[-1])
    if declared is None or declared.kind is None:
        return None
    fields = ", ".join(_field_words(c.model, name, annotation) for name, annotation, _ in declared.fields)
    sent = f"Line {returned} returns the message whole" if returned else "Your function returns the message whole"
    return Words(
        f"`{quote_code(declared_as)}` drops fields of your reply on the way out",
        f"{sent}, but after your function returns, FastAPI passes the reply through `{quote_code(declared_as)}` "
        f"(line {line}): it rebuilds it as a `{declared.name}` (line {declared.line}), which declares only "
        f"{fields or 'no fields'}, and drops every other field on the way out. The exercise sends objects of any shape.",
        f"Remove `{quote_code(declared_as)}` from line {line}: your function already returns the reply as it must be, "
        "and FastAPI then sends it as it is.",
        line,
        without_declaration(c.model, route, declared_as),
        "response_model",
    )


def _field_words(model: SourceModel, name: str, annotation: str) -> str:
    """A model's field for the learner: ``received`` (a `Message`, which declares only `text`)."""
    inner = model.class_named(annotation.rsplit(".", 1)[-1])
    if inner is None or inner.kind is None:
        return f"`{name}`"
    fields = ", ".join(f"`{field}`" for field, _, _ in inner.fields) or "no fields"
    return f"`{name}` (a `{inner.name}`, which declares only {fields})"


def _added_fields(c: Context) -> Words:
    found, text, path = c.found, c.text, c.path
    keys = ", ".join(f'"{key}"' for key in found.get("keys", ()))
    return Words(
        "The reply holds fields the message did not have",
        f"Your reply adds {keys or 'fields'} that the grader never sent; the message must come back exactly as it arrived.",
        "Send the message back unchanged: do not add fields to it.",
        text.quoted(found.get("keys", ("",))[0]) if found.get("keys") else text.returned(path),
    )


RULES: dict[str, Rule] = {
    "misspelt_key": _misspelt_key,
    "renamed_key": _renamed_key,
    "changed_keys": _changed_keys,
    "dropped_fields": _dropped_fields,
    "added_fields": _added_fields,
}
