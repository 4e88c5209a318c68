"""FastAPI's own refusals (422 before the endpoint ran) tied to the parameter that caused them.

When FastAPI refuses a request, no line of the learner's runs: it checked the
request against what the route's parameters declare. The refusal's body says
where it looked (``loc``: ``("body", "msg")``, ``("query", "msg")``) and what it
missed (``type``: ``missing``, ``dict_type``...). ``explain_refusal`` reads that
with the route's parameters and names the declaration at fault:
``Body(embed=True)`` expecting the message wrapped under its name, a parameter
without a type read from the query string, two body parameters, ``Form()``, a
type narrower than a JSON object, a pydantic model's required field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from grader.grading.evidence.exceptions import Explanation, checked, replace_in_line
from grader.grading.evidence.exceptions.common import code_positions
from grader.grading.evidence.source import Param, Route, SourceModel
from grader.grading.evidence.tracebacks import ValidationIssue
from grader.grading.report import FixPatch

MAX_ISSUES = 20
NARROW_TYPES = {"str", "int", "float", "bool", "list", "List", "bytes", "set", "tuple"}
"""Annotations that refuse a JSON object."""
SCALAR_TYPES = {"str", "int", "float", "bool"}
"""Annotations FastAPI reads from the query string when nothing says otherwise."""


def validation_issues(body: str | None) -> tuple[ValidationIssue, ...]:
    """The items of FastAPI's 422 body (``{"detail": [{"type", "loc", "msg"}, ...]}``); empty when it is not one."""
    try:
        data = json.loads(body or "")
    except (ValueError, RecursionError):
        return ()
    detail = data.get("detail") if isinstance(data, dict) else None
    if not isinstance(detail, list):
        return ()
    found = []
    for item in detail[:MAX_ISSUES]:
        if not isinstance(item, dict) or not isinstance(item.get("loc"), list):
            continue
        loc = tuple(part for part in item["loc"] if isinstance(part, (str, int)) and not isinstance(part, bool))
        kind = item.get("input")
        found.append(
            ValidationIssue(str(item.get("type", ""))[:60], loc, str(item.get("msg", ""))[:200], _kind_of(kind))
        )
    return tuple(found)


def _kind_of(value: object) -> str:
    kinds: dict[type, str] = {dict: "dict", list: "list", str: "str", bool: "bool", int: "int", float: "float"}
    return "None" if value is None else kinds.get(type(value), "")


def explain_refusal(
    issues: tuple[ValidationIssue, ...], model: SourceModel, *, path: str, method: str | None = None
) -> Explanation | None:
    """Why FastAPI refused a request before calling the endpoint, from the route's declaration; None when unclear."""
    route = model.route_for(path, method)
    if route is None or not issues:
        return None
    for rule in REFUSAL_RULES:
        for issue in issues:
            found = rule(issue, route, model)
            if found is not None:
                return checked(found, model)
    return None


def _param_at(route: Route, issue: ValidationIssue, where: str) -> Param | None:
    if len(issue.loc) < 2 or issue.loc[0] != where:
        return None
    return route.function.param(str(issue.loc[1]))


def _kind(param: Param) -> str:
    return (param.annotation_type or "").rsplit(".", 1)[-1].split("[", 1)[0]


def _declared(param: Param) -> str:
    written = param.name + (f": {param.annotation}" if param.annotation else "")
    return written + (f" = {param.default}" if param.default else "")


