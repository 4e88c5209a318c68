"""Logging set-up: plain text or one JSON object per line, with the submission being graded.

``grading_submission(id)`` marks the current thread as grading submission ``id``:
every record logged meanwhile, by the worker or by the grading core underneath,
carries ``submission_id`` (a field in JSON, ``[submission N]`` in text).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Literal, TextIO

_submission: contextvars.ContextVar[int | None] = contextvars.ContextVar("grader_submission_id", default=None)

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(submission_prefix)s%(message)s"


@contextmanager
def grading_submission(submission_id: int) -> Iterator[None]:
    """Within the block, this thread's log records carry ``submission_id``."""
    marker = _submission.set(submission_id)
    try:
        yield
    finally:
        _submission.reset(marker)


def current_submission() -> int | None:
    """The submission this thread is grading, if any."""
    return _submission.get()


class SubmissionFilter(logging.Filter):
    """Adds ``submission_id`` (and a text prefix) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        submission_id = getattr(record, "submission_id", None)
        if submission_id is None:
            submission_id = _submission.get()
            record.submission_id = submission_id
        record.submission_prefix = f"[submission {submission_id}] " if submission_id is not None else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, submission_id, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        submission_id = getattr(record, "submission_id", None)
        if submission_id is not None:
            entry["submission_id"] = submission_id
        event = getattr(record, "event", None)
        if event is not None:
            entry["event"] = event
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(*, format: LogFormat = "text", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send the service's logs to ``stream`` (stderr) as text or JSON lines; replaces earlier set-up."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(SubmissionFilter())
    handler.setFormatter(JsonFormatter() if format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_grader_handler", False):
            root.removeHandler(existing)
    handler._grader_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
