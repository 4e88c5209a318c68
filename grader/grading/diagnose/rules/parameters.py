"""Parameters: how the endpoint takes the request's body."""

from __future__ import annotations

import re

from grader.grading.compare import json_type
from grader.grading.diagnose.responses import NOT_JSON, parse_body
from grader.grading.diagnose.source import Source
from grader.grading.diagnose.wording import Context, Rule, Words, replaced_in_line
from grader.grading.evidence import Param
from grader.grading.evidence.refusals import explain_refusal, validation_issues
from grader.grading.report import CaseResult


def _accepts_non_objects(c: Context) -> Words:
    cases, text, path = c.cases, c.text, c.path
    route = c.route
    read = (
        text.find(r"await\s+\w+\.json\s*\(\s*\)", route.function.line, route.function.end_line)
        if route is not None
        else None
    )
    line = read or text.endpoint(path)
    sent = ", ".join(sorted({_kind_of_body(case) for case in cases}))
    return Words(
        "Your endpoint accepts bodies that are not JSON objects",
        f"The grader sent {sent} and expected 422 Unprocessable Entity, the answer FastAPI gives by itself when a "
        "body does not fit the parameter's type. Your endpoint took them in instead.",
        "Declare the body parameter as a dict, `msg: dict`, and let FastAPI refuse everything else.",
        line,
    )


def _kind_of_body(case: CaseResult) -> str:
    parsed = parse_body(case.request.body)
    if parsed is NOT_JSON:
        return "broken JSON"
    return {"array": "an array", "string": "a bare string"}.get(json_type(parsed), f"a JSON {json_type(parsed)}")


# Codes of evidence's explanations of FastAPI's refusals, as the corpus names them.
REFUSAL_CAUSES = {
    "body_embed": "body_embed",
    "body_read_from_query": "query_parameter",
    "form_not_json": "form_parameter",
    "narrow_annotation": "wrong_annotation",
    "model_requires_field": "model_fields",
    "model_field_type": "model_fields",
}
SCALARS = {"str", "int", "float", "bool", "bytes"}


def _refused_valid(c: Context) -> Words:
    """FastAPI refused valid messages: told by how the endpoint declares its parameter."""
    route = c.route
    params = route.function.body_params if route is not None else ()
    for param in params:
        if param.embedded:
            return _embedded(c, param)
    if len(params) == 1:
        param = params[0]
        annotation = (param.annotation or "").replace(" ", "")
        if not annotation or annotation in SCALARS:
            return _query_parameter(c, param)
        if annotation not in ("dict", "Dict", "typing.Dict") and c.model.class_named(annotation) is None:
            return _wrong_annotation(c, param)
    for case in c.cases:
        explained = explain_refusal(validation_issues(case.received.body), c.model, path=c.path, method=c.method)
        if explained is not None:
            return Words(
                explained.title,
                explained.explanation,
                explained.fix,
                explained.line,
                explained.fix_patch,
                REFUSAL_CAUSES.get(explained.cause, "refused_valid"),
            )
    # Neither the declaration nor the refusal shows why: say what happened, and offer no code.
    return Words(
        "Your endpoint refuses valid messages (422)",
        "FastAPI refused some of the grader's JSON objects with 422 Unprocessable Entity before your function ran, "
        "so the way your endpoint declares what it takes does not fit every object.",
        "Compare the objects of the refused cases below with what your endpoint's parameters declare.",
        route.function.line if route is not None else c.text.endpoint(c.path),
    )


def _embedded(c: Context, param: Param) -> Words:
    wrapped = "{" + f'"{param.name}": ' + "{...}}"
    patch = None
    for old in (", embed=True", "embed=True, ", "embed=True"):
        patch = patch or replaced_in_line(c.text, param.line, old, "")
    return Words(
        "`embed=True` makes FastAPI look for the message one level down",
        f"`Body(embed=True)` on line {param.line} tells FastAPI that the body is an object holding the message "
        f"under the parameter's name, {wrapped}. The grader sends the message itself, which has no "
        f'"{param.name}" key, so FastAPI refused it with 422 before your function ran.',
        f"Remove `embed=True`: then `{param.name}` is the whole body.",
        param.line,
        patch,
        "body_embed",
    )


def _query_parameter(c: Context, param: Param) -> Words:
    declared = f"`{param.name}: {param.annotation}`" if param.annotation else f"`{param.name}` with no type"
    # Only a parameter that already stands for the whole message keeps its name and its uses.
    patch = (
        replaced_in_line(c.text, param.line, _declared(param), f"{param.name}: dict")
        if param.name == c.parameter and param.name in ("msg", "message", "body", "data", "payload")
        else None
    )
    return Words(
        "FastAPI reads your parameter from the query string, not the body",
        f"Line {param.line} declares {declared}. FastAPI reads a parameter of a simple type (or of no type) "
        f"from the query string of the address (`{c.path}?{param.name}=...`), not from the body, so the grader's "
        "JSON object was never looked at and every request was refused with 422.",
        "Declare one parameter for the whole JSON body, `msg: dict`, and send that back.",
        param.line,
        patch,
        "query_parameter",
    )


