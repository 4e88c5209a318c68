"""The one reader of printed tracebacks: the exception, its message, the frames, the learner's own.

A traceback reaches the host as text the submission's process printed, so it
is read with fixed patterns and nothing in it is trusted beyond its shape: a
frame counts as the learner's only when it names their file, and callers check
its line against the file before pointing at it.

It reads Python's usual format and what the grading makes of it: runs of
library frames folded into ``… 17 frames inside uvicorn, fastapi …``, the
exception and learner's line put first, chained exceptions ("During handling of
the above exception...") and exception groups (``| `` prefixes). The boot
script's own account of an error while loading (``parse_load_error``) has no
``Traceback`` header and is read apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LEARNER_FILE = "solution.py"
"""The name the learner's file has inside the sandbox (traceback frames in it are theirs)."""
MAX_MESSAGE_CHARS = 500
MAX_DETAIL_LINES = 20
MAX_LINES = 5000
"""A traceback longer than this is read from its end (the exception is last)."""
MAX_TEXT_CHARS = 200_000
"""The most of a traceback's text kept for showing (its end)."""

TRACEBACK_START = re.compile(r"^(?:Exception Group )?Traceback \(most recent call last\):?\s*$")
FRAME_LINE = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>.+))?$')
FOLDED_LINE = re.compile(r"^\s*… (?P<count>\d+) frames? inside (?P<where>.+) …$")
REPEATED_LINE = re.compile(r"^\s*\[Previous line repeated (?P<count>\d+) more times?\]$")
EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")
GROUP_PREFIX = re.compile(r"^\s*(?:\| ?)+")
GROUP_RULE = re.compile(r"^\s*\+[-+]*(?:\s*\d+\s*-+)?\s*$|^\s*\+-+\s.*$")
CHAIN_LINES = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
LOG_PREFIXES = ("INFO:", "WARNING:", "ERROR:", "DEBUG:", "CRITICAL:")
VALIDATION_ITEM = re.compile(
    r"^\s*\{'type': '(?P<type>[\w.]+)', 'loc': \((?P<loc>[^)]*)\), 'msg': (?P<msg>'[^']*'|\"[^\"]*\")"
)
LOC_PART = re.compile(r"'([^']*)'|\"([^\"]*)\"|(\d+)")


@dataclass(frozen=True)
class Frame:
    """One frame of a traceback; ``learner`` when it is in the learner's file."""

    path: str
    line: int
    function: str
    source: str

    @property
    def learner(self) -> bool:
        """Whether the frame is in the learner's own file."""
        return self.path.rsplit("/", 1)[-1] == LEARNER_FILE and not self.path.startswith("/opt/")


@dataclass(frozen=True)
class ValidationIssue:
    """One item of a pydantic/FastAPI validation error: ``loc`` such as ``("response", "received")``.

    input_kind: the kind of value refused, judged by how it was printed (``dict``, ``list``,
    ``str``, ``int``, ``float``, ``bool``, ``None``), or '' when it cannot be told.
    """

    type: str
    loc: tuple[str | int, ...]
    msg: str
    input_kind: str = ""


