"""What every rule of ``exceptions`` shares: the ``Explanation`` it returns, the ``Evidence`` it reads,
and the helpers that make an edit of the learner's line (only where it stands in code) or find the
name a typo meant."""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from grader.grading.evidence.source import Function, Route, SourceModel
from grader.grading.evidence.tracebacks import Frame, ValidationIssue
from grader.grading.report import FixPatch

MAX_SHOWN = 80
"""The longest piece of the learner's code quoted inside words."""
CLOSE_ENOUGH = 0.7
"""How alike two names must be (difflib's ratio) to suggest one for the other."""


@dataclass(frozen=True)
class Explanation:
    """An exception explained in the learner's terms.

    cause: a stable code for the kind of mistake (listed in ``grader.grading.evidence.exceptions``).
    title/explanation/fix: the words (a title, what happened and why, what to change).
    line: the learner's line it points at (the one that raised it, or the line that
        configured what the framework refused), when known.
    fix_patch: the fix as an edit of that line, when it is one.
    raised_by_framework: whether FastAPI/pydantic raised it with no line of the learner's
        running (then ``line`` is the route, model or parameter that set it up).
    """

    cause: str
    title: str
    explanation: str
    fix: str
    line: int | None = None
    fix_patch: FixPatch | None = None
    raised_by_framework: bool = False


@dataclass(frozen=True)
class Evidence:
    """What a rule may read: the exception's name (without its module) and message, the learner's
    innermost frame, the source model, that frame's line (checked against the file) and its code, the
    route the request was for, the lines printed under the message and a validation error's items;
    in_library: whether a library the line called raised it (the line's call, not its own code)."""

    exception: str
    message: str
    frame: Frame | None
    model: SourceModel
    line: int | None
    code: str
    route: Route | None
    details: tuple[str, ...]
    issues: tuple[ValidationIssue, ...]
    in_library: bool = False

    @property
    def function(self) -> Function | None:
        """The function holding the learner's line, else the route's."""
        return self.model.function_at(self.line) if self.line else (self.route.function if self.route else None)


Rule = Callable[[Evidence], Explanation | None]


def checked(found: Explanation | None, model: SourceModel) -> Explanation | None:
    """Drop an edit that repeats the learner's line, no longer matches it, or breaks the file."""
    if found is None or found.fix_patch is None:
        return found
    patch = found.fix_patch
    patched = patch.apply(model.text)
    fine = patch.after.rstrip("\n") != patch.before.rstrip("\n") and patched is not None
    if fine and model.parsed and patched is not None:
        try:
            ast.parse(patched)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            fine = False
    if fine:
        return found
    return Explanation(
        found.cause, found.title, found.explanation, found.fix, found.line, None, found.raised_by_framework
    )


def shown(text: str) -> str:
    text = text.replace("`", "'").strip()
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def quoted_names(message: str) -> list[str]:
    """The names a message quotes (``'dict'``, ``'count'``), in order."""
    return re.findall(r"'([^']{1,100})'", message)


def replace_in_line(model: SourceModel, line: int | None, old: str, new: str, *, word: bool = False) -> FixPatch | None:
    """An edit of ``line`` replacing ``old`` by ``new`` where it stands in code (not inside a string or
    comment); ``word``: only where it is a whole name. None when the line has no such place."""
    text = model.line_text(line)
    if line is None or not text or not old:
        return None
    pattern = re.escape(old)
    if word and (old[0].isalnum() or old[0] == "_"):
        pattern = r"(?<![\w.])" + pattern
    if word and (old[-1].isalnum() or old[-1] == "_"):
        pattern += r"(?!\w)"
    in_code = code_positions(text)
    pieces, last = [], 0
    for match in re.finditer(pattern, text):
        if in_code[match.start()]:
            pieces += [text[last : match.start()], new]
            last = match.end()
    changed = "".join(pieces) + text[last:]
    if changed == text:
        return None
    return FixPatch(line=line, before=text, after=changed)


