"""Errors FastAPI raised itself, no line of the learner's running: a reply its ``response_model``
refuses, a route it refuses while the file loads, the ``Request`` returned as the reply. Each
points at the learner's line that set it up."""

from __future__ import annotations

import re

from grader.grading.evidence.exceptions.common import (
    Evidence,
    Explanation,
    replace_in_line,
    route_at,
    shown,
)
from grader.grading.evidence.source import Route, SourceModel
from grader.grading.report import FixPatch

INPUT_TYPES = {"dict": "dict", "list": "list", "str": "str", "int": "int", "float": "float", "bool": "bool"}


def response_model_refused(evidence: Evidence) -> Explanation | None:
    """The 500 after a handler returned what its ``response_model`` (or its ``-> type``) refuses.

    When the refused value is a field the model declares with another type, the edit gives the
    field the type returned; when the reply lacks the model's fields altogether (the model
    describes something else, often the incoming message), the edit removes the declaration.
    """
    if evidence.exception != "ResponseValidationError":
        return None
    route = evidence.route
    if route is None:
        return None
    function = route.function
    declaration = route.response_declaration()
    if declaration is None:
        return None
    declared_as, declared_line = declaration
    model_name = declared_as.split("=", 1)[-1].removeprefix("-> ").rsplit(".", 1)[-1]
    declared = evidence.model.class_named(model_name)
    issue = evidence.issues[0] if evidence.issues else None
    field = str(issue.loc[1]) if issue is not None and len(issue.loc) > 1 else None
    field_line = declared.field_line(field) if declared is not None and field else None
    said = (
        f" (pydantic: {issue.msg.lower()} at {'.'.join(str(p) for p in issue.loc[1:]) or 'the reply'})" if issue else ""
    )
    returned = function.returns[-1] if function.returns else None
    retype = field_line is not None and issue is not None and issue.type != "missing"
    if retype and declared is not None and issue is not None and field is not None and field_line is not None:
        # The field's value was refused (or something inside it): give the field the type returned.
        kind = ("dict" if isinstance(issue.loc[2], str) else "list") if len(issue.loc) > 2 else issue.input_kind
        annotation = next((a for _, a, line in declared.fields if line == field_line), "")
        patch = None
        if kind in INPUT_TYPES and annotation and annotation != kind:
            patch = replace_in_line(evidence.model, field_line, f"{field}: {annotation}", f"{field}: {kind}")
        where = f"the field `{field}` of `{model_name}` (line {field_line}: `{shown(evidence.model.code(field_line))}`)"
        fix = (
            f"Declare `{field}` with the type you return: `{field}: {kind}` on line {field_line}."
            if kind in INPUT_TYPES
            else f"Declare `{field}` on line {field_line} with the type of what you return."
        )
        line = field_line
    else:
        patch = without_declaration(evidence.model, route, declared_as)
        where = f"`{shown(declared_as)}` on line {declared_line}"
        fix = (
            f"Remove `{shown(declared_as)}` from line {declared_line}: FastAPI checks the reply against it, and your "
            "reply is not what it describes."
        )
        line = declared_line
    return Explanation(
        cause="response_model_refused",
        title=f"Your reply does not fit `{shown(declared_as)}`",
        explanation=(
            f"Your function `{function.name}` returned"
            + (f" `{shown(returned.text)}` (line {returned.line})" if returned else " its reply")
            + f", then FastAPI checked it against {where} and refused it{said}. No line of yours was running: "
            "FastAPI raised the error itself and answered 500 Internal Server Error."
        ),
        fix=fix,
        line=line,
        fix_patch=patch,
        raised_by_framework=True,
    )


def without_declaration(model: SourceModel, route: Route, declared_as: str) -> FixPatch | None:
    """The edit that removes ``response_model=...`` from the decorator, or ``-> type`` from the ``def`` line."""
    if declared_as.startswith("->"):
        return replace_in_line(model, route.function.line, f" {declared_as}", "")
    for written in (f", {declared_as}", f",{declared_as}", f"{declared_as}, ", declared_as):
        patch = replace_in_line(model, route.line, written, "")
        if patch is not None:
            return patch
    return None


