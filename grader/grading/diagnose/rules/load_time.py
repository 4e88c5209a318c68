"""Load time: errors that stopped the grading before any case ran.

Facts the boot script reported from inside the sandbox come from the
submission's own process, so each is checked (``checked_facts``) before use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from grader.grading.diagnose.rules.imports import import_diagnosis
from grader.grading.diagnose.rules.syntax import syntax_diagnosis
from grader.grading.diagnose.source import Source
from grader.grading.diagnose.tracebacks import MAX_DETAIL, traceback_facts
from grader.grading.diagnose.wording import at_line, quote_code, replaced_in_line
from grader.grading.evidence import SourceModel
from grader.grading.report import Diagnosis, FixPatch, GradingError, Report

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,99}$")

HTTP_CLIENTS = {"requests", "httpx", "aiohttp", "urllib3"}

OTHER_FRAMEWORKS = {"flask": "Flask", "django": "Django", "bottle": "Bottle", "tornado": "Tornado", "sanic": "Sanic"}

LOAD_CAUSES = {
    "syntax",
    "server_start",
    "input",
    "exit",
    "missing_module",
    "exception",
    "no_app",
    "not_asgi",
    "lifespan",
}

APP_CATEGORIES = {"class", "function", "module", "value", "wsgi"}


def checked_facts(raw: dict[str, Any], text: Source) -> dict[str, Any]:
    """The facts from inside the sandbox that pass the host's checks; the rest dropped."""
    checked: dict[str, Any] = {}
    if raw.get("cause") in LOAD_CAUSES:
        checked["cause"] = raw["cause"]
    line = text.valid_line(raw.get("line"))
    if line is not None:
        checked["line"] = line
    for key in ("exception", "module"):
        value = raw.get(key)
        if isinstance(value, str) and IDENTIFIER.match(value):
            checked[key] = value
    detail = raw.get("detail")
    if isinstance(detail, str):
        checked["detail"] = detail.replace("\n", " ").replace("`", "'")[:MAX_DETAIL]
    names = raw.get("names")
    if isinstance(names, list):
        checked["names"] = [name for name in names[:5] if isinstance(name, str) and IDENTIFIER.match(name)]
    if raw.get("what") in APP_CATEGORIES:
        checked["what"] = raw["what"]
    return checked


class Load(NamedTuple):
    """What the words of a loading error may use."""

    error: GradingError
    text: Source
    facts: dict[str, Any]
    from_host: bool
    report: Report
    packages: Iterable[str]
    entry: str
    model: SourceModel

    @property
    def line(self) -> int | None:
        """The learner's line the checked facts name."""
        line = self.facts.get("line")
        return line if isinstance(line, int) else None


def error_diagnosis(
    error: GradingError,
    text: Source,
    facts: dict[str, Any],
    from_host: bool,
    report: Report,
    packages: Iterable[str],
    entry: str,
    model: SourceModel,
) -> Diagnosis:
    """The diagnosis of an error that stopped the grading before any case ran."""
    load = Load(error, text, facts, from_host, report, packages, entry, model)
    return LOAD_RULES.get(error.kind, _crash_while_starting)(load)


def _infra(_load: Load) -> Diagnosis:
    return Diagnosis(
        title="The grader had a problem of its own (not your mistake)",
        explanation="Something went wrong on the grading side, so your file was not judged. This attempt does not count against you.",
        fix="Submit the same file again in a moment; if this keeps happening, tell your instructor.",
        cause="infra",
    )


def _syntax(load: Load) -> Diagnosis:
    return syntax_diagnosis(load.text, load.model, load.facts)


def _import(load: Load) -> Diagnosis:
    cause = load.facts.get("cause")
    if cause == "server_start":
        return _server_start(load)
    if cause == "input":
        return _input(load)
    explained = import_diagnosis(load.text, load.model, load.facts, load.packages, load.entry)
    if explained is not None:
        return explained
    if cause == "missing_module" and load.facts.get("module"):
        return _missing_module(load.facts["module"], load.line, load.packages)
    return _import_exception(load.text, load.facts)


def _server_start(load: Load) -> Diagnosis:
    text, line, entry = load.text, load.line, load.entry
    return Diagnosis(
        title="Your file starts a server while it is being loaded",
        explanation=(
            f"The grader loads your file to find `{entry}` and then serves it itself. A call that starts a server"
            f"{at_line(text, line)} runs as soon as the file is loaded, so loading would never finish."
        ),
        fix='Put the call under `if __name__ == "__main__":` (or delete it): it then runs only when you start the file yourself with `python`.',
        line=line,
        cause="server_start",
    )


def _input(load: Load) -> Diagnosis:
    text, line = load.text, load.line
    return Diagnosis(
        title="Your file waits for keyboard input while it is being loaded",
        explanation=(
            f"`input()`{at_line(text, line)} waits for someone to type, and nobody can type during grading. "
            "Your endpoint gets its data from the request instead."
        ),
        fix="Remove the `input()` call: the message arrives as your endpoint's parameter.",
        line=line,
        cause="input",
    )


