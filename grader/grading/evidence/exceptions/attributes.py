"""AttributeError: the nearest real attribute ("did you mean `post`?") on the types the message names
and the file's own classes, a dict's key read with a dot, a string's method called on a number."""

from __future__ import annotations

import re

from grader.grading.evidence.exceptions.common import (
    Evidence,
    Explanation,
    closest_name,
    replace_in_line,
    shown,
)
from grader.grading.evidence.exceptions.type_errors import text_where_dict
from grader.grading.evidence.source import FASTAPI_STAR_NAMES, SourceModel

ROUTE_ATTRIBUTES = (
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "trace",
    "api_route",
    "route",
    "websocket",
    "include_router",
    "add_api_route",
    "middleware",
    "exception_handler",
    "on_event",
    "mount",
    "state",
    "router",
    "openapi",
)
"""What a FastAPI app or APIRouter offers that beginners reach for."""


REQUEST_ATTRIBUTES = (
    "json",
    "body",
    "form",
    "stream",
    "headers",
    "query_params",
    "path_params",
    "cookies",
    "method",
    "url",
    "client",
    "state",
    "app",
)
"""What Starlette's ``Request`` offers."""


TYPE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "dict": tuple(name for name in dir(dict) if not name.startswith("_")),
    "list": tuple(name for name in dir(list) if not name.startswith("_")),
    "str": tuple(name for name in dir(str) if not name.startswith("_")),
    "int": tuple(name for name in dir(int) if not name.startswith("_")),
    "FastAPI": ROUTE_ATTRIBUTES,
    "APIRouter": ROUTE_ATTRIBUTES,
    "Request": REQUEST_ATTRIBUTES,
}
"""The attributes of the types whose names appear in AttributeError messages, as far as we know them."""


MODULE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "json": ("dumps", "loads", "dump", "load", "JSONDecodeError"),
    "time": ("sleep", "time", "monotonic", "perf_counter", "strftime", "localtime", "gmtime"),
    "random": ("random", "randint", "choice", "shuffle", "uniform", "sample"),
    "fastapi": tuple(FASTAPI_STAR_NAMES),
    "datetime": ("datetime", "date", "time", "timedelta", "timezone"),
    "math": ("sqrt", "floor", "ceil", "pi", "pow", "isclose"),
}
"""The attributes of modules beginners import, for "did you mean" (never imported here)."""


VALUE_TYPES = {
    "int": "a whole number",
    "float": "a decimal number",
    "bool": "true or false",
    "NoneType": "null (None)",
    "dict": "an object (a dict)",
    "list": "a list",
}
"""The JSON values that are not strings, as their Python types are named in messages."""


STRING_METHODS = (
    frozenset(name for name in dir(str) if not name.startswith("_")) - frozenset(dir(dict)) - frozenset(dir(list))
)
"""Methods only strings have (a dict's ``.items`` or a list's ``.count`` are not evidence)."""


DICT_ONLY_METHODS = frozenset(name for name in dir(dict) if not name.startswith("_")) - frozenset(dir(str))
"""Methods a dict has and a string has not (``items``, ``keys``, ``get``...)."""
OWNER_WORDS = {
    "FastAPI": "your FastAPI app",
    "APIRouter": "a router",
    "Request": "the request",
    "dict": "a dict",
    "list": "a list",
    "str": "a string",
    "int": "a whole number",
}
"""Types named in AttributeError messages, in words."""


PYDANTIC_METHODS = ("model_dump", "model_dump_json", "model_copy", "model_fields", "dict", "json")
"""What a pydantic model offers besides its fields."""


OBJECT_ATTRIBUTE = re.compile(r"^'(?P<type>\w+)' object has no attribute '(?P<name>\w+)'")


MODULE_ATTRIBUTE = re.compile(r"^module '(?P<module>[\w.]+)' has no attribute '(?P<name>\w+)'")


def json_method_on_dict(evidence: Evidence) -> Explanation | None:
    """``msg.json()`` on the dict FastAPI already made (as on a ``requests`` response)."""
    match = re.match(r"'dict' object has no attribute '(json|body|text|content)'", evidence.message)
    if not match:
        return None
    call = re.search(r"(?P<name>[A-Za-z_]\w*)\." + match.group(1) + r"\(\s*\)", evidence.code)
    if call is None:
        return None
    return Explanation(
        cause="method_on_message",
        title=f"`{call['name']}` is already the message: it has no `.{match.group(1)}()`",
        explanation=(
            f"On line {evidence.line}, `{call.group(0)}` asks the message for `.{match.group(1)}()`, as one does with "
            f"a response from `requests` or with FastAPI's `Request`. Your parameter `{call['name']}` is already the "
            "request's JSON turned into a dict by FastAPI, and a dict has no such method."
        ),
        fix=f"Use `{call['name']}` itself instead of `{call.group(0)}`.",
        line=evidence.line,
        fix_patch=replace_in_line(evidence.model, evidence.line, call.group(0), call["name"]),
    )


