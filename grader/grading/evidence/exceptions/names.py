"""Names: NameError (a typo, JSON's ``true``, a missing import, the message under another name),
UnboundLocalError (a missing ``global``) and imports of a misspelt module or name."""

from __future__ import annotations

import re

from grader.grading.evidence.exceptions.attributes import MODULE_ATTRIBUTES
from grader.grading.evidence.exceptions.common import (
    Evidence,
    Explanation,
    closest_name,
    quoted_names,
    replace_in_line,
    shown,
)
from grader.grading.evidence.source import FASTAPI_STAR_NAMES, SourceModel
from grader.grading.report import FixPatch

MAX_RENAMED_SPAN = 8
"""How far below an import a renamed name may still be used for one edit to rename it everywhere."""


COMMON_MODULES = ("json", "time", "random", "typing", "datetime", "os", "sys", "math", "re", "collections", "pydantic")
"""Standard modules beginners import, for "the module is `json`"."""


IMPORTED_FROM = {
    **dict.fromkeys(FASTAPI_STAR_NAMES, "fastapi"),
    "JSONResponse": "fastapi.responses",
    "StreamingResponse": "fastapi.responses",
    "jsonable_encoder": "fastapi.encoders",
    "PlainTextResponse": "fastapi.responses",
    "HTMLResponse": "fastapi.responses",
    "RedirectResponse": "fastapi.responses",
    "BaseModel": "pydantic",
    "Field": "pydantic",
    "Any": "typing",
    "Dict": "typing",
    "List": "typing",
    "Optional": "typing",
    "Union": "typing",
    "Annotated": "typing",
    **{name: name for name in ("json", "time", "random", "datetime", "math", "os", "sys", "re", "uvicorn")},
}
"""Where a name a beginner forgets to import comes from."""


MESSAGE_NAMES = {"msg", "message", "data", "body", "payload", "item", "content", "json_data", "request_data", "m"}
"""Names learners give the message: one of them undefined beside a parameter of another name is that parameter."""


JSON_LITERALS = {"true": "True", "false": "False", "null": "None"}


FASTAPI_NAMES = set(FASTAPI_STAR_NAMES)


def missing_global(evidence: Evidence) -> Explanation | None:
    quoted = quoted_names(evidence.message)
    function = evidence.function
    if not quoted or function is None:
        return None
    name = quoted[0]
    defined = evidence.model.module_names.get(name)
    if defined is None:
        return Explanation(
            cause="used_before_assignment",
            title=f"`{name}` is used before it is given a value",
            explanation=(
                f"On line {evidence.line}, `{shown(evidence.code)}` reads `{name}`, but in `{function.name}` it only "
                "gets a value further down (or on a path that did not run)."
            ),
            fix=f"Give `{name}` a value before line {evidence.line}.",
            line=evidence.line,
        )
    written_on_top = evidence.model.find(rf"^global\s+.*\b{re.escape(name)}\b")
    top_level_global = (
        f"`global {name}` at the top of the file (line {written_on_top}) does nothing: it belongs inside the function. "
        if written_on_top
        else ""
    )
    body = function.body_line
    first = evidence.model.line_text(body)
    indent = first[: len(first) - len(first.lstrip())]
    patch = None
    if body > function.line and first.strip() and not evidence.model.line_text(function.line).rstrip().endswith(";"):
        patch = FixPatch(line=body, before=first, after=f"{indent}global {name}\n{first}")
    return Explanation(
        cause="missing_global",
        title=f"`{name}` needs `global {name}` inside `{function.name}`",
        explanation=(
            f"`{name}` is created at the top of your file (line {defined}), but line {evidence.line} "
            f"(`{shown(evidence.code)}`) assigns to it inside the function `{function.name}`. Assigning makes Python "
            f"treat `{name}` as a new local variable of the function, which has no value yet when it is read: "
            "UnboundLocalError."
        ),
        fix=(
            top_level_global
            + f"Add `global {name}` as the first line of `{function.name}`. Keep in mind that a value kept between "
            "requests is shared by every client and lost when the server restarts."
        ),
        line=evidence.line,
        fix_patch=patch,
    )