def invalid_field_type(evidence: Evidence) -> Explanation | None:
    """FastAPI refusing, while the file loads, a type it cannot read a body into or write a reply from."""
    match = re.search(
        r"check that <class '(?:solution\.)?(?P<name>[\w.]+)'> is a valid Pydantic field type", evidence.message
    )
    if not match:
        return None
    name = match["name"].rsplit(".", 1)[-1]
    declared = evidence.model.class_named(name)
    route = evidence.route or route_at(evidence.model, evidence.line)
    if declared is None or route is None or declared.pydantic:
        return None
    line = route.line
    patch = None
    if "BaseModel" in evidence.model.names_in_scope() and not declared.bases:
        patch = replace_in_line(evidence.model, declared.line, f"class {name}:", f"class {name}(BaseModel):")
    return Explanation(
        cause="invalid_field_type",
        title=f"`{name}` is a plain class; FastAPI needs a pydantic model or a dict",
        explanation=(
            f"While your file was loading, FastAPI refused the route on line {route.line}: `{name}` (line "
            f"{declared.line}) is a plain Python class, so FastAPI does not know how to read a request's JSON into it. "
            "It reads bodies into a `dict` or into a pydantic model (`class Message(BaseModel)`)."
        ),
        fix=f"Declare the parameter as `msg: dict`, or make `{name}` a model: `class {name}(BaseModel):`.",
        line=line,
        fix_patch=patch,
        raised_by_framework=True,
    )


DICT_METHODS = frozenset(name for name in dir(dict) if not name.startswith("_"))
"""A dict's methods: one named without brackets in a reply is the method itself."""
URL_MARKERS = {"Query": "the URL's query string (`?msg=...`)", "Path": "the URL's path", "Header": "a header"}


def complex_from_url(evidence: Evidence) -> Explanation | None:
    """``msg: dict = Query()``: a dict cannot come from the URL; FastAPI refuses the route at load."""
    route = route_at(evidence.model, evidence.line)
    if route is None:
        return None
    for param in route.function.params:
        kind = (param.annotation_type or "").rsplit(".", 1)[-1]
        declared = evidence.model.class_named(kind)
        complex_type = kind in {"dict", "Dict", "list", "List"} or (declared is not None and declared.pydantic)
        if param.marker not in URL_MARKERS or not complex_type:
            continue
        patch = None
        if param.default and param.default == f"{param.marker}()":
            patch = replace_in_line(evidence.model, param.line, f" = {param.default}", "") or replace_in_line(
                evidence.model, param.line, f"={param.default}", ""
            )
        return Explanation(
            cause="complex_parameter_from_url",
            title=f"`{param.name}: {param.annotation}` cannot come from {URL_MARKERS[param.marker].split(' (')[0]}",
            explanation=(
                f"`{param.default}` on line {param.line} tells FastAPI to read `{param.name}` from "
                f"{URL_MARKERS[param.marker]}, which holds only plain text values, never a {kind}. FastAPI refused the "
                f"route on line {route.line} while your file was loading. The message comes in the request's body."
            ),
            fix=f"Remove `= {param.default}`: `{param.name}: {param.annotation}` alone makes FastAPI read it from the body.",
            line=param.line,
            fix_patch=patch,
            raised_by_framework=True,
        )
    return None


def route_refused(evidence: Evidence) -> Explanation | None:
    """Any other error FastAPI raised while registering a route as the file loaded."""
    route = route_at(evidence.model, evidence.line)
    if route is None or evidence.exception not in LOAD_TIME_FRAMEWORK_ERRORS:
        return None
    said = f" (`{evidence.exception}: {shown(evidence.message)}`)" if evidence.message else f" (`{evidence.exception}`)"
    return Explanation(
        cause="route_refused",
        title=f"FastAPI refused the route declared on line {route.line}",
        explanation=(
            f"While your file was loading, FastAPI checked the route `{shown(route.written)}` and the parameters of "
            f"`{route.function.name}` (line {route.function.line}), and refused them{said}. The error comes from FastAPI, "
            "not from a line of yours that ran."
        ),
        fix=(
            f"Check the decorator's arguments and the parameters of `{route.function.name}`: for this exercise "
            '`@app.post("/message")` and one parameter `msg: dict` are all it takes.'
        ),
        line=route.line,
        raised_by_framework=True,
    )