def _embedded(issue: ValidationIssue, route: Route, model: SourceModel) -> Explanation | None:
    """``Body(embed=True)``: FastAPI expects ``{"msg": {...}}``, the message under the parameter's name."""
    param = _param_at(route, issue, "body")
    if param is None or issue.type != "missing" or not param.embedded:
        return None
    patch = None
    for written in re.findall(
        r"embed\s*=\s*True\s*,\s*|,\s*embed\s*=\s*True|embed\s*=\s*True", model.line_text(param.line)
    ):
        patch = replace_in_line(model, param.line, written, "")
        if patch is not None:
            break
    return Explanation(
        cause="body_embed",
        title=f'`Body(embed=True)` makes FastAPI look for the message under "{param.name}"',
        explanation=(
            f"On line {param.line}, `{_declared(param)}` tells FastAPI that the body is an object holding the message "
            f'under the key "{param.name}": {{"{param.name}": {{...}}}}. The grader sends the message itself, which has '
            f'no key "{param.name}", so FastAPI refused it (422, "Field required") before calling '
            f"`{route.function.name}`."
        ),
        fix=f"Remove `embed=True`: with `{param.name}: {param.annotation or 'dict'}` FastAPI gives you the body itself.",
        line=param.line,
        fix_patch=patch,
        raised_by_framework=True,
    )


def _several_body_parameters(issue: ValidationIssue, route: Route, _model: SourceModel) -> Explanation | None:
    """Two body parameters: FastAPI then expects each under its own name."""
    param = _param_at(route, issue, "body")
    body = [p for p in route.function.body_params if p.marker in (None, "Body") and _kind(p) not in SCALAR_TYPES]
    if param is None or issue.type != "missing" or len(body) < 2 or param not in body:
        return None
    names = ", ".join(f"`{p.name}`" for p in body)
    keys = ", ".join(f'"{p.name}": ...' for p in body)
    return Explanation(
        cause="several_body_parameters",
        title=f"Several body parameters ({names}): FastAPI expects each under its own name",
        explanation=(
            f"`{route.function.name}` (line {route.function.line}) has {len(body)} parameters read from the body. "
            f"FastAPI then expects one object holding each under its name ({{{keys}}}), so the grader's message, "
            "which has no such keys, was refused (422) before your function ran."
        ),
        fix=f"Keep one body parameter: `{body[0].name}: dict` receives the whole message.",
        line=route.function.line,
        raised_by_framework=True,
    )


def _read_from_query(issue: ValidationIssue, route: Route, model: SourceModel) -> Explanation | None:
    """A parameter without a type, or with a plain one, is read from the URL's query string."""
    param = _param_at(route, issue, "query")
    if param is None or param.marker not in (None, "Query"):
        return None
    kind = _kind(param)
    if kind and kind not in SCALAR_TYPES:
        return None
    line_text = model.line_text(param.line)
    patch = None
    sent_back = any(param.name in returned.values for returned in route.function.returns)
    if param.marker is None and param.default is None and sent_back:
        # Only when it is sent back as it came ({"received": msg}): as a dict it is then the whole message.
        written = re.search(
            rf"(?<![\w.]){re.escape(param.name)}\s*(:\s*{re.escape(param.annotation or '')})?(?=\s*[,)])", line_text
        )
        if written is not None:
            patch = replace_in_line(model, param.line, written.group(0), f"{param.name}: dict")
    declared = f"`{param.name}: {param.annotation}`" if param.annotation else f"`{param.name}` with no type"
    body = next((other for other in route.function.body_params if other is not param and _takes_body(other)), None)
    if body is not None:
        return _extra_query_parameter(param, body, route, model, declared)
    return Explanation(
        cause="body_read_from_query",
        title=f"`{param.name}` is read from the URL, not from the body",
        explanation=(
            f"On line {param.line}, {declared} tells FastAPI to look for `{param.name}` in the URL's query string "
            f"(`?{param.name}=...`): that is what it does for a parameter without a type or with a plain type such as "
            "`str`. The grader sends the message in the body, and the URL has no such value, so FastAPI refused the "
            "request (422) before your function ran."
        ),
        fix=f"Declare it `{param.name}: dict`: FastAPI then reads the JSON body into it.",
        line=param.line,
        fix_patch=patch,
        raised_by_framework=True,
    )


