"""Reply shapes: what the return statement builds, read from the code (a tuple, text, a list of keys...).

The response shows only that the reply has another shape; the return statement
shows which one and why. ``shape_of`` finds a shape the code itself gets wrong
(independent of any case), so the grouping can fold every case it spoils into one
card; ``_wrong_shape`` words it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from grader.grading.diagnose.wording import Context, Rule, Words, line_patch, quote_code
from grader.grading.evidence import Param, Return, Route, SourceModel
from grader.grading.report import FixPatch

TEXT_RESPONSES = {"PlainTextResponse", "HTMLResponse"}
METHODS = "copy|items|keys|values|get|json|dict|model_dump|strip|lower|upper"
LIST_CALLS = re.compile(r"(?<![\w.])(sorted|list)\s*\(|\.(items|keys|values)\s*\(\s*\)")


@dataclass(frozen=True)
class Shape:
    """A reply shape the code gets wrong: its cause, the line, and the code at fault."""

    cause: str
    line: int
    code: str


def shape_of(model: SourceModel, path: str, method: str) -> Shape | None:
    """The wrong shape the route for ``path`` builds, when its code shows one."""
    route = model.route_for(path, method)
    if route is None:
        return None
    declared = _response_class(model, route)
    if declared is not None:
        return declared
    params = route.function.params
    for returned in route.function.returns:
        found = _returned_shape(returned, params)
        if found is not None:
            return found
    added = _key_added_to_message(model, route)
    if added is not None:
        return added
    raw = model.find(r"await\s+\w+\.body\s*\(\s*\)", route.function.line, route.function.end_line)
    if raw is not None:
        return Shape("raw_body", raw, model.code(raw))
    return None


def _response_class(model: SourceModel, route: Route) -> Shape | None:
    if route.response_class in TEXT_RESPONSES:
        return Shape("response_class", route.line, route.response_class)
    for binding in model.apps:
        declared = re.search(r"default_response_class\s*=\s*(\w+)", binding.arguments)
        if binding.kind == "app" and declared and declared.group(1) in TEXT_RESPONSES:
            return Shape("response_class", binding.line, declared.group(1))
    return None


def _returned_shape(returned: Return, params: tuple[Param, ...]) -> Shape | None:
    text = returned.text
    names = {param.name for param in params}
    if returned.kind == "tuple":
        return Shape("tuple_reply", returned.line, text)
    if returned.kind in ("string", "fstring") or (
        returned.kind == "other" and re.search(r"""["']\s*\+|\+\s*["']""", text)
    ):
        return Shape("string_reply", returned.line, text)
    if returned.kind == "name" and any(p.is_request and p.name == text for p in params):
        return Shape("returns_request", returned.line, text)
    uncalled = re.search(rf"\b(?P<name>\w+)\.(?P<method>{METHODS})\b(?!\s*\()", text)
    if uncalled and uncalled.group("name") in names:
        return Shape("method_not_called", returned.line, uncalled.group(0))
    formatted = re.search(r"""f(["'])\{(?P<name>\w+)\}\1""", text)
    if formatted and formatted.group("name") in names:
        return Shape("str_message", returned.line, formatted.group(0))
    listed = LIST_CALLS.search(text)
    if (
        returned.kind == "dict"
        and listed
        and " for " not in text
        and any(re.search(rf"\b{re.escape(n)}\b", text) for n in names)
    ):
        return Shape("sorted_items", returned.line, listed.group(0).strip("(").strip())
    return None


def _key_added_to_message(model: SourceModel, route: Route) -> Shape | None:
    """The endpoint puts a key into the message it received, then returns the message itself."""
    body = {param.name for param in route.function.body_params}
    for returned in route.function.returns:
        if returned.kind != "name" or returned.text not in body:
            continue
        name = re.escape(returned.text)
        changed = rf"^\s*{name}\s*\[[^\]]+\]\s*=(?!=)|^\s*{name}\s*\.\s*(update|setdefault)\s*\("
        line = model.find(changed, route.function.line + 1, returned.line - 1)
        if line is not None:
            return Shape("key_added_to_message", line, model.code(line))
    return None


def _wrong_shape(c: Context) -> Words:
    shape = shape_of(c.model, c.path, c.method)
    if shape is None:  # the fold only groups cases when the code shows a shape
        return Words("The reply has another shape", "The reply is not the object the exercise asks for.", "", None)
    return WORDING[shape.cause](c, shape)


def _reply_patch(c: Context, shape: Shape) -> Words:
    return Words("", "", "", shape.line, line_patch(c.text, shape.line, f"return {c.reply()}"))


def _tuple_reply(c: Context, shape: Shape) -> Words:
    status = re.match(r"^(?P<body>.+),\s*(?P<status>\d{3})\s*$", shape.code)
    if status:
        return Words(
            f"`return ..., {status.group('status')}` sends a tuple, not a reply with a status",
            f"Line {shape.line} returns `{quote_code(shape.code)}`: two values separated by a comma make a tuple, "
            "which FastAPI sends as a JSON array. A status is not given that way in FastAPI: it is the "
            "decorator's `status_code`, and 200 is already the default.",
            f"Return the dict alone: `return {quote_code(status.group('body'))}`.",
            shape.line,
            line_patch(c.text, shape.line, f"return {status.group('body')}"),
            "tuple_reply",
        )
    return Words(
        "The reply is a tuple, sent as a JSON array",
        f"Line {shape.line} returns `{quote_code(shape.code)}`: values separated by commas make a tuple (the "
        "brackets do not matter), and FastAPI sends a tuple as a JSON array. The exercise expects an object, "
        "which is a dict, written with braces and a colon between the key and its value.",
        f"Return a dict: `return {c.reply()}`.",
        shape.line,
        _reply_patch(c, shape).patch,
        "tuple_reply",
    )