def name_error(evidence: Evidence) -> Explanation | None:
    match = re.match(r"name '(\w+)' is not defined", evidence.message)
    if not match:
        return None
    name = match.group(1)
    model, line = evidence.model, evidence.line
    if not re.search(rf"(?<![\w.]){name}\b", evidence.code):
        return None  # the line does not use the name: no evidence to point at
    if name in JSON_LITERALS:
        right = JSON_LITERALS[name]
        return Explanation(
            cause="json_literal",
            title=f"`{name}` is JSON; Python writes `{right}`",
            explanation=f"Line {line} writes `{name}`, JSON's spelling. In Python the value is `{right}`, with a capital.",
            fix=f"Write `{right}` instead of `{name}`.",
            line=line,
            fix_patch=replace_in_line(model, line, name, right, word=True),
        )
    if name in IMPORTED_FROM:
        return _missing_import(evidence, name)
    if re.search(rf"(?<![\w.]){name}\.(json|body|form)\(", evidence.code):
        return _request_not_a_parameter(evidence, name)
    nearest = closest_name(name, model.names_in_scope(line))
    if nearest is not None and nearest.lower() == name.lower() and nearest[:1].isupper() and name[:1].islower():
        nearest = None  # ``request`` for the class ``Request``: an object of it was meant, not a typo
    if nearest is None:
        return _parameter_named_otherwise(evidence, name)
    return Explanation(
        cause="name_typo",
        title=f"`{name}` is not defined: did you mean `{nearest}`?",
        explanation=(
            f"Line {line} uses the name `{name}`, which your code never defines. The closest name that exists "
            f"there is `{nearest}`."
        ),
        fix=f"Write `{nearest}` instead of `{name}` on line {line}.",
        line=line,
        fix_patch=replace_in_line(model, line, name, nearest, word=True),
    )


def _missing_import(evidence: Evidence, name: str) -> Explanation:
    """A name of FastAPI, pydantic, typing or the standard library used without its import."""
    model, line = evidence.model, evidence.line
    module = IMPORTED_FROM[name]
    statement = f"import {name}" if module == name else f"from {module} import {name}"
    existing = model.find(rf"^from\s+{re.escape(module)}\s+import\s+[\w\s,]+$") if module != name else None
    patch = None
    if existing is not None:
        # Add the name to the import the file already has from that module.
        written = model.line_text(existing)
        patch = FixPatch(line=existing, before=written, after=f"{written.rstrip()}, {name}")
        statement = patch.after.strip()
    else:
        first = next((i.line for i in model.imports), None) or next(
            (n for n in range(1, len(model.lines) + 1) if model.code(n) and not model.code(n).startswith("#")), None
        )
        if first is not None and line is not None:
            written = model.line_text(first)
            patch = FixPatch(line=first, before=written, after=f"{statement}\n{written}")
    return Explanation(
        cause="missing_import",
        title=f"`{name}` is used but never imported",
        explanation=f"Line {line} uses `{name}`, but your file never imports it, so Python does not know the name.",
        fix=f"Import it at the top of your file: `{statement}`.",
        line=line,
        fix_patch=patch,
    )


def _request_not_a_parameter(evidence: Evidence, name: str) -> Explanation | None:
    """``await request.json()`` in a function that has no ``request`` parameter."""
    function = evidence.function
    if function is None or function.param(name) is not None:
        return None
    return Explanation(
        cause="request_not_a_parameter",
        title=f"`{name}` is not a parameter of `{function.name}`",
        explanation=(
            f"Line {evidence.line} reads the body from `{name}`, but `{function.name}` (line {function.line}) has no "
            f"parameter of that name, so Python does not know it. FastAPI passes the request only to a parameter "
            f"declared `{name}: Request`."
        ),
        fix=(
            "Use the parameter you have"
            + (f" (`{function.body_params[0].name}` is already the message)" if function.body_params else "")
            + f", or declare `{name}: Request` in the `def` line."
        ),
        line=evidence.line,
    )


