"""Which line of the learner's file a request that never answered was blocked on.

The boot script samples a request that runs too long (``stall`` events: the
innermost line of the submission on its stack and that frame's function). The
submission runs in the same process and could write such lines itself, so a
sample is used only once the host has checked it against the source: the line
is in the file, the function name is an identifier, and, when the file parses,
a function of that name spans that line. The line's text comes from the source
the host holds, never from the sandbox.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

CODE_CHARS = 80


@dataclass(frozen=True)
class BlockedLine:
    """The learner's line a request was still running or waiting on, and the function it is in."""

    line: int
    function: str
    code: str

    def words(self) -> str:
        """The place in words: line, code and function."""
        code = self.code if len(self.code) <= CODE_CHARS else self.code[: CODE_CHARS - 1] + "…"
        return f"line {self.line} (`{code}`) in {self.function}()"


def _function_spans(source: str) -> dict[str, list[tuple[int, int]]] | None:
    """Each function's name and the lines it spans, or None when the file does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    spans: dict[str, list[tuple[int, int]]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            spans.setdefault(node.name, []).append((node.lineno, node.end_lineno or node.lineno))
    return spans


def blocked_line(samples: list[dict[str, Any]], source: str) -> BlockedLine | None:
    """The latest sample that passes the host's checks, as a ``BlockedLine``; None when none does."""
    lines = source.splitlines()
    spans = _function_spans(source)
    for sample in reversed(samples):
        line, function = sample.get("line"), sample.get("function")
        if not isinstance(line, int) or isinstance(line, bool) or not 1 <= line <= len(lines):
            continue
        if not isinstance(function, str) or not function.isidentifier():
            continue
        if spans is not None and not any(start <= line <= end for start, end in spans.get(function, [])):
            continue
        return BlockedLine(line=line, function=function, code=lines[line - 1].strip())
    return None
