"""Tracebacks the program printed: folded for reading, and the exception and line they name."""

from __future__ import annotations

import re

from grader.grading.diagnose.source import FILE_NAME, Source
from grader.grading.evidence.tracebacks import FRAME_LINE, parse_traceback

MAX_DETAIL = 200


def fold_traceback(output: str) -> str:
    """Error output with each run of library frames folded into one line.

    The learner's own frames (``solution.py``) stay, with their source lines; a
    run of frames from uvicorn, Starlette or FastAPI becomes
    ``  … 9 frames inside starlette, fastapi …``. Lines that are not part of a
    traceback are kept as they are.
    """
    lines = output.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        match = FRAME_LINE.match(lines[index])
        if not match or match.group("path") == FILE_NAME:
            out.append(lines[index])
            index += 1
            continue
        indent = len(lines[index]) - len(lines[index].lstrip())
        count, packages = 0, []
        while index < len(lines):
            match = FRAME_LINE.match(lines[index])
            if not match or match.group("path") == FILE_NAME:
                break
            count += 1
            package = _package_of(match.group("path"))
            if package not in packages:
                packages.append(package)
            index += 1
            # The frame's source line and its ^^^ markers are indented deeper.
            while (
                index < len(lines)
                and not FRAME_LINE.match(lines[index])
                and len(lines[index]) - len(lines[index].lstrip()) > indent
            ):
                index += 1
        label = "frame" if count == 1 else "frames"
        out.append(" " * indent + f"… {count} {label} inside {', '.join(packages[:4])} …")
    return "\n".join(out)


def learner_first(output: str, source: str) -> str:
    """Error output headed by the exception and the learner's own line, when a traceback shows them.

    The line is taken from the learner's file (as the host holds it), and only
    when a frame of that file names a line that exists.
    """
    exception, detail, line = traceback_facts(output, Source(source))
    if exception is None or line is None:
        return output
    head = f"{exception}: {detail}" if detail else exception
    code = Source(source).code(line)
    return f"{head}\n  in {FILE_NAME}, line {line}: {code}\n\n{output}"


def _package_of(path: str) -> str:
    match = re.search(r"(?:site|dist)-packages/([^/]+)/", path)
    if match:
        return match.group(1)
    return path.rsplit("/", 1)[-1] or path


def traceback_facts(output: str, text: Source) -> tuple[str | None, str | None, int | None]:
    """From a printed traceback: its exception, its message and the learner's innermost line.

    Read by the one traceback parser (``evidence.parse_traceback``); only frames of
    the learner's file count, and only a line that exists in it.
    """
    parsed = parse_traceback(output)
    if parsed is None or not parsed.exception_type:
        return None, None, None
    frame = parsed.learner_frame
    line = text.valid_line(frame.line) if frame is not None else None
    return parsed.exception_name[:80], parsed.message[:MAX_DETAIL], line
