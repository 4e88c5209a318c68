"""The smallest edit that lets Python read a file it refused, when one is plain.

``syntax_fix(model)`` looks at why Python could not read the file
(``SourceModel.syntax_error``) and tries the edit a tutor would suggest for that
kind of mistake: delete the terminal or notebook lines pasted in, add the colon
a ``def`` line lacks, close the bracket left open, straighten curly quotes,
indent a function's body with spaces only, put brackets around a Python 2
``print``. An edit is
returned only when the whole file then parses (``ast.parse``, never run), and
never when it would leave the line as it was. Whether the program then works is
for the grading of the patched file to tell.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from grader.grading.evidence.source import SourceModel, SyntaxProblem
from grader.grading.report import FixPatch

MAX_BODY_LINES = 30
"""The longest function body indented in one edit."""
CURLY_QUOTES = {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u00a0": " "}
"""What word processors and chat pages put in place of quotes and spaces."""
CLOSERS = {"(": ")", "[": "]", "{": "}"}
COMPOUND = re.compile(r"^\s*(def|async\s+def|class|if|elif|else|for|while|try|except|finally|with)\b")


def syntax_fix(model: SourceModel) -> FixPatch | None:
    """The edit that makes the file readable by Python, or None when no plain one does."""
    problem = model.syntax_error
    if problem is None or model.unreadable is not None:
        return None
    for candidate in CANDIDATES.get(problem.kind, ()):
        patch = candidate(model, problem)
        if patch is not None and patch.after != patch.before and _parses(patch, model.text):
            return patch
    return None


def related_line(problem: SyntaxProblem) -> int | None:
    """The other line Python's message names ("after function definition on line 12"), if any."""
    match = re.search(r"on line (\d+)", problem.message)
    return int(match.group(1)) if match else None


def _parses(patch: FixPatch, text: str) -> bool:
    patched = patch.apply(text)
    if patched is None:
        return False
    try:
        ast.parse(patched)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _without_terminal_lines(model: SourceModel, _problem: SyntaxProblem) -> FixPatch | None:
    """Delete the pasted terminal lines (a ``>>>`` prompt loses only its prompt), when they sit together."""
    shell = model.shell_lines
    if not shell or shell[-1].line - shell[0].line + 1 != len(shell):
        return None
    first, last = shell[0].line, shell[-1].line
    kept = [
        re.sub(r"^(\s*)(>>>|In \[\d*\]:)\s?", r"\1", model.line_text(found.line))
        for found in shell
        if found.kind == "python_prompt"
    ]
    before = "\n".join(model.line_text(number) for number in range(first, last + 1))
    return FixPatch(line=first, before=before, after="\n".join(kept))


def _colon_added(model: SourceModel, problem: SyntaxProblem) -> FixPatch | None:
    text = model.line_text(problem.line)
    if not COMPOUND.match(text):
        return None
    code, hash_, comment = text.partition("  #")
    after = code.rstrip() + ":" + (("  " + hash_.strip() + comment) if hash_ else "")
    return FixPatch(line=problem.line or 0, before=text, after=after)


def _bracket_closed(model: SourceModel, problem: SyntaxProblem) -> FixPatch | None:
    opened = re.match(r"'(.)' was never closed", problem.message)
    if opened is None or opened.group(1) not in CLOSERS:
        return None
    text = model.line_text(problem.line)
    return FixPatch(line=problem.line or 0, before=text, after=text.rstrip() + CLOSERS[opened.group(1)])


def _string_closed(model: SourceModel, problem: SyntaxProblem) -> FixPatch | None:
    text = model.line_text(problem.line)
    start = (problem.column or 1) - 1
    quote = text[start : start + 1]
    if quote not in ("'", '"'):
        return None
    return FixPatch(line=problem.line or 0, before=text, after=text.rstrip() + quote)


def _quotes_straightened(model: SourceModel, problem: SyntaxProblem) -> FixPatch | None:
    text = model.line_text(problem.line)
    after = "".join(CURLY_QUOTES.get(char, char) for char in text)
    return FixPatch(line=problem.line or 0, before=text, after=after)


def _body_indented(model: SourceModel, problem: SyntaxProblem) -> FixPatch | None:
    """Indent the lines after a ``def:`` (up to the next blank line) one level under it."""
    header = related_line(problem)
    if header is None or problem.line is None or problem.line != header + 1:
        return None
    head = model.line_text(header)
    indent = head[: len(head) - len(head.lstrip())] + "    "
    last = problem.line
    while last + 1 <= len(model.lines) and model.code(last + 1) and last - problem.line < MAX_BODY_LINES:
        last += 1
    body = [model.line_text(number) for number in range(problem.line, last + 1)]
    return FixPatch(line=problem.line, before="\n".join(body), after="\n".join(indent + line.lstrip() for line in body))


def _tabs_replaced(model: SourceModel, problem: SyntaxProblem) -> FixPatch | None:
    """Indent the line with spaces as the line above it is, where a tab stands among spaces."""
    text = model.line_text(problem.line)
    indent = text[: len(text) - len(text.lstrip())]
    if "\t" not in indent or problem.line is None:
        return None
    above = next((model.line_text(n) for n in range(problem.line - 1, 0, -1) if model.code(n)), "")
    spaces = above[: len(above) - len(above.lstrip())]
    if "\t" in spaces or not spaces:
        spaces = indent.replace("\t", "    ")
    return FixPatch(line=problem.line, before=text, after=spaces + text.lstrip())


def _print_called(model: SourceModel, problem: SyntaxProblem) -> FixPatch | None:
    text = model.line_text(problem.line)
    match = re.match(r"^(\s*)print\s+(.+?)\s*$", text)
    if match is None:
        return None
    return FixPatch(line=problem.line or 0, before=text, after=f"{match.group(1)}print({match.group(2)})")


def _comparison_written(model: SourceModel, problem: SyntaxProblem) -> FixPatch | None:
    text = model.line_text(problem.line)
    match = re.match(r"^(\s*(?:if|elif|while)\s+[^=<>!]+?)\s=\s(?!=)", text)
    if match is None:
        return None
    return FixPatch(line=problem.line or 0, before=text, after=text[: match.end(1)] + " == " + text[match.end() :])


CANDIDATES: dict[str, tuple[Callable[[SourceModel, SyntaxProblem], FixPatch | None], ...]] = {
    "not_python": (_without_terminal_lines,),
    "missing_colon": (_colon_added,),
    "unclosed_bracket": (_bracket_closed,),
    "unterminated_string": (_string_closed,),
    "invalid_character": (_quotes_straightened,),
    "indentation": (_body_indented,),
    "python2_print": (_print_called,),
    "tabs_and_spaces": (_tabs_replaced,),
    "assign_in_expression": (_comparison_written,),
}
"""For each kind of syntax error, the edits to try, in order; the first after which the file parses is offered."""
