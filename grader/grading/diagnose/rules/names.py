"""Names: a NameError for a name the file forgot to import (FastAPI's, or a module of the standard library),
or for the message under another name.

Evidence's table explains most NameErrors (a misspelling of a name in scope, a
FastAPI name never imported); these rules add what needs the route: the name the
learner gave the message, and where the file's own ``from fastapi import`` line is.
"""

from __future__ import annotations

import re
import sys

from grader.grading.diagnose.source import Source
from grader.grading.diagnose.wording import Words, quote_code, replaced_in_line
from grader.grading.evidence import SourceModel
from grader.grading.evidence.source import FASTAPI_STAR_NAMES
from grader.grading.report import FixPatch

NOT_DEFINED = re.compile(r"name '(?P<name>\w+)' is not defined")
IMPORTED_FROM = {
    **dict.fromkeys(FASTAPI_STAR_NAMES, "fastapi"),
    "JSONResponse": "fastapi.responses",
    "PlainTextResponse": "fastapi.responses",
    "HTMLResponse": "fastapi.responses",
    "Response": "fastapi",
    "BaseModel": "pydantic",
    "jsonable_encoder": "fastapi.encoders",
}
"""Where the names beginners use without importing them come from."""


def undefined_name(text: Source, model: SourceModel, exception: str, detail: str, line: int | None) -> Words | None:
    """A NameError the route or the file's imports explain."""
    match = NOT_DEFINED.search(detail)
    if exception != "NameError" or match is None or line is None:
        return None
    name = match.group("name")
    return (
        _never_imported(text, name, line)
        or _module_never_imported(text, name, line)
        or _message_under_another_name(model, name, line)
    )


def _module_never_imported(text: Source, name: str, line: int) -> Words | None:
    """A module of the standard library used (``copy.deepcopy(msg)``) without ``import copy``."""
    if name.startswith("_") or name not in sys.stdlib_module_names:
        return None
    if not re.search(rf"(?<![\w.]){re.escape(name)}\s*\.\s*\w", text.code(line)):
        return None
    statement = f"import {name}"
    first = next((n for n, code in enumerate(text.lines, start=1) if re.match(r"(from|import)\s", code)), None)
    patch = FixPatch(first, text.lines[first - 1], f"{statement}\n{text.lines[first - 1]}") if first else None
    return Words(
        f"`{name}` is used but never imported",
        f"Line {line} uses the module `{name}`, but your file never imports it, so Python does not know the name "
        "and stopped with NameError.",
        f"Import it at the top of your file: `{statement}`.",
        line,
        patch,
        "missing_import",
    )


def _message_under_another_name(model: SourceModel, name: str, line: int) -> Words | None:
    """``return {"received": msg}`` in a function whose parameter is ``payload``."""
    function = model.function_at(line)
    route = model.route_of(function)
    if function is None or route is None or name in function.local_names or line == function.line:
        return None
    if re.search(rf"(?<![\w.]){re.escape(name)}\s*\(", model.line_text(line)):
        return None  # a function called, not the message
    params = function.body_params
    if len(params) != 1 or params[0].name == name:
        return None
    real = params[0].name
    return Words(
        f"`{name}` is not defined here: your endpoint calls the message `{real}`",
        f"Line {line} uses `{name}`, but the function `{function.name}` (line {function.line}) receives the message "
        f"as `{real}`, and no `{name}` exists there, so Python stopped with NameError.",
        f"Use the parameter's name: write `{real}` instead of `{name}` on line {line}.",
        line,
        replaced_in_line(Source(model.text), line, name, real) if _word_once(model, line, name) else None,
        "misspelt_name",
    )


def _word_once(model: SourceModel, line: int, name: str) -> bool:
    return len(re.findall(rf"(?<![\w.]){re.escape(name)}\b", model.line_text(line))) == 1


def _never_imported(text: Source, name: str, line: int) -> Words | None:
    """A name of FastAPI's (or pydantic's) used without its import: added to the file's own import line."""
    module = IMPORTED_FROM.get(name)
    if module is None:
        return None
    statement = f"from {module} import {name}"
    patch = _added_to_import(text, module, name)
    if patch is not None and "\n" not in patch.after:
        statement = patch.after.strip()
    return Words(
        f"`{name}` is used but never imported",
        f"Line {line} uses `{name}`, but your file never imports it, so Python does not know the name and stopped with NameError.",
        f"Import it from `{module}`: `{quote_code(statement)}`.",
        line,
        patch,
        "missing_import",
    )


def _added_to_import(text: Source, module: str, name: str) -> FixPatch | None:
    """``from fastapi import FastAPI`` becomes ``from fastapi import FastAPI, Body``."""
    pattern = re.compile(rf"^from\s+{re.escape(module)}\s+import\s+(?P<names>[\w\s,]+?)\s*$")
    for number, code in enumerate(text.lines, start=1):
        match = pattern.match(code.strip())
        if match and not code[:1].isspace():
            return FixPatch(number, code, f"{code.rstrip()}, {name}")
    # No import from that module yet: a line of its own, above the file's first import.
    first = next((n for n, code in enumerate(text.lines, start=1) if re.match(r"(from|import)\s", code)), None)
    if first is None:
        return None
    return FixPatch(first, text.lines[first - 1], f"from {module} import {name}\n{text.lines[first - 1]}")
