"""Tracebacks the program printed: folded for reading, and the exception and line they name."""

from __future__ import annotations

import re

from grader.grading.diagnose.source import FILE_NAME, Source

MAX_DETAIL = 200

FRAME = re.compile(r'^\s*File "(?P<file>[^"]*)", line (?P<line>\d+), in (?P<name>\S+)')

EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?:: (?P<detail>.*))?$")


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
        match = FRAME.match(lines[index])
        if not match or match.group("file") == FILE_NAME:
            out.append(lines[index])
            index += 1
            continue
        indent = len(lines[index]) - len(lines[index].lstrip())
        count, packages = 0, []
        while index < len(lines):
            match = FRAME.match(lines[index])
            if not match or match.group("file") == FILE_NAME:
                break
            count += 1
            package = _package_of(match.group("file"))
            if package not in packages:
                packages.append(package)
            index += 1
            # The frame's source line and its ^^^ markers are indented deeper.
            while (
                index < len(lines)
                and not FRAME.match(lines[index])
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

    Only frames of the learner's file count, and only a line that exists in it.
    """
    lines = output.splitlines()
    learner_at = None
    line = None
    for index, raw in enumerate(lines):
        match = FRAME.match(raw)
        if match and match.group("file") == FILE_NAME:
            checked = text.valid_line(int(match.group("line")))
            if checked is not None:
                learner_at, line = index, checked
    exception = detail = None
    start = learner_at if learner_at is not None else 0
    for raw in lines[start:]:
        if (
            raw[:1].isspace()
            or not raw.strip()
            or raw.startswith(("Traceback", "ERROR", "INFO", "WARNING", "During", "The above", "+", "|"))
        ):
            continue
        match = EXCEPTION_LINE.match(raw.strip())
        if match and ("Error" in match.group("type") or "Exception" in match.group("type") or match.group("detail")):
            exception = match.group("type").rsplit(".", 1)[-1][:80]
            detail = (match.group("detail") or "")[:MAX_DETAIL]
            break
    return exception, detail, line
