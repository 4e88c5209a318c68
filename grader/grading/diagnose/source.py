"""The learner's file as text: its lines and the few places a diagnosis points at."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

FILE_NAME = "solution.py"

ROUTE = re.compile(
    r"""^\s*@\s*([A-Za-z_]\w*)\.(get|post|put|patch|delete|head|options|api_route|route)\s*\(\s*(?:path\s*=\s*)?[rRuU]?(["'])(.*?)\3"""
)

FUNCTION = re.compile(r"^\s*(async\s+)?def\s+([A-Za-z_]\w*)\s*\(")


@dataclass
class Source:
    """The learner's file as text, with the few places a diagnosis points at."""

    text: str
    lines: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = self.text.splitlines()

    def valid_line(self, value: Any) -> int | None:
        """``value`` if it is a line number inside this file, else None."""
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(self.lines):
            return value
        return None

    def code(self, line: int | None) -> str:
        """The text of a line, stripped ('' when unknown)."""
        return self.lines[line - 1].strip() if line is not None and 1 <= line <= len(self.lines) else ""

    def find(self, pattern: str | re.Pattern[str], start: int = 1, end: int | None = None) -> int | None:
        """The first line (from ``start``) matching ``pattern``, skipping comments."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        stop = len(self.lines) if end is None else min(end, len(self.lines))
        for number in range(max(start, 1), stop + 1):
            text = self.lines[number - 1]
            if text.lstrip().startswith("#"):
                continue
            if regex.search(text):
                return number
        return None

    def routes(self) -> list[tuple[int, str, str]]:
        """(line, method, path) of every route decorator."""
        found = []
        for number, text in enumerate(self.lines, start=1):
            match = ROUTE.match(text)
            if match:
                found.append((number, match.group(2), match.group(4)))
        return found

    def route_for(self, path: str) -> tuple[int, str, str] | None:
        """The route decorator closest to ``path``: the same path, else the first one."""
        routes = self.routes()
        for route in routes:
            if route[2] == path:
                return route
        return routes[0] if routes else None

    def endpoint(self, path: str) -> int | None:
        """The ``def`` line of the function registered for ``path`` (or of the first endpoint)."""
        route = self.route_for(path)
        if route is None:
            return None
        return self.find(FUNCTION, route[0])

    def endpoint_end(self, start: int) -> int:
        """The last line of the function defined at ``start`` (by indentation)."""
        indent = len(self.lines[start - 1]) - len(self.lines[start - 1].lstrip())
        last = start
        for number in range(start + 1, len(self.lines) + 1):
            text = self.lines[number - 1]
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            if len(text) - len(text.lstrip()) <= indent and not text.lstrip().startswith((")", "]", "}")):
                break
            last = number
        return last

    def in_endpoint(self, path: str, pattern: str) -> int | None:
        """The first line of the endpoint for ``path`` matching ``pattern``."""
        start = self.endpoint(path)
        if start is None:
            return None
        return self.find(pattern, start, self.endpoint_end(start))

    def returned(self, path: str) -> int | None:
        """The first ``return`` line of the endpoint for ``path``."""
        return self.in_endpoint(path, r"^\s*return\b")

    def quoted(self, word: str) -> int | None:
        """The first line holding ``word`` in quotes."""
        return self.find(re.compile(r"""["']""" + re.escape(word) + r"""["']"""))