def _takes_body(param: Param) -> bool:
    """Whether FastAPI reads the body into ``param``: ``Body()``, or a type that is not a plain one (a dict, a model)."""
    return param.marker == "Body" or (param.marker is None and _kind(param) not in ("", *SCALAR_TYPES))


def _extra_query_parameter(param: Param, body: Param, route: Route, model: SourceModel, declared: str) -> Explanation:
    """A parameter besides the one that takes the body: FastAPI wants it in the query string, which has none.

    Making it a dict too would make two body parameters (FastAPI then wants each under its own name),
    so the advice is to take it away, or to give it a default when it is meant to be optional.
    """
    function = route.function
    used = _first_use(model, param.name, function.body_line, function.end_line)
    after = function.params[function.params.index(param) + 1 :]
    # A default is written only where Python allows one: no positional parameter without one may follow.
    defaultable = param.default is None and (
        param.kind == "keyword_only" or all(p.default is not None for p in after if p.kind == "positional")
    )
    if used is None or not defaultable:
        patch = _without_parameter(model, param) if used is None else None
        fix = f"Remove the parameter `{param.name}`" + (
            f": the whole message already comes in `{body.name}`."
            if used is None
            else f" and what line {used} does with it: the whole message already comes in `{body.name}`."
        )
    else:
        written = param.name + (f": {param.annotation}" if param.annotation else "")
        optional = f"{written} = {_EMPTY_VALUES.get(_kind(param), 'None')}"
        patch = replace_in_line(model, param.line, written, optional)
        fix = (
            f"Remove the parameter `{param.name}` and what line {used} does with it: the whole message already "
            f"comes in `{body.name}`. Or, if `{param.name}` is meant to be optional, give it a default: `{optional}`."
        )
    return Explanation(
        cause="body_read_from_query",
        title=f"`{param.name}` is read from the URL, and the grader sends no such value",
        explanation=(
            f"On line {param.line}, `{function.name}` takes the message in `{body.name}` and also declares {declared}. "
            f"FastAPI looks for `{param.name}` in the URL's query string (`?{param.name}=...`): that is what it does "
            "for a parameter without a type or with a plain type such as `str`. The grader sends only the message, "
            "so the URL has no such value and FastAPI refused the request (422) before your function ran."
        ),
        fix=fix,
        line=param.line,
        fix_patch=patch,
        raised_by_framework=True,
    )


