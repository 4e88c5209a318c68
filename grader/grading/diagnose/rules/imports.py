"""Loading: an import the runtime cannot satisfy, or an exception raised while the file loads.

Each rule here needs the learner's code to support its cause: a local module is
one the file imports relatively or by a project's usual names; a misspelt module
or name is one a real one differs from by case or a letter or two; a route that
FastAPI refuses is named by the parameter that makes it refuse.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from grader.grading.diagnose.rules.names import undefined_name
from grader.grading.diagnose.source import Source
from grader.grading.diagnose.wording import quote_code, replaced_in_line
from grader.grading.evidence import Frame, Route, SourceModel, explain_exception
from grader.grading.evidence.source import FASTAPI_STAR_NAMES
from grader.grading.evidence.tracebacks import LEARNER_FILE
from grader.grading.report import Diagnosis, FixPatch

# Codes of evidence's explanations that the corpus names otherwise; others at load time are import errors.
LOAD_EXCEPTION_CAUSES = {
    "name_typo": "misspelt_name",
    "attribute_typo": "misspelt_name",
    "missing_import": "missing_import",
    "json_literal": "misspelt_name",
}
MODULE_NAMES = {"fastapi": tuple(FASTAPI_STAR_NAMES)}
"""What beginners import from a package, to find the name an ImportError's misspelling stands for."""
CANNOT_IMPORT = re.compile(r"cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'")
SERVER_METHODS = re.compile(r"\b(?P<call>\w+\.run\s*\(.*\))")


def local_module(model: SourceModel, module: str) -> Diagnosis | None:
    """An import of a file of the learner's project that was not uploaded."""
    found = next((item for item in model.imports if item.module == module), None) or next(
        (item for item in model.imports if item.root == module.lstrip(".").split(".")[0]), None
    )
    if found is None or not found.likely_local:
        return None
    return Diagnosis(
        title=f"`{found.module}` is a file of your project, and only one file is graded",
        explanation=(
            f"Line {found.line} imports `{found.module}`, which is not a package but a file next to yours on your "
            "computer. The grader receives one file, so that module is not there and loading stops."
        ),
        fix=f"Put what you need from `{found.module}` into this one file, then remove the import on line {found.line}.",
        line=found.line,
        cause="local_module",
    )


def misspelt_module(text: Source, module: str, line: int | None, packages: Iterable[str]) -> Diagnosis | None:
    """``from FastAPI import FastAPI``: a module the runtime has, written with other letters."""
    root = module.split(".")[0]
    real = next((name for name in packages if name.lower() == root.lower() and name != root), None)
    if real is None:
        return None
    patch = replaced_in_line(text, line, root, real)
    fixed = f" (`{quote_code(patch.after.strip())}`)" if patch else ""
    return Diagnosis(
        title=f"The module is `{real}`, not `{root}`",
        explanation=(
            f"Python's module names are written exactly, small and capital letters included: `{root}` is not the "
            f"package `{real}`, so the import{f' on line {line}' if line else ''} found nothing."
        ),
        fix=f"Write the module's name as `{real}`{fixed}.",
        line=line,
        cause="misspelt_name",
        fix_patch=patch,
    )


def misspelt_import(text: Source, detail: str, line: int | None) -> Diagnosis | None:
    """``from fastapi import fastapi``: a name the module has, written with other letters."""
    match = CANNOT_IMPORT.search(detail)
    if match is None:
        return None
    wrong, module = match.group("name"), match.group("module")
    names = MODULE_NAMES.get(module.split(".")[0], ())
    lowered = {name.lower(): name for name in names}
    real = lowered.get(wrong.lower()) or next(iter(difflib.get_close_matches(wrong, names, n=1, cutoff=0.75)), None)
    if real is None:
        return None
    patch = _renamed_everywhere(text, line, wrong, real)
    return Diagnosis(
        title=f"`{module}` has no `{wrong}`: the name is `{real}`",
        explanation=(
            f"Line {line} imports `{wrong}` from `{module}`, and Python stopped with `ImportError: cannot import "
            f"name '{wrong}'`: names are written exactly, small and capital letters included."
        ),
        fix=f"Import `{real}` (`from {module} import {real}`) and use that name where you use `{wrong}`.",
        line=line,
        cause="misspelt_name",
        fix_patch=patch,
    )


def _renamed_everywhere(text: Source, line: int | None, wrong: str, real: str) -> FixPatch | None:
    """The import line with the name corrected, when the file uses the name nowhere else."""
    uses = [n for n, code in enumerate(text.lines, start=1) if re.search(rf"\b{re.escape(wrong)}\b", code)]
    if uses != [line]:
        return None
    return replaced_in_line(text, line, wrong, real)