def string_method_on_value(evidence: Evidence) -> Explanation | None:
    """``value.strip()`` on every value: numbers, booleans, null and nested values have no string methods."""
    match = OBJECT_ATTRIBUTE.match(evidence.message)
    if not match or match["type"] not in VALUE_TYPES or match["name"] not in STRING_METHODS:
        return None
    if not re.search(rf"\.{match['name']}\b", evidence.code):
        return None
    kind, method = VALUE_TYPES[match["type"]], match["name"]
    return Explanation(
        cause="string_method_on_value",
        title=f"`.{method}()` is a string's method, and not every value is a string",
        explanation=(
            f"On line {evidence.line}, `{shown(evidence.code)}` calls `.{method}()` on a value that was {kind}. "
            "A message's values can be numbers, true/false, null, lists or objects as well as strings, and only "
            f"strings have `.{method}()`."
        ),
        fix="Send the values back as they came, without calling string methods on them.",
        line=evidence.line,
    )


def dict_method_on_text(evidence: Evidence) -> Explanation | None:
    """``data.items()`` where ``data`` is text (``json.dumps(msg)``, a ``str`` parameter)."""
    match = OBJECT_ATTRIBUTE.match(evidence.message)
    if not match or match["type"] != "str" or match["name"] not in DICT_ONLY_METHODS:
        return None
    if not re.search(rf"\.{match['name']}\b", evidence.code):
        return None
    return text_where_dict(evidence, f"calls `.{match['name']}()`, a dict's method, on a value")


def attribute_error(evidence: Evidence) -> Explanation | None:
    match = OBJECT_ATTRIBUTE.match(evidence.message) or MODULE_ATTRIBUTE.match(evidence.message)
    if not match:
        return None
    name = match["name"]
    if not re.search(rf"\.\s*{name}\b", evidence.code):
        return None  # the line does not read it: some other code did, and this line cannot be blamed
    owner = match.groupdict().get("type") or match.groupdict().get("module") or ""
    known = TYPE_ATTRIBUTES.get(owner) or MODULE_ATTRIBUTES.get(owner) or _class_attributes(evidence.model, owner)
    nearest = closest_name(name, known)
    line = evidence.line
    if owner == "dict" and nearest is None:
        base = re.search(r"(?P<base>[A-Za-z_]\w*)\." + re.escape(name) + r"\b(?!\s*\()", evidence.code)
        patch = None
        if base:
            patch = replace_in_line(evidence.model, line, f"{base['base']}.{name}", f'{base["base"]}["{name}"]')
        return Explanation(
            cause="attribute_on_dict",
            title=f'A dict\'s keys are read with brackets: `["{name}"]`, not `.{name}`',
            explanation=(
                f"On line {line}, `{shown(evidence.code)}` reads `.{name}` from a dict. A dict holds keys, read as "
                f'`msg["{name}"]`; a dot reads an attribute, and a dict has no attribute `{name}`.'
            ),
            fix=f'Write `["{name}"]` instead of `.{name}`.',
            line=line,
            fix_patch=patch,
        )
    if nearest is None:
        return None
    what = f"the module `{owner}`" if "module" in match.groupdict() else OWNER_WORDS.get(owner, f"a `{owner}`")
    return Explanation(
        cause="attribute_typo",
        title=f"`.{name}` does not exist on {what}: did you mean `.{nearest}`?",
        explanation=(
            f"On line {line}, `{shown(evidence.code)}` asks {what} for `{name}`, which it does not have. "
            f"Python's names are exact, capitals included; the closest one it has is `{nearest}`."
        ),
        fix=f"Write `.{nearest}` instead of `.{name}`.",
        line=line,
        fix_patch=replace_in_line(evidence.model, line, f".{name}", f".{nearest}", word=True),
    )


def _class_attributes(model: SourceModel, name: str) -> tuple[str, ...]:
    """What an object of the file's own class ``name`` has, as far as its source shows."""
    declared = model.class_named(name)
    if declared is None:
        return ()
    fields = tuple(field for field, _, _ in declared.fields)
    return fields + (PYDANTIC_METHODS if declared.pydantic else ())