def _parameter_named_otherwise(evidence: Evidence, name: str) -> Explanation | None:
    """``def echo(payload: dict): return {"received": msg}``: the message is used under another name."""
    function = evidence.function
    if function is None or evidence.model.route_of(function) is None:
        return None
    body = function.body_params
    if len(body) != 1 or name in evidence.model.module_names or name.lower() not in MESSAGE_NAMES:
        return None
    param = body[0]
    return Explanation(
        cause="parameter_named_otherwise",
        title=f"The message is called `{param.name}` here, not `{name}`",
        explanation=(
            f"Line {evidence.line} uses `{name}`, which is defined nowhere. The message your endpoint receives is its "
            f"parameter, and in `{function.name}` (line {function.line}) you called it `{param.name}`: the name in the "
            "`def` line is the one to use inside the function."
        ),
        fix=f"Write `{param.name}` instead of `{name}` on line {evidence.line} (or rename the parameter `{name}`).",
        line=evidence.line,
        fix_patch=replace_in_line(evidence.model, evidence.line, name, param.name, word=True),
    )


def misspelt_module(evidence: Evidence) -> Explanation | None:
    """``from FastAPI import FastAPI``: a module's name written another way than it is."""
    match = re.match(r"No module named '(?P<module>[\w.]+)'", evidence.message)
    if not match:
        return None
    module = match["module"].split(".")[0]
    nearest = closest_name(module, evidence.model.packages + COMMON_MODULES)
    if nearest is None:
        return None
    line = evidence.line
    patch = None
    written = re.match(rf"^(\s*(?:from|import)\s+){re.escape(module)}\b", evidence.model.line_text(line))
    if written is not None:
        patch = replace_in_line(evidence.model, line, written.group(0), written.group(1) + nearest)
    return Explanation(
        cause="misspelt_module",
        title=f"The module is `{nearest}`, not `{module}`",
        explanation=(
            f"Line {line} imports `{module}`, and no module has that name: Python's names are exact, capitals included. "
            f"The package is `{nearest}`."
        ),
        fix=f"Write `{nearest}` instead of `{module}` on line {line}.",
        line=line,
        fix_patch=patch,
    )


def misspelt_import_name(evidence: Evidence) -> Explanation | None:
    """``from fastapi import fastapi``: a name the module does not have, close to one it has."""
    match = re.match(r"cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'", evidence.message)
    if not match:
        return None
    name, module = match["name"], match["module"]
    nearest = closest_name(name, MODULE_ATTRIBUTES.get(module.split(".")[0], ()))
    if nearest is None:
        return None
    return Explanation(
        cause="misspelt_import",
        title=f"`{module}` has no `{name}`: did you mean `{nearest}`?",
        explanation=(
            f"Line {evidence.line} imports `{name}` from `{module}`, which has no such name. Python's names are exact, "
            f"capitals included: the class is `{nearest}`."
        ),
        fix=f"Import `{nearest}` instead of `{name}`, and use `{nearest}` wherever you wrote `{name}`.",
        line=evidence.line,
        fix_patch=_renamed_everywhere(evidence.model, evidence.line, name, nearest),
    )


def _renamed_everywhere(model: SourceModel, line: int | None, old: str, new: str) -> FixPatch | None:
    """One edit renaming ``old`` to ``new`` among the names the import ``line`` takes and in every later
    use, when the uses sit close below it (else None)."""
    head, _, names = model.line_text(line).partition(" import ")
    if line is None or not names:
        return None
    renamed_names = re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w)", new, names)
    after = [f"{head} import {renamed_names}"]
    last = line
    for number in range(line + 1, len(model.lines) + 1):
        renamed = replace_in_line(model, number, old, new, word=True)
        if renamed is not None:
            last = number
    if last - line > MAX_RENAMED_SPAN:
        return None
    for number in range(line + 1, last + 1):
        renamed = replace_in_line(model, number, old, new, word=True)
        after.append(renamed.after if renamed is not None else model.line_text(number))
    before = "\n".join(model.line_text(number) for number in range(line, last + 1))
    return FixPatch(line=line, before=before, after="\n".join(after))
