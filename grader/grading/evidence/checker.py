"""A maintained static checker's findings (pyflakes) as facts about the learner's file.

pyflakes reads the syntax tree only, never runs the file, and reports what a
tutor spots at a glance: a name used but never defined (often a typo), a local
variable read before it is assigned (``count += 1`` without ``global``), a
function defined twice (the second hides the first), an import never used.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Literal

from pyflakes import checker as pyflakes_checker
from pyflakes import messages as pyflakes_messages

from grader.grading.evidence.source import BYTE_ORDER_MARK, MAX_SOURCE_CHARS, shell_lines, without_shell_lines

FactKind = Literal[
    "undefined_name",
    "local_before_assignment",
    "redefinition",
    "unused_import",
    "unused_variable",
    "star_import",
    "repeated_key",
    "is_literal",
    "return_outside_function",
    "fstring_without_placeholders",
    "duplicate_argument",
    "other",
]

KINDS: dict[type[pyflakes_messages.Message], FactKind] = {
    pyflakes_messages.UndefinedName: "undefined_name",
    pyflakes_messages.UndefinedLocal: "local_before_assignment",
    pyflakes_messages.RedefinedWhileUnused: "redefinition",
    pyflakes_messages.UnusedImport: "unused_import",
    pyflakes_messages.UnusedVariable: "unused_variable",
    pyflakes_messages.ImportStarUsed: "star_import",
    pyflakes_messages.ImportStarUsage: "star_import",
    pyflakes_messages.MultiValueRepeatedKeyLiteral: "repeated_key",
    pyflakes_messages.IsLiteral: "is_literal",
    pyflakes_messages.ReturnOutsideFunction: "return_outside_function",
    pyflakes_messages.FStringMissingPlaceholders: "fstring_without_placeholders",
    pyflakes_messages.DuplicateArgument: "duplicate_argument",
}
"""pyflakes's message classes, by what they mean here."""


@dataclass(frozen=True)
class CheckerFact:
    """One finding of the static checker.

    kind: what it found (``undefined_name``, ``redefinition``...; ``other`` for the rest).
    line/column: where (1-based line; column as pyflakes counts it, from 0).
    name: the name it is about, when it is about one ('' otherwise).
    other_line: the earlier line it relates to (the first definition of a redefined function,
        the top-level binding of a local read before assignment), when there is one.
    message: pyflakes's own words.
    """

    kind: FactKind
    line: int
    column: int
    name: str
    message: str
    other_line: int | None = None


def checker_facts(text: str) -> list[CheckerFact]:
    """pyflakes's findings on ``text``, in line order; empty when the file cannot be read at all."""
    if len(text) > MAX_SOURCE_CHARS or "\x00" in text:
        return []
    try:
        tree = _tree(text.removeprefix(BYTE_ORDER_MARK))
        if tree is None:
            return []
        found = pyflakes_checker.Checker(tree, filename="solution.py").messages
        return sorted((_fact(message) for message in found), key=lambda fact: (fact.line, fact.column))
    except (RecursionError, MemoryError, ValueError, TypeError):
        return []


def _tree(text: str) -> ast.Module | None:
    """The file's tree; when only terminal or notebook lines stop Python, the tree without them."""
    try:
        return ast.parse(text, filename="solution.py")
    except SyntaxError:
        lines = tuple(text.splitlines())
        shell = shell_lines(lines)
        if not shell:
            return None
        cleaned, _ = without_shell_lines(lines, shell)
        try:
            return ast.parse(cleaned, filename="solution.py")
        except SyntaxError:
            return None


def _fact(message: pyflakes_messages.Message) -> CheckerFact:
    kind = KINDS.get(type(message), "other")
    args = tuple(message.message_args)
    name = str(args[0]) if args and isinstance(args[0], str) else ""
    other = args[1] if len(args) > 1 and isinstance(args[1], int) and kind != "other" else None
    return CheckerFact(
        kind=kind,
        line=int(message.lineno),
        column=int(getattr(message, "col", 0) or 0),
        name=name,
        message=message.message % args,
        other_line=other,
    )