LOAD_TIME_FRAMEWORK_ERRORS = {
    "AssertionError",
    "FastAPIError",
    "PydanticSchemaGenerationError",
    "PydanticUserError",
    "ValueError",
    "TypeError",
    "RuntimeError",
}
"""What FastAPI and pydantic raise when they refuse a route's declaration."""


def returns_request(evidence: Evidence) -> Explanation | None:
    """The ``Request`` object returned (or put in the reply): FastAPI cannot turn it into JSON."""
    route = evidence.route
    if route is None or evidence.frame is not None:
        return None
    requests = {param.name for param in route.function.params if param.is_request}
    returned = next(
        (r for r in route.function.returns if r.text in requests or any(v in requests for v in r.values)), None
    )
    if returned is None:
        return None
    return Explanation(
        cause="returns_request",
        title="The reply holds the request object, not the message",
        explanation=(
            f"Line {returned.line} returns `{shown(returned.text)}`: FastAPI's `Request` is the whole incoming request "
            "(headers, connection, a body still to be read), and FastAPI cannot turn it into JSON, so it failed after "
            "your function returned and answered 500."
        ),
        fix='Return the message itself: declare the parameter `msg: dict` and return `{"received": msg}`.',
        line=returned.line,
        raised_by_framework=True,
    )


UNENCODABLE = re.compile(r"vars\(\) argument must have __dict__|is not JSON serializable|Unable to serialize")
"""What FastAPI's encoder says of a value it cannot turn into JSON."""


def unencodable_reply(evidence: Evidence) -> Explanation | None:
    """FastAPI could not turn what the endpoint returned into JSON (a method without its brackets, an object)."""
    route = evidence.route
    if route is None or evidence.frame is not None or not UNENCODABLE.search(evidence.message):
        return None
    returned = route.function.returns[-1] if route.function.returns else None
    if returned is None:
        return None
    method = next(
        (
            m
            for m in re.finditer(r"(?<![\w.])(?P<name>[A-Za-z_]\w*)\.(?P<attr>\w+)(?!\s*[\w(])", returned.text)
            if m["attr"] in DICT_METHODS
        ),
        None,
    )
    patch = None
    if method is not None:
        patch = replace_in_line(evidence.model, returned.line, method.group(0), method.group(0) + "()")
    return Explanation(
        cause="unencodable_reply",
        title="FastAPI could not turn your reply into JSON",
        explanation=(
            f"`{route.function.name}` returned `{shown(returned.text)}` (line {returned.line}), and part of it is not "
            "data: "
            + (
                f"`{method.group(0)}` is the method itself, not its result (no brackets, no call). "
                if method is not None
                else "a reply holds only dicts, lists, strings, numbers, true/false and None. "
            )
            + "FastAPI failed after your function returned and answered 500."
        ),
        fix=f"Call it: `{method.group(0)}()`." if method is not None else 'Return plain data: `{"received": msg}`.',
        line=returned.line,
        fix_patch=patch,
        raised_by_framework=True,
    )


def framework_raised(evidence: Evidence) -> Explanation | None:
    """Raised with no line of the learner's running: say so, and point at the route that set it up."""
    route = evidence.route
    if route is None:
        return None
    return Explanation(
        cause="framework_raised",
        title=f"FastAPI raised {evidence.exception} while handling your route",
        explanation=(
            f"No line of yours was running when `{evidence.exception}: {shown(evidence.message)}` was raised: FastAPI "
            f"raised it itself, before calling `{route.function.name}` or after it returned, while following what "
            f"your route declares (line {route.line}: `{shown(route.written)}`)."
        ),
        fix="Check what the decorator and the parameters declare against what the function receives and returns.",
        line=route.line,
        raised_by_framework=True,
    )