def app_run(text: Source, exception: str, detail: str, line: int | None, entry: str) -> Diagnosis | None:
    """``app.run()``, Flask's way of starting a server, which a FastAPI app does not have."""
    match = SERVER_METHODS.search(text.code(line))
    if exception != "AttributeError" or "'run'" not in detail or match is None:
        return None
    return Diagnosis(
        title=f"`{quote_code(match.group('call'))}` is how Flask starts a server; the grader serves your app itself",
        explanation=(
            f"Line {line} calls `{quote_code(match.group('call'))}` while the file loads. A FastAPI app has no `run`, "
            f"so Python stopped with AttributeError; and the grader needs none: it loads your file, takes `{entry}` "
            "and serves it."
        ),
        fix=f"Delete line {line}.",
        line=line,
        cause="server_start",
        fix_patch=FixPatch(line, text.lines[line - 1], "") if line else None,
    )


def refused_route(model: SourceModel, exception: str, detail: str, line: int | None) -> Diagnosis | None:
    """FastAPI refused a route while the file loaded: the parameter that makes it refuse."""
    route = _route_near(model, line)
    if route is None:
        return None
    function = route.function
    form = next((param for param in function.params if param.marker in ("Form", "File", "UploadFile")), None)
    if form is not None or "multipart" in detail:
        at = form.line if form is not None else function.line
        return Diagnosis(
            title="The message is JSON, not form data",
            explanation=(
                f"Line {at} reads the message with `{form.marker if form else 'Form'}(...)`, which reads an HTML "
                "form's fields. The grader sends a JSON object, and reading forms needs a package "
                "(python-multipart) the grading runtime does not offer, so FastAPI refused the route while the "
                f"file loaded (`{exception}`)."
            ),
            fix="Take the whole JSON object as one parameter, `msg: dict`, and send it back.",
            line=at,
            cause="form_parameter",
        )
    query = next((param for param in function.params if param.marker == "Query"), None)
    if query is not None:
        return Diagnosis(
            title=f"`{query.name}` is declared as a query parameter, and the message comes in the body",
            explanation=(
                f"Line {query.line} declares `{query.name}` with `Query` (`= Query()`): FastAPI then reads it from the address "
                f"(`?{query.name}=...`), where a dict cannot be, so it refused the route while the file loaded. "
                "The grader sends the message as the request's body."
            ),
            fix=f"Declare it as the body: `{query.name}: dict`, without `Query()`.",
            line=query.line,
            cause="query_parameter",
            fix_patch=replaced_in_line(Source(model.text), query.line, f" = {query.default}", "")
            if query.default
            else None,
        )
    return None


def _route_near(model: SourceModel, line: int | None) -> Route | None:
    """The route whose decorator or ``def`` holds ``line``."""
    if line is None:
        return None
    return next((route for route in model.routes if route.line <= line <= route.function.line), None)


def explained_at_load(
    text: Source, model: SourceModel, exception: str, detail: str, line: int | None
) -> Diagnosis | None:
    """An exception raised while loading, explained from the learner's code (evidence's table)."""
    if line is None:
        return None
    frame = Frame(LEARNER_FILE, line, "<module>", text.code(line))
    explained = explain_exception(exception, detail, frame, model)
    if explained is None:
        return None
    cause = LOAD_EXCEPTION_CAUSES.get(explained.cause, "import_error")
    return Diagnosis(
        title=explained.title,
        explanation=f"{explained.explanation} Python's message: `{quote_code(f'{exception}: {detail}')}`; "
        "it was raised while the file was loading, so the server could not start.",
        fix=explained.fix,
        line=explained.line,
        cause=cause,
        fix_patch=explained.fix_patch,
    )


def import_diagnosis(
    text: Source, model: SourceModel, facts: dict[str, Any], packages: Iterable[str], entry: str
) -> Diagnosis | None:
    """A loading error explained from the learner's code, or None to leave it to the general words."""
    line = facts.get("line")
    module = facts.get("module")
    if facts.get("cause") == "missing_module" and module:
        return local_module(model, module) or misspelt_module(text, module, line, packages)
    exception, detail = facts.get("exception") or "", facts.get("detail") or ""
    if not exception:
        return None
    named = undefined_name(text, model, exception, detail, line)
    if named is not None:
        return Diagnosis(
            title=named.title,
            explanation=named.explanation + " It was raised while the file was loading, so the server could not start.",
            fix=named.fix,
            line=named.line,
            cause=named.cause or "import_error",
            fix_patch=named.patch,
        )
    if exception == "ImportError" and "relative import" in detail:
        relative = next((item for item in model.imports if item.line == line), None)
        if relative is not None:
            return local_module(model, relative.module)
    return (
        app_run(text, exception, detail, line, entry)
        or refused_route(model, exception, detail, line)
        or misspelt_import(text, detail, line)
        or explained_at_load(text, model, exception, detail, line)
    )