@dataclass(frozen=True)
class ParsedTraceback:
    """A traceback read for explaining and for showing.

    exception_type: the exception's class as printed (``TypeError``,
        ``fastapi.exceptions.ResponseValidationError``); ``exception_name`` without the module.
    message: the first line of its message; details: the indented lines under it (a
        validation error's items), at most a few.
    frames: every frame shown, outermost first; folded_frames: library frames the grading
        folded away; repeated: frames Python left out as "[Previous line repeated N more times]".
    chained: the exception lines of earlier tracebacks in a chain ("During handling...").
    after: lines printed after the exception (a warning such as "coroutine ... was never awaited").
    text: the traceback as printed, for showing in full.
    """

    exception_type: str
    message: str
    frames: tuple[Frame, ...]
    text: str
    details: tuple[str, ...] = ()
    folded_frames: int = 0
    repeated: int = 0
    chained: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    raised_after_learner: bool = False
    validation_issues: tuple[ValidationIssue, ...] = field(default=())

    @property
    def exception_name(self) -> str:
        """The exception's class without its module (``ResponseValidationError``)."""
        return self.exception_type.rsplit(".", 1)[-1]

    @property
    def exception(self) -> str:
        """The exception's line as printed (``IndexError: list index out of range``)."""
        if not self.exception_type:
            return ""
        return f"{self.exception_type}: {self.message}" if self.message else self.exception_type

    @property
    def learner_frames(self) -> list[Frame]:
        """The frames in the learner's file, outermost first."""
        return [frame for frame in self.frames if frame.learner]

    @property
    def library_frames(self) -> list[Frame]:
        """The frames outside the learner's file that were shown."""
        return [frame for frame in self.frames if not frame.learner]

    @property
    def library_frame_count(self) -> int:
        """How many frames were inside libraries, shown or already folded."""
        return len(self.library_frames) + self.folded_frames

    @property
    def learner_frame(self) -> Frame | None:
        """The learner's innermost frame: the line of theirs that was running when it was raised."""
        own = self.learner_frames
        return own[-1] if own else None

    @property
    def raised_by_framework(self) -> bool:
        """Whether no line of the learner's was running: FastAPI, Starlette or pydantic raised it on its own."""
        return self.learner_frame is None

    @property
    def raised_in_library(self) -> bool:
        """Whether a library the learner's line called raised it (``json.loads(msg)``), not the line itself."""
        return self.learner_frame is not None and self.raised_after_learner


def parse_traceback(text: str) -> ParsedTraceback | None:
    """The last traceback in ``text`` (Python's usual format), or None when there is none."""
    lines = [_ungrouped(line) for line in text.strip("\n").splitlines()]
    starts = [
        index
        for index, line in enumerate(lines)
        if "Traceback (most recent" in line and TRACEBACK_START.match(line.strip())
    ]
    if not starts:
        return None
    chained = tuple(_exception_line_in(lines[start:end]) for start, end in zip(starts, starts[1:], strict=False))
    start = starts[-1]
    frames: list[Frame] = []
    folded = repeated = 0
    # A flood of frames is read from its end, where the exception is.
    index = max(start + 1, len(lines) - MAX_LINES)
    after_frames = index
    raised_after_learner = False
    while index < len(lines):
        line = lines[index]
        run = FOLDED_LINE.match(line)
        again = REPEATED_LINE.match(line)
        frame = FRAME_LINE.match(line)
        if run:
            folded += int(run["count"])
            raised_after_learner = any(f.learner for f in frames)
            after_frames = index + 1
        elif again:
            repeated += int(again["count"])
            after_frames = index + 1
        elif frame:
            source = ""
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if following.startswith("    ") and not FRAME_LINE.match(following) and not FOLDED_LINE.match(following):
                source = following.strip()
            found = Frame(frame["path"], int(frame["line"]), (frame["function"] or "").strip(), source[:300])
            frames.append(found)
            raised_after_learner = not found.learner and any(f.learner for f in frames)
            after_frames = index + 1
        elif line and not line.startswith(" ") and not GROUP_RULE.match(line):
            break
        index += 1
    exception_type, message, details, rest = _exception_after(lines[after_frames:])
    return ParsedTraceback(
        exception_type=exception_type,
        message=message,
        frames=tuple(frames),
        text="\n".join(lines[start:])[-MAX_TEXT_CHARS:],
        details=details,
        folded_frames=folded,
        repeated=repeated,
        chained=tuple(line for line in chained if line),
        after=rest,
        raised_after_learner=raised_after_learner,
        validation_issues=_validation_issues(details),
    )