def _first_use(model: SourceModel, name: str, start: int, end: int) -> int | None:
    """The first line from ``start`` to ``end`` whose code (not a string or a comment) names ``name``."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)")
    for line in range(max(start, 1), min(end, len(model.lines)) + 1):
        text = model.line_text(line)
        in_code = code_positions(text)
        if any(in_code[match.start()] for match in pattern.finditer(text)):
            return line
    return None


_EMPTY_VALUES = {"str": '""', "int": "0", "float": "0.0", "bool": "False"}
"""The default an optional parameter of a plain type is given in a fix."""


def _without_parameter(model: SourceModel, param: Param) -> FixPatch | None:
    """The edit taking ``param`` out of its ``def`` line (with the comma before or after it)."""
    written = re.escape(_declared(param))
    for pattern in (rf",\s*{written}(?=\s*[,)])", rf"(?<=\(){written}\s*,\s*"):
        match = re.search(pattern, model.line_text(param.line))
        if match is not None:
            return replace_in_line(model, param.line, match.group(0), "")
    return None


def _form(issue: ValidationIssue, route: Route, model: SourceModel) -> Explanation | None:
    param = _param_at(route, issue, "body")
    if param is None or param.marker not in ("Form", "File"):
        return None
    patch = (
        replace_in_line(model, param.line, f" = {param.default}", "") if param.default and param.annotation else None
    )
    return Explanation(
        cause="form_not_json",
        title=f"`{param.default}` reads a form, and the grader sends JSON",
        explanation=(
            f"On line {param.line}, `{_declared(param)}` tells FastAPI to read `{param.name}` from an HTML form's "
            "fields. The grader sends a JSON body, so there is no form field to read and FastAPI refused it (422)."
        ),
        fix=f"Remove `= {param.default}` and declare `{param.name}: dict`.",
        line=param.line,
        fix_patch=patch,
        raised_by_framework=True,
    )


def _narrow_type(issue: ValidationIssue, route: Route, model: SourceModel) -> Explanation | None:
    """The only body parameter has a type that refuses the objects sent (``list``, ``dict[str, str]``...)."""
    if not issue.loc or issue.loc[0] != "body" or issue.type == "json_invalid":
        return None
    body = [p for p in route.function.body_params if p.marker in (None, "Body")]
    if len(body) != 1:
        return None
    param = body[0]
    annotation = param.annotation or ""
    narrow = _kind(param) in NARROW_TYPES or (_kind(param) in ("dict", "Dict") and "[" in annotation)
    if not narrow or (issue.input_kind not in ("dict", "") and len(issue.loc) < 2):
        return None
    patch = None
    indexed = re.compile(rf"(?<![\w.]){re.escape(param.name)}\s*\[\s*-?\d")
    if annotation and model.find(indexed, route.function.line, route.function.end_line) is None:
        # Read by position (msgs[0]) it is used as a list: a dict would break that line, so no edit.
        patch = replace_in_line(model, param.line, f"{param.name}: {annotation}", f"{param.name}: dict")
    where = ".".join(str(part) for part in issue.loc)
    return Explanation(
        cause="narrow_annotation",
        title=f"`{param.name}: {annotation}` refuses messages the exercise sends",
        explanation=(
            f"On line {param.line}, `{param.name}: {annotation}` tells FastAPI what the body must be, and FastAPI "
            f"checks every message against it: {issue.msg.lower()} (at {where}). The grader sends JSON objects of "
            "any shape, so FastAPI refused them (422) before your function ran."
        ),
        fix=f"Declare `{param.name}: dict`, which takes any JSON object.",
        line=param.line,
        fix_patch=patch,
        raised_by_framework=True,
    )


def _model_field(issue: ValidationIssue, route: Route, model: SourceModel) -> Explanation | None:
    """A model parameter (pydantic, dataclass, TypedDict) whose declared field the message lacks or holds with another type."""
    if len(issue.loc) < 2 or issue.loc[0] != "body":
        return None
    body = [p for p in route.function.body_params if p.marker in (None, "Body")]
    declared = model.class_named(_kind(body[0])) if len(body) == 1 else None
    if declared is None or declared.kind is None:
        return None
    field = str(issue.loc[1])
    line = declared.field_line(field)
    if line is None:
        return None
    # The card points at the model: taking the body through it is the mistake; the field only shows it.
    missing = issue.type == "missing"
    said = f'has no field "{field}"' if missing else f'holds "{field}" with another type ({issue.msg.lower()})'
    return Explanation(
        cause="model_requires_field" if missing else "model_field_type",
        title=f"Your model `{declared.name}` refuses messages that {'lack' if missing else 'do not fit'} `{field}`",
        explanation=(
            f"`{body[0].name}: {declared.name}` makes FastAPI check every message against `{declared.name}` (line "
            f"{declared.line}). Line {line} (`{model.code(line)}`) declares `{field}`, and the grader's message {said}, "
            "so FastAPI refused it (422) before your function ran. The exercise sends objects of any shape."
        ),
        fix=f"Declare the parameter as `{body[0].name}: dict`, which takes any JSON object as it is.",
        line=declared.line,
        raised_by_framework=True,
    )


REFUSAL_RULES: tuple[Callable[[ValidationIssue, Route, SourceModel], Explanation | None], ...] = (
    _embedded,
    _several_body_parameters,
    _form,
    _read_from_query,
    _model_field,
    _narrow_type,
)
"""The declarations behind a refusal, most specific first."""