STRING_OR_COMMENT = re.compile(r"""(#.*$)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")


def code_positions(text: str) -> list[bool]:
    """For each character of ``text``, whether it is code (not inside a string literal or the comment)."""
    positions = [True] * (len(text) + 1)
    for match in STRING_OR_COMMENT.finditer(text):
        for index in range(match.start() + 1, match.end()):
            positions[index] = False
        if match.group(1):
            positions[match.start()] = False
    return positions


def statement(code: str) -> ast.Module | None:
    """One line of code parsed on its own (a compound statement's header gets a dummy body)."""
    for attempt in (code, code + " pass", code + "\n pass"):
        try:
            return ast.parse(attempt)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def closest_name(name: str, candidates: set[str] | tuple[str, ...]) -> str | None:
    """The candidate most like ``name`` (a typo's intended word), if one is close enough.

    Close enough: the same but for capitals, or one edit apart (two for longer names, a swap of
    neighbours counting as one), or alike by difflib's measure.
    """
    pool = sorted(candidate for candidate in candidates if candidate != name and not candidate.startswith("__"))
    lowered = {candidate.lower(): candidate for candidate in pool}
    if name.lower() in lowered:
        return lowered[name.lower()]
    allowed = 1 if len(name) <= 4 else 2
    scored = sorted((distance(name.lower(), candidate.lower()), candidate) for candidate in pool if len(candidate) < 60)
    if scored and scored[0][0] <= allowed:
        return scored[0][1]
    found = difflib.get_close_matches(name, pool, n=1, cutoff=CLOSE_ENOUGH)
    return found[0] if found else None


def distance(left: str, right: str) -> int:
    """Edits between two short words, a swap of neighbours counting as one (99 when they differ a lot)."""
    if abs(len(left) - len(right)) > 2 or len(left) > 60:
        return 99
    return edit_distance(left, right)


def edit_distance(left: str, right: str) -> int:
    """Levenshtein distance, counting a swap of two neighbours as one edit (long words: the longer length)."""
    if len(left) > 100 or len(right) > 100:
        return max(len(left), len(right))
    before: list[int] = []
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, start=1):
        current = [i] + [0] * len(right)
        for j, b in enumerate(right, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == right[j - 2] and left[i - 2] == b:
                current[j] = min(current[j], before[j - 2] + 1)
        before, previous = previous, current
    return previous[-1]


def body_param_names(evidence: Evidence) -> set[str]:
    """The names of the parameters FastAPI fills with the message, when the learner's line is in an endpoint."""
    function = evidence.function
    if function is None or evidence.model.route_of(function) is None:
        return set()
    return {param.name for param in function.body_params}


def route_at(model: SourceModel, line: int | None) -> Route | None:
    """The route whose decorator holds ``line`` (FastAPI raises there while the file loads)."""
    return next((route for route in model.routes if line is not None and route.line <= line <= route.end_line), None)


TEXT_CONVERSIONS = {"json.dumps", "str", "repr", "jsonable_encoder"}
"""Calls that turn the message into text."""


def text_made_by(evidence: Evidence, name: str) -> tuple[int, str, str] | None:
    """Where ``name`` was made text before the learner's line: (line, the call as written, the
    argument it converted) for ``data = json.dumps(msg)``, else None."""
    function = evidence.function
    if function is None or evidence.line is None:
        return None
    earlier = [a for a in function.assignments if a.name == name and a.line < evidence.line]
    if not earlier:
        return None
    for call in earlier[-1].calls:
        if call.name in TEXT_CONVERSIONS or call.name.endswith(".dumps"):
            argument = re.match(r"^[\w.]+\(\s*(?P<arg>[A-Za-z_]\w*)\s*\)$", call.text)
            return call.line, call.text, argument["arg"] if argument else ""
    return None


def value_read_on_line(code: str) -> str | None:
    """The name the line reads a key or an attribute from (``data`` in ``data["text"]`` or ``data.items()``)."""
    match = re.search(r"(?<![\w.])(?P<name>[A-Za-z_]\w*)\s*(?:\[|\.\w)", code)
    return match["name"] if match else None