def parse_load_error(message: str) -> ParsedTraceback | None:
    """The boot script's account of an exception raised while the file was loading, or None.

    Its first line is the exception's (``AttributeError: 'FastAPI' object has no attribute
    'Post'``); below come ``in solution.py, line N:`` and the learner's frames.
    """
    lines = message.strip("\n").splitlines()
    if not lines:
        return None
    traceback = parse_traceback(message)
    if traceback is not None:
        return traceback
    head = EXCEPTION_LINE.match(lines[0].strip())
    if head is None or lines[0].startswith(" "):
        return None
    frames = []
    for index, line in enumerate(lines):
        frame = FRAME_LINE.match(line)
        if frame:
            following = lines[index + 1] if index + 1 < len(lines) else ""
            source = following.strip() if following.startswith("    ") and not FRAME_LINE.match(following) else ""
            frames.append(Frame(frame["path"], int(frame["line"]), (frame["function"] or "").strip(), source[:300]))
    if not frames:
        where = re.match(
            r"^\s*in (?P<path>\S+), line (?P<line>\d+):?\s*(?P<code>.*)$", lines[1] if len(lines) > 1 else ""
        )
        if where:
            code = where["code"] or (lines[2].strip() if len(lines) > 2 else "")
            frames.append(Frame(where["path"], int(where["line"]), "<module>", code[:300]))
    return ParsedTraceback(
        exception_type=head["type"],
        message=(head["message"] or "")[:MAX_MESSAGE_CHARS],
        frames=tuple(frames),
        text=message.strip("\n"),
    )


def _ungrouped(line: str) -> str:
    """A line of an exception group's traceback without its ``| `` margin."""
    if GROUP_PREFIX.match(line) and not line.lstrip().startswith("||"):
        return GROUP_PREFIX.sub("", line, count=1)
    return line


def _exception_line_in(lines: list[str]) -> str:
    """The exception line of one traceback of a chain."""
    kind, message, _, _ = _exception_after(
        [line for line in lines[1:] if not FRAME_LINE.match(line) and not line.startswith(" ")]
    )
    return f"{kind}: {message}" if kind and message else kind


def _exception_after(lines: list[str]) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    """(type, message, detail lines, lines after) from the lines that follow the last frame."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or line.startswith(" ") or GROUP_RULE.match(line) or stripped in CHAIN_LINES:
            continue
        if stripped.startswith(LOG_PREFIXES) or TRACEBACK_START.match(stripped):
            continue
        match = EXCEPTION_LINE.match(stripped)
        if match is None:
            continue
        details = []
        rest_start = index + 1
        for follow in lines[index + 1 : index + 1 + MAX_DETAIL_LINES * 4]:
            if not follow.startswith(" ") or not follow.strip():
                break
            details.append(follow.rstrip()[:MAX_MESSAGE_CHARS])
            rest_start += 1
        rest = tuple(line.strip()[:MAX_MESSAGE_CHARS] for line in lines[rest_start:] if line.strip())[:MAX_DETAIL_LINES]
        return (
            match["type"][:100],
            (match["message"] or "").strip()[:MAX_MESSAGE_CHARS],
            tuple(details[:MAX_DETAIL_LINES]),
            rest,
        )
    return "", "", (), ()


def _validation_issues(details: tuple[str, ...]) -> tuple[ValidationIssue, ...]:
    """The items of a printed validation error (``{'type': ..., 'loc': (...), 'msg': ...}``)."""
    found = []
    for line in details:
        match = VALIDATION_ITEM.match(line)
        if match is None:
            continue
        loc: list[str | int] = []
        for quoted, double, number in LOC_PART.findall(match["loc"]):
            loc.append(int(number) if number else quoted or double)
        found.append(ValidationIssue(match["type"], tuple(loc), match["msg"][1:-1], _input_kind(line)))
    return tuple(found)


INPUT_VALUE = re.compile(r"'input': (?P<value>.)")
NUMBER = re.compile(r"'input': -?\d+(?P<point>\.\d)?")


def _input_kind(line: str) -> str:
    """The kind of a validation error's printed ``'input'`` value, from its first characters."""
    match = INPUT_VALUE.search(line)
    if match is None:
        return ""
    first = match["value"]
    if first in "{[\"'":
        return {"{": "dict", "[": "list"}.get(first, "str")
    number = NUMBER.search(line)
    if number:
        return "float" if number["point"] else "int"
    rest = line[match.start("value") :]
    for word, kind in (("True", "bool"), ("False", "bool"), ("None", "None")):
        if rest.startswith(word):
            return kind
    return ""