def _exit(load: Load) -> Diagnosis:
    text, line, entry = load.text, load.line, load.entry
    return Diagnosis(
        title="Your program ended before the server could start",
        explanation=(
            f"While the file was being loaded the program stopped{at_line(text, line)}"
            + (f" ({quote_code(load.error.message)})" if load.from_host else "")
            + f". The grader needs the file to define `{entry}` and then stay loaded, so that it can serve it."
        ),
        fix='Remove the `exit()`/`sys.exit()`/`os._exit()` call, or put it under `if __name__ == "__main__":`.',
        line=line,
        cause="exit",
    )


def _timeout(load: Load) -> Diagnosis:
    text, entry = load.text, load.entry
    sleeper = text.find(r"^(while\s+True|while\s+1|time\.sleep|sleep\s*\()")
    return Diagnosis(
        title="Your file did not finish loading in time",
        explanation=(
            "Loading your file runs every line at its top level; something there never finished"
            f"{at_line(text, sleeper)}: an endless loop, a sleep or a call that waits for something."
        ),
        fix=f"Keep only definitions at the top level: the imports, `{entry} = FastAPI()` and your endpoint functions.",
        line=sleeper,
        cause="timeout",
    )


def _no_app(load: Load) -> Diagnosis:
    text, model, entry = load.text, load.model, load.entry
    names = load.facts.get("names") or []
    if names:
        return Diagnosis(
            title=f"No application named `{entry}`",
            explanation=f"The grader looks for your application under the name `{entry}`; your file calls it `{names[0]}`.",
            fix=f"Rename it: `{entry} = FastAPI()` (and use `@{entry}.post(...)` for the endpoint).",
            line=text.find(rf"^{re.escape(names[0])}\s*="),
            cause="no_app",
        )
    factory = next((b for b in model.apps if b.kind == "app" and b.function), None)
    made = model.function_named(factory.function) if factory is not None else None
    if made is not None:
        return _factory_not_called(load, made.name, made.line)
    return Diagnosis(
        title=f"No application named `{entry}`",
        explanation=f"The grader looks for a web application named `{entry}` in your file and found none.",
        fix=f"Create it at the top level of the file: `from fastapi import FastAPI` then `{entry} = FastAPI()`, and register your endpoint on it.",
        cause="no_app",
    )


def _factory_not_called(load: Load, name: str, line: int) -> Diagnosis:
    text, entry = load.text, load.entry
    last = len(text.lines)
    tail = text.lines[-1] if text.lines else ""
    call = f"{entry} = {name}()"
    return Diagnosis(
        title=f"`{name}` makes the application, and nothing calls it",
        explanation=(
            f"Your application is made inside `{name}` (line {line}), so it exists only when that "
            f"function runs, and nothing in the file calls it: the grader finds no `{entry}`."
        ),
        fix=f"Call it at the top level of the file, at the end: `{call}`.",
        line=line,
        cause="no_app",
        fix_patch=FixPatch(last, tail, f"{tail}\n\n{call}") if tail.strip() else None,
    )


def _not_asgi(load: Load) -> Diagnosis:
    text, facts, entry = load.text, load.facts, load.entry
    what = facts.get("what")
    line = text.find(rf"^{re.escape(entry)}\s*=") or text.find(rf"^(async\s+)?def\s+{re.escape(entry)}\b")
    if what == "class":
        return Diagnosis(
            title=f"`{entry}` is the class itself, not an application",
            explanation=f"`{entry} = {facts.get('detail', 'FastAPI')}` names the class; an application is made by calling it.",
            fix=f"Add the brackets: `{entry} = {facts.get('detail', 'FastAPI')}()`.",
            line=line,
            cause="not_asgi",
        )
    if what == "wsgi":
        return _other_framework("a WSGI framework such as Flask", line, entry)
    replaced = _function_replacing_app(load)
    if replaced is not None:
        return replaced
    return Diagnosis(
        title=f"`{entry}` is not a web application the grader can serve",
        explanation=f"The grader needs `{entry}` to be an ASGI application, which is what `FastAPI()` makes.",
        fix=f"Define `{entry} = FastAPI()` and register your endpoint on it with `@{entry}.post(...)`.",
        line=line,
        cause="not_asgi",
    )


def _function_replacing_app(load: Load) -> Diagnosis | None:
    """``def app(...)`` below ``app = FastAPI()``: defining the function binds the name again, to the function."""
    text, model, entry = load.text, load.model, load.entry
    made = text.find(rf"^{re.escape(entry)}\s*=")
    defined = text.find(rf"^(async\s+)?def\s+{re.escape(entry)}\s*\(", made or 1)
    if made is None or defined is None:
        return None
    name = next((n for n in ("receive_message", "handle_message") if n not in model.module_names), "echo_message")
    written = re.search(rf"def\s+{re.escape(entry)}\s*\(", text.lines[defined - 1])
    return Diagnosis(
        title=f"Your function `{entry}` replaces the application",
        explanation=(
            f"Line {defined} defines a function named `{entry}`. Defining a function binds its name, so from that line "
            f"on `{entry}` is your function, no longer the application line {made} made. The grader serves what "
            f"`{entry}` is at the end of your file, and a function is not an application."
        ),
        fix=f"Give the function another name, such as `{name}`: the application keeps the name `{entry}`.",
        line=defined,
        cause="not_asgi",
        fix_patch=replaced_in_line(text, defined, written.group(0), f"def {name}(") if written else None,
    )