def _declared(param: Param) -> str:
    return f"{param.name}: {param.annotation}" if param.annotation else param.name


def _wrong_annotation(c: Context, param: Param) -> Words:
    annotation = param.annotation or ""
    fitting = param.name == c.parameter and not annotation.lower().startswith(("list", "typing.list"))
    return Words(
        f"`{annotation}` does not take every JSON object",
        f"Line {param.line} declares `{param.name}: {annotation}`. FastAPI checks each body against that type and "
        "refuses with 422 the objects that do not fit it, while the exercise sends JSON objects with values of "
        "every type.",
        f"Declare it as any JSON object: `{param.name if fitting else 'msg'}: dict`.",
        param.line,
        replaced_in_line(c.text, param.line, f"{param.name}: {annotation}", f"{param.name}: dict") if fitting else None,
        "wrong_annotation",
    )


def _model_fields(c: Context) -> Words:
    """The body is read through a class of the file: it keeps the declared fields only."""
    found = c.model.body_model(c.route)
    if found is None:
        return Words(
            "Your model keeps only the fields it declares",
            "Your endpoint reads the body through a model, and a model keeps only the fields it declares: it drops "
            "every other field and refuses messages without its own (422). The exercise sends objects of any shape.",
            f"Declare the parameter as `{c.parameter}: dict` instead of the model, so every field comes back as sent.",
            c.route.function.line if c.route is not None else c.text.endpoint(c.path),
        )
    param, declared = found
    fields = ", ".join(f"`{name}`" for name, _, _ in declared.fields)
    refused = sum(1 for case in c.cases if case.received.status == 422)
    shown = []
    if refused < len(c.cases):
        shown.append("dropped the other fields of the messages it took")
    if refused:
        shown.append(f"refused {refused} message{'s' if refused != 1 else ''} that did not fit those fields (422)")
    # Only a parameter sent back as it came can become a dict: `msg.text` would break on one.
    used_as_object = c.model.find(
        re.compile(rf"(?<![\w.]){re.escape(param.name)}\s*\."), param.line, c.route.function.end_line if c.route else 0
    )
    annotation = param.annotation or declared.name
    patch = (
        replaced_in_line(c.text, param.line, f"{param.name}: {annotation}", f"{param.name}: dict")
        if used_as_object is None
        else None
    )
    return Words(
        f"Your {declared.kind} `{declared.name}` keeps only the fields it declares",
        f"`{param.name}: {annotation}` on line {param.line} makes FastAPI read the body through `{declared.name}`, "
        f"a {declared.kind} (line {declared.line}) that declares only {fields}. So FastAPI "
        f"{' and '.join(shown)}, before your function ran. The exercise sends objects of any shape.",
        f"Declare the parameter as `{param.name}: dict` instead of `{declared.name}`, so every field comes back "
        "exactly as sent.",
        declared.line,
        patch,
    )


def _json_not_awaited(c: Context) -> Words:
    text = c.text
    line = unawaited_json_line(text)
    called = re.search(r"\b(\w+)\.(json|body|form)\(\)", text.code(line))
    call = called.group(0) if called else "request.json()"
    function = c.model.function_at(line)
    is_async = function is None or function.is_async
    if is_async:
        fix = f"Write `await {call}`, or simpler: declare the parameter `msg: dict` and let FastAPI read the body."
        # Awaiting fixes the crash; broken input the card explains needs `msg: dict` instead.
        refusals = any((case.expected.status or 0) >= 400 for case in c.cases)
        patch = replaced_in_line(text, line, call, f"await {call}") if called and not refusals else None
    else:
        fix = (
            f"`await` works only inside `async def`: make the function `async def` and write `await {call}`; or, "
            "simpler, declare the parameter `msg: dict` and let FastAPI read the body."
        )
        patch = None
    return Words(
        f"`{call}` is not awaited",
        f"`{call}` does not give the data straight away: it gives a coroutine, a promise of the data that only "
        "`await` fulfils. Your endpoint used that coroutine as if it were the message, so it crashed and FastAPI "
        "answered 500 Internal Server Error.",
        fix,
        line,
        patch,
    )


def not_awaited(cases: list[CaseResult], text: Source) -> bool:
    """Whether the crash is a coroutine of the request's own reads (``request.json()``) used as data."""
    output = "\n".join(case.program_output or "" for case in cases)
    return unawaited_json_line(text) is not None and "coroutine" in output


def unawaited_json_line(text: Source) -> int | None:
    return text.find(r"(?<!await )(?<!await\s\()\b\w+\.(json|body|form)\(\)")


RULES: dict[str, Rule] = {
    "accepts_non_objects": _accepts_non_objects,
    "refused_valid": _refused_valid,
    "model_fields": _model_fields,
    "json_not_awaited": _json_not_awaited,
}
