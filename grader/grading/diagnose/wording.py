"""What every rule's wording may use: the context of a mistake and the shared phrasing helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from grader.grading.compare import json_equal
from grader.grading.diagnose.responses import NOT_JSON, Finding, parse_body
from grader.grading.diagnose.source import Source
from grader.grading.evidence import Route, SourceModel
from grader.grading.report import CaseResult, FixPatch

SHOWN_VALUE = 60


class Context(NamedTuple):
    """What the wording of a case diagnosis may use."""

    found: Finding
    cases: list[CaseResult]
    text: Source
    path: str
    method: str
    every_case: list[CaseResult]
    model: SourceModel
    """The learner's file read into facts (routes, parameters, returns, state...)."""

    @property
    def route(self) -> Route | None:
        """The learner's route for this request, when the file shows one."""
        return self.model.route_for(self.path, self.method)

    @property
    def parameter(self) -> str:
        """The name the learner gave the message (their endpoint's body parameter), else ``msg``."""
        route = self.route
        params = route.function.body_params if route is not None else ()
        return params[0].name if params else "msg"

    def reply(self) -> str:
        """The expression the endpoint should return, in the learner's names."""
        return reply_expression(self.cases, self.parameter)


class Words(NamedTuple):
    """What a rule says about a mistake.

    title, explanation, fix: the diagnosis's words; line: the learner's line it points at;
    patch: the fix as an edit of that line, when it is a concrete one.
    """

    title: str
    explanation: str
    fix: str
    line: int | None
    patch: FixPatch | None = None
    cause: str | None = None
    """A more precise cause than the finding's, when the learner's code shows one."""


Rule = Callable[[Context], Words]


def line_patch(text: Source, line: int | None, after: str) -> FixPatch | None:
    """An edit that makes ``line`` read ``after`` (keeping its indentation), or None when it changes nothing."""
    if text.valid_line(line) is None or line is None:
        return None
    before = text.lines[line - 1]
    indent = before[: len(before) - len(before.lstrip())]
    new = indent + after.strip()
    if new.strip() == before.strip():
        return None
    return FixPatch(line, before, new)


def replaced_in_line(text: Source, line: int | None, old: str, new: str) -> FixPatch | None:
    """An edit of ``line`` that replaces the first ``old`` with ``new``, when the line holds ``old``."""
    if text.valid_line(line) is None or line is None:
        return None
    before = text.lines[line - 1]
    if old not in before:
        return None
    return line_patch(text, line, before.replace(old, new, 1))


def echoes(cases: list[CaseResult]) -> bool:
    """Whether these cases expect the request's body back, wrapped in an object."""
    return reply_expression(cases).endswith(": msg}")


def reply_expression(cases: list[CaseResult], parameter: str = "msg") -> str:
    """The expression the endpoint should return, from what the cases expect.

    For an echo exercise it is ``{"received": msg}`` (with the name of the
    learner's own parameter); otherwise the expected object itself.
    """
    for case in cases:
        expected = parse_body(case.expected.body)
        sent = parse_body(case.request.body)
        if isinstance(expected, dict) and len(expected) == 1 and sent is not NOT_JSON:
            key, inner = next(iter(expected.items()))
            if json_equal(inner, sent):
                return "{" + json.dumps(key) + f": {parameter}}}"
    for case in cases:
        expected = parse_body(case.expected.body)
        if expected is not NOT_JSON:
            return show(expected)
    return "the object the exercise describes"


def show(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= SHOWN_VALUE else shown[: SHOWN_VALUE - 1] + "…"


def quote_code(text: str) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= 120 else text[:119] + "…"


def at_line(text: Source, line: int | None) -> str:
    code = text.code(text.valid_line(line))
    return f" (line {line}: `{quote_code(code)}`)" if code else ""


def count_cases(cases: list[CaseResult]) -> str:
    return f"{len(cases)} case{'s' if len(cases) != 1 else ''}"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def first_difference(cases: list[CaseResult]) -> str:
    for case in cases:
        if case.diff:
            first = case.diff.splitlines()[0]
            if first.startswith("in "):
                return first.split(": ", 1)[-1] + ". "
    return ""


def replaced_string(text: Source, line: int | None, old: str, new: str) -> FixPatch | None:
    """An edit of ``line`` that turns the string literal ``old`` into ``new`` (in either kind of quotes)."""
    for quote in "\"'":
        patch = replaced_in_line(text, line, f"{quote}{old}{quote}", f"{quote}{new}{quote}")
        if patch is not None:
            return patch
    return None


def unwrapped_call(code: str, names: tuple[str, ...]) -> tuple[str, str] | None:
    """``code`` with the first call to one of ``names`` replaced by its only argument, and that call.

    ``return {"received": json.dumps(msg)}`` with ``("json.dumps",)`` gives
    ``return {"received": msg}``. None when no such call of one argument is there.
    """
    for match in re.finditer(r"(?<![\w.])(" + "|".join(re.escape(name) for name in names) + r")\s*\(", code):
        end = _closing_bracket(code, match.end() - 1)
        if end is None:
            continue
        argument = code[match.end() : end].strip()
        if not argument or _has_top_level_comma(argument):
            continue
        return code[: match.start()] + argument + code[end + 1 :], code[match.start() : end + 1]
    return None


def _code_chars(code: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, bracket depth after it) of each character outside string literals, from ``start``."""
    depth = 0
    quote = ""
    for index in range(start, len(code)):
        char = code[index]
        if quote:
            if char == quote and code[index - 1] != "\\":
                quote = ""
        elif char in "\"'":
            quote = char
        else:
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
            yield index, char, depth


def _closing_bracket(code: str, opening: int) -> int | None:
    return next((index for index, char, depth in _code_chars(code, opening) if char in ")]}" and depth == 0), None)


def _has_top_level_comma(code: str) -> bool:
    return any(char == "," and depth == 0 for _, char, depth in _code_chars(code))