def _string_reply(c: Context, shape: Shape) -> Words:
    return Words(
        "The reply is a string, not an object",
        f"Line {shape.line} returns `{quote_code(shape.code)}`, which is text: FastAPI sends it as one JSON "
        "string, and the exercise expects an object holding the message itself.",
        f"Return a dict: `return {c.reply()}`.",
        shape.line,
        _reply_patch(c, shape).patch,
        "string_reply",
    )


def _str_message(c: Context, shape: Shape) -> Words:
    name = re.sub(r"""^f["']\{|\}["']$""", "", shape.code)
    return Words(
        f"`{quote_code(shape.code)}` turns the message into a string",
        f"Line {shape.line} puts `{quote_code(shape.code)}` in the reply: an f-string makes text out of the dict, "
        "so the client receives one string instead of the message's object.",
        f"Put the message itself in the reply: `{name}` instead of `{quote_code(shape.code)}`.",
        shape.line,
        line_patch(c.text, shape.line, c.text.code(shape.line).replace(shape.code, name, 1)),
        "str_message",
    )


def _sorted_items(c: Context, shape: Shape) -> Words:
    return Words(
        f"`{quote_code(shape.code)}` turns the message into a list",
        f"Line {shape.line} sends `{quote_code(shape.code)}` of the message: `sorted`, `keys()`, `items()` and "
        "`values()` give a list, which travels as a JSON array, not as the object that was sent.",
        f"Send the message itself: `return {c.reply()}`.",
        shape.line,
        _reply_patch(c, shape).patch,
        "sorted_items",
    )


def _returns_request(c: Context, shape: Shape) -> Words:
    return Words(
        "Your endpoint returns the Request object, not the message",
        f"Line {shape.line} returns `{shape.code}`, the whole HTTP request (a `Request`), which FastAPI cannot turn "
        "into JSON, so the request fails. The message is what the request carries.",
        f"Let FastAPI read the message for you: declare the parameter as `msg: dict` and `return {c.reply()}`.",
        shape.line,
        None,
        "returns_request",
    )


def _method_not_called(c: Context, shape: Shape) -> Words:
    called = f"{shape.code}()"
    return Words(
        f"`{shape.code}` names the method; `{called}` calls it",
        f"Line {shape.line} puts `{shape.code}` in the reply: without brackets that is the method itself, not what "
        "it gives back, and a method cannot be turned into JSON, so FastAPI failed with 500.",
        f"Add the brackets: `{called}`.",
        shape.line,
        line_patch(c.text, shape.line, c.text.code(shape.line).replace(shape.code, called, 1)),
        "method_not_called",
    )


def _raw_body(_c: Context, shape: Shape) -> Words:
    return Words(
        "The reply holds the body's raw bytes, not the message",
        f"Line {shape.line} reads `{quote_code(shape.code.split('=', 1)[-1].strip())}`: the body as it "
        "travelled, bytes of text, which come back as one string. The message is the object that text holds.",
        "Let FastAPI read the object for you: declare the parameter as `msg: dict` and return it under the key.",
        shape.line,
        None,
        "raw_body",
    )


def _key_added(c: Context, shape: Shape) -> Words:
    reply = c.reply()
    end = c.route.function.end_line if c.route is not None else None
    returned = c.text.find(rf"^\s*return\s+{re.escape(c.parameter)}\s*$", shape.line + 1, end)
    patch = None
    if returned == shape.line + 1:
        # Both lines go: the key is no longer added, and the reply is built around the untouched message.
        before = c.text.lines[shape.line - 1] + "\n" + c.text.lines[returned - 1]
        indent = before[: len(before) - len(before.lstrip())]
        patch = FixPatch(shape.line, before, f"{indent}return {reply}")
    sends = f", and line {returned} sends the message back" if returned else ", then sends the message back"
    return Words(
        "The reply is the message itself with a key added, not the message inside a new object",
        f"Line {shape.line} changes the message your endpoint received (`{quote_code(shape.code)}`){sends}: the "
        "fields the client sent stay at the top of your reply, beside the added key. The exercise wants a new "
        f"object whose one key holds the message unchanged: `{reply}`.",
        f"Leave the message as it arrived and build the reply around it: delete line {shape.line} and return "
        f"`{reply}`.",
        shape.line,
        patch,
        "key_added_to_message",
    )


def _text_response(c: Context, shape: Shape) -> Words:
    code = c.text.lines[shape.line - 1]
    fixed = re.sub(rf"\s*,?\s*(default_)?response_class\s*=\s*{re.escape(shape.code)}\s*,?", "", code)
    fixed = fixed.replace("(,", "(").replace(", )", ")")
    default = "default_response_class" in code
    setting = "`default_response_class`" if default else "`response_class`"
    return Words(
        f"{setting} says {shape.code}, and your endpoint returns a dict",
        f"Line {shape.line} sets {setting} to `{shape.code}`: FastAPI then sends what the endpoint returns as "
        f"text, not as JSON, so the dict your endpoint returns does not reach the client as an object.",
        f"Remove `{'default_response_class' if default else 'response_class'}={shape.code}`: FastAPI's default response is JSON.",
        shape.line,
        line_patch(c.text, shape.line, fixed) if fixed != code else None,
        "response_class",
    )


WORDING: dict[str, Callable[[Context, Shape], Words]] = {
    "tuple_reply": _tuple_reply,
    "string_reply": _string_reply,
    "str_message": _str_message,
    "sorted_items": _sorted_items,
    "returns_request": _returns_request,
    "raw_body": _raw_body,
    "method_not_called": _method_not_called,
    "response_class": _text_response,
    "key_added_to_message": _key_added,
}

RULES: dict[str, Rule] = {"reply_shape": _wrong_shape}
