"""Syntax: Python cannot read the file, told by what the line is (a terminal line, a tab, a bracket left open).

The host parses the file itself (``SourceModel.syntax_error``), so the line and
Python's message come from the grader, not from inside the sandbox; the facts the
boot script reported are the fallback.
"""

from __future__ import annotations

import re
from typing import Any

from grader.grading.diagnose.source import Source
from grader.grading.diagnose.wording import line_patch, quote_code
from grader.grading.evidence import Function, ShellLine, SourceModel, SyntaxProblem
from grader.grading.report import Diagnosis, FixPatch

NOTEBOOK_KINDS = {"notebook_shell", "magic"}
BLOCK_OPENERS = re.compile(r"^(async\s+def|def|class|if|elif|else|for|while|with|try|except|finally)\b")
PY2_PRINT = re.compile(r"^print\s+(?P<what>[^(].*?)\s*$")
OUTSIDE_ASYNC = re.compile(r"'(await|async for|async with)' outside async function")


def syntax_diagnosis(text: Source, model: SourceModel, facts: dict[str, Any]) -> Diagnosis:
    """Why Python could not read the file, from the host's own parse when it has one."""
    problem = model.syntax_error
    if problem is not None and problem.not_python is not None:
        return _not_python(text, model, problem.not_python)
    if problem is not None and problem.kind in ("indentation", "tabs_and_spaces"):
        return _indentation(text, problem)
    line = (problem.line if problem is not None else None) or facts.get("line")
    detail = (problem.message if problem is not None else None) or facts.get("detail") or "invalid syntax"
    if OUTSIDE_ASYNC.search(str(detail)):
        plain = _plain_def_awaiting(model, text.valid_line(line))
        if plain is not None:
            return _await_in_plain_def(text, plain, text.valid_line(line) or plain.line)
    return _other(text, text.valid_line(line), detail)


def _plain_def_awaiting(model: SourceModel, line: int | None) -> Function | None:
    """The plain ``def`` whose own body awaits at ``line`` (read from the parsed file, not from Python's message)."""
    function = model.function_at(line)
    if function is None or function.is_async or line not in function.awaits:
        return None
    return function


def _await_in_plain_def(text: Source, function: Function, line: int) -> Diagnosis:
    """``await`` (``async for``, ``async with``) inside a function written with a plain ``def``."""
    header = text.lines[function.line - 1]
    written = re.sub(r"^(\s*)def\b", r"\1async def", header, count=1)
    patch = FixPatch(function.line, header, written) if written != header else None
    return Diagnosis(
        title="Python cannot read your file: `await` works only inside `async def`",
        explanation=(
            f"Before running anything, Python reads the whole file, and it refused line {line} "
            f"(`{quote_code(text.code(line))}`): `await` may only be written inside a function defined with "
            f"`async def`, and `{function.name}` is defined with a plain `def` on line {function.line}."
        ),
        fix=(
            f"Write `async def` instead of `def` on line {function.line}: "
            f"`{quote_code(text.code(function.line).replace('def ', 'async def ', 1))}`. FastAPI runs an "
            "`async def` endpoint the same way, and `await` then works inside it."
        ),
        line=function.line,
        cause="syntax",
        fix_patch=patch,
    )


def _not_python(text: Source, model: SourceModel, shell: ShellLine) -> Diagnosis:
    notebook = shell.kind in NOTEBOOK_KINDS
    where = "a notebook (Jupyter, Colab)" if notebook else "a terminal"
    command = re.sub(r"^(\$|>>>)\s+", "", shell.text)
    # Deleting the line fixes the file only when it is the only such line.
    patch = FixPatch(shell.line, text.lines[shell.line - 1], "") if len(model.shell_lines) == 1 else None
    return Diagnosis(
        title=f"Line {shell.line} belongs in {'a notebook' if notebook else 'a terminal'}, not in a Python file",
        explanation=(
            f"`{quote_code(command)}` is a command for {where}, not Python, so Python stopped reading your file "
            f"at line {shell.line}. A .py file holds only Python code; commands such as this one are typed "
            f"{'in a notebook cell' if notebook else 'in the terminal'}, and the grader installs and serves your app itself."
        ),
        fix=f"Delete line {shell.line}: the grading runtime already has FastAPI, and the grader starts the server.",
        line=shell.line,
        cause="notebook_line" if notebook else "shell_line",
        fix_patch=patch,
    )


def _indentation(text: Source, problem: SyntaxProblem) -> Diagnosis:
    line = text.valid_line(problem.line)
    code = quote_code(text.code(line))
    if problem.kind == "tabs_and_spaces":
        explanation = (
            f"Line {line} (`{code}`) is indented with a tab where the lines around it use spaces. Python counts a "
            "tab and spaces differently, so it cannot tell which block the line belongs to."
        )
        fix = f"Indent line {line} with spaces only (4 per level), like the lines around it."
        patch = None
    else:
        explanation = (
            f"Python reads which lines belong to a function by their indentation, and line {line} (`{code}`) is "
            f"not indented as its block is: {problem.message}."
        )
        fix = f"Indent the body of the function by 4 spaces, line {line} included, and every line of a block by the same amount."
        patch = None
    # A change of whitespace alone is not shown as an edit: on the page it would read as the same line.
    return Diagnosis(
        title=f"Python cannot read your file: the indentation of line {line}",
        explanation=explanation,
        fix=fix,
        line=line,
        cause="indentation",
        fix_patch=patch,
    )


def _other(text: Source, line: int | None, detail: str) -> Diagnosis:
    code = text.code(line)
    explanation = "Before running anything, Python reads the whole file, and it could not read it"
    explanation += f": {detail} at line {line}" if line else f": {detail}"
    explanation += f" (`{quote_code(code)}`)." if code else "."
    fix, patch = _syntax_fix(text, line, detail)
    return Diagnosis(
        title="Python cannot read your file",
        explanation=explanation,
        fix=fix,
        line=line,
        cause="syntax",
        fix_patch=patch,
    )


def _syntax_fix(text: Source, line: int | None, detail: str) -> tuple[str, FixPatch | None]:
    code = text.code(line)
    if "expected ':'" in detail:
        patch = line_patch(text, line, code + ":") if BLOCK_OPENERS.match(code) else None
        return (
            f"Add the missing `:` at the end of line {line}: `def`, `if`, `for` and `class` lines end with a colon.",
            patch,
        )
    unclosed = re.search(r"'(.)' was never closed", detail)
    if unclosed:
        return f"Close the `{unclosed.group(1)}` opened on line {line}: every bracket opened must be closed.", None
    if "never closed" in detail or "was not closed" in detail or "unterminated" in detail:
        return f"Close the bracket or quote opened on line {line}.", None
    printed = PY2_PRINT.match(code)
    if "parentheses" in detail and printed:
        fixed = f"print({printed.group('what')})"
        return (
            f"In Python 3, `print` is a function: open its parentheses with `print(` and close them at the end of the line, `{quote_code(fixed)}`.",
            line_patch(text, line, fixed),
        )
    if line is None:
        return "Look for a missing colon, bracket or quote.", None
    return f"Look at line {line} and the line just above it, and compare them with the Python of the lesson.", None
