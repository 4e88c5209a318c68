"""Checks on a submitted file before anything runs it."""

from __future__ import annotations

from pathlib import Path


class SubmissionRejected(ValueError):
    """The file cannot be graded as it is; the message says why, for the learner."""


def decode_submission(data: bytes, *, max_bytes: int) -> str:
    """The file's text, or ``SubmissionRejected`` if it is empty, too big, binary or not UTF-8."""
    if len(data) > max_bytes:
        raise SubmissionRejected(f"the file is {len(data):,} bytes; the limit is {max_bytes:,} bytes")
    if not data.strip():
        raise SubmissionRejected("the file is empty")
    if b"\x00" in data:
        raise SubmissionRejected("the file is binary (it contains NUL bytes); upload Python source text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionRejected(
            f"the file is not UTF-8 text (byte {exc.start} cannot be decoded); save it as UTF-8"
        ) from exc
    return text.removeprefix("\ufeff")


def read_submission(path: Path, *, max_bytes: int) -> str:
    """Read and check a file from disk (see ``decode_submission``)."""
    try:
        if path.stat().st_size > max_bytes:
            raise SubmissionRejected(
                f"{path}: the file is {path.stat().st_size:,} bytes; the limit is {max_bytes:,} bytes"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise SubmissionRejected(f"{path}: cannot read the file ({exc.strerror})") from exc
    try:
        return decode_submission(data, max_bytes=max_bytes)
    except SubmissionRejected as exc:
        raise SubmissionRejected(f"{path}: {exc}") from exc