def _crash_while_starting(load: Load) -> Diagnosis:
    text = load.text
    if load.facts.get("cause") == "lifespan":
        exc, detail, crash_line = traceback_facts(load.report.stderr, text)
        what = f" with `{exc}: {detail}`" if exc else ""
        return Diagnosis(
            title="Your app's start-up code failed",
            explanation=f"The code your app runs at start-up (its lifespan){at_line(text, crash_line)} failed{what}, so the server stopped before it could answer.",
            fix="Make the start-up code work without anything outside your file (no database, no network), or remove it: the exercise needs none.",
            line=crash_line,
            cause="startup_crash",
        )
    error = load.error
    message = error.message.splitlines()[0] if load.from_host and error.message else "it stopped unexpectedly"
    return Diagnosis(
        title="Your server stopped while starting",
        explanation=f"The server did not come up: {quote_code(message)}.",
        fix="Keep the top level of your file to the imports, the application and the endpoint functions; look at the program's output below for what happened.",
        cause="startup_crash",
    )


LOAD_RULES: dict[str, Callable[[Load], Diagnosis]] = {
    "infra": _infra,
    "syntax": _syntax,
    "import": _import,
    "exit": _exit,
    "timeout": _timeout,
    "no_app": _no_app,
    "not_asgi": _not_asgi,
}
"""Each error kind's words; a crash while starting (and a kind this version does not know) falls to the last."""


def _missing_module(module: str, line: int | None, packages: Iterable[str]) -> Diagnosis:
    root = module.split(".")[0]
    offered = ", ".join(_package_name(name) for name in packages)
    where = f" on line {line}" if line else ""
    if root.lower() in OTHER_FRAMEWORKS:
        return _other_framework(OTHER_FRAMEWORKS[root.lower()], line, "app", module=root)
    explanation = (
        f"Your file imports `{root}`{where}, but the grading runtime does not have it. It offers only {offered} "
        "and Python's standard library; installing a package on your own computer does not install it here."
    )
    if root in HTTP_CLIENTS:
        fix = f"Remove `import {root}`: the grader sends requests to your app, and your endpoint does not need to send any."
    else:
        fix = f"Remove the import of `{root}` and do the work with what is offered: FastAPI gives your endpoint the message as its parameter."
    return Diagnosis(
        title=f"The package `{root}` is not available for grading",
        explanation=explanation,
        fix=fix,
        line=line,
        cause="missing_module",
    )


def _package_name(name: str) -> str:
    return {"fastapi": "FastAPI", "starlette": "Starlette", "pydantic": "pydantic", "uvicorn": "uvicorn"}.get(
        name, name
    )


def _other_framework(framework: str, line: int | None, entry: str, module: str | None = None) -> Diagnosis:
    imported = f"Your file builds its app with {framework}" + (f" (`import {module}`)" if module else "")
    return Diagnosis(
        title=f"This exercise expects a FastAPI app, not {framework}",
        explanation=f"{imported}. The exercise is graded as a FastAPI application, and {framework} is not part of the grading runtime.",
        fix=f"Build the app with FastAPI: `from fastapi import FastAPI`, `{entry} = FastAPI()`, and a decorator such as `@{entry}.post(...)` on your endpoint function.",
        line=line,
        cause="other_framework",
    )


def _import_exception(text: Source, facts: dict[str, Any]) -> Diagnosis:
    exc = facts.get("exception") or "an exception"
    detail = facts.get("detail") or ""
    line = facts.get("line")
    code = text.code(line)
    what = f"`{exc}: {detail}`" if detail else f"`{exc}`"
    explanation = (
        f"Python runs every top-level line of your file when it loads it, and one of them raised {what}"
        + (f" at line {line}: `{quote_code(code)}`" if code else "")
        + ". The server could not start."
    )
    if exc == "NameError":
        fix = (
            f"A name on line {line} is not defined: check its spelling, and that it is imported or assigned before this line."
            if line
            else "Check the spelling of the name and that it is imported or assigned before it is used."
        )
    elif exc == "ImportError":
        fix = "Check the name you import and the module it comes from (for example `from fastapi import FastAPI`)."
    elif code.startswith("@") or (line and text.code(line + 1).startswith(("def ", "async def "))):
        fix = f"FastAPI refused the endpoint declared at line {line}: check its parameters' types and the decorator's arguments."
    else:
        fix = (
            f"Fix line {line}: it runs while the file is loaded, before any request arrives."
            if line
            else "Fix the line the error points at."
        )
    return Diagnosis(
        title=f"Your file raised {exc} while loading",
        explanation=explanation,
        fix=fix,
        line=line,
        cause="import_error",
    )
