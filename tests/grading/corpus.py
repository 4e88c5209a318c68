"""The mistake corpus: its files, their headers, and grading them the way the tests and benchmarks do.

A corpus file (``submissions/mistakes/<name>.py`` or ``submissions/heldout/<name>.py``)
opens with a block of comment lines: a sentence saying what the learner did, then
``# key: value`` headers (see tests/grading/test_diagnoses.py for their meaning,
and ``HEADER_KEYS`` below). Its corrected version, the same program mended by the
smallest edit a tutor would suggest, is ``corrected/<name>.py`` beside it.

Nothing here runs a submission: the texts are handed to ``grade_source``, which
grades them in the sandbox.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.grading.report import Diagnosis, Report
from grader.grading.spec import ExerciseSpec

from .support import SUBMISSIONS

GROUPS = ("mistakes", "heldout")
CAUSES_FILE = SUBMISSIONS / "mistakes" / "CAUSES.md"
SEED = 7
# key -> whether it may hold several phrases separated by " | ".
HEADER_KEYS = {
    "cause": False,
    "words": True,
    "at": False,
    "never": True,
    "error": False,
    "diagnoses": False,
    "limits": False,
    "fix": False,
    "known_miss": False,
    "uncorrectable": False,
}
_HEADER_LINE = re.compile(r"^#\s*([a-z_]+):\s?(.*)$")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
# Words that make the code span after them (within a few words) a quote of what to take away.
_QUOTED = re.compile(r"\b(remove|delete|drop|move|replace|instead of|rather than|not|without|than)\b[^.:;]*$")
_QUOTE_REACH = 40


@dataclass(frozen=True)
class CorpusFile:
    """One mistake of the corpus: where it is, its text, and its header block."""

    path: Path
    group: str
    source: str

    @property
    def name(self) -> str:
        """The file's stem, which names the mistake."""
        return self.path.stem

    @property
    def corrected_path(self) -> Path:
        """Where the corrected version is (or would be)."""
        return self.path.parent / "corrected" / self.path.name

    def header_block(self) -> list[str]:
        """The comment lines the file opens with."""
        block = []
        for line in self.source.splitlines():
            if not line.startswith("#"):
                break
            block.append(line)
        return block

    def headers(self) -> dict[str, list[str]]:
        """Every ``# key: value`` of the header block, by key (a key may be given more than once: a defect)."""
        found: dict[str, list[str]] = {}
        for line in self.header_block():
            match = _HEADER_LINE.match(line)
            if match and match.group(1) in HEADER_KEYS:
                found.setdefault(match.group(1), []).append(match.group(2).strip())
        return found

    def header(self, key: str) -> str | None:
        """The value of one header, or None."""
        values = self.headers().get(key)
        return values[0] if values else None

    def phrases(self, key: str) -> list[str]:
        """The phrases of a `` | ``-separated header (empty when it is absent)."""
        value = self.header(key)
        return [phrase for phrase in value.split(" | ") if phrase] if value else []

    @property
    def quick(self) -> bool:
        """Whether the file is meant to hang and is graded with short limits."""
        return self.header("limits") == "quick"

    @property
    def known_miss(self) -> str | None:
        """Why the diagnosis of this file is known to be wrong, when it is."""
        return self.header("known_miss")

    def at_line(self) -> int | None:
        """The line the first diagnosis must point at (None: at no line)."""
        at = self.header("at")
        return None if at in (None, "none") else expected_line(self.source, at)


def quick_limits(spec: ExerciseSpec) -> ExerciseSpec:
    """``spec`` with short time limits, for submissions meant to hang.

    The limits are what is under test, not their values; shorter ones keep the
    suite fast on a 2-core machine.
    """
    limits = spec.limits.model_copy(update={"startup_seconds": 4.0, "request_seconds": 2.0, "total_seconds": 30.0})
    return spec.model_copy(update={"limits": limits})


def expected_line(source: str, fragment: str) -> int:
    """The number of the first line of code (not a header comment) holding ``fragment``."""
    for number, line in enumerate(source.splitlines(), start=1):
        if not line.startswith("#") and fragment in line:
            return number
    raise AssertionError(f"no line holds {fragment!r}")


def corpus_files(group: str) -> list[CorpusFile]:
    """The mistakes of one group (``mistakes`` or ``heldout``), in name order."""
    folder = SUBMISSIONS / group
    return [CorpusFile(path, group, path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.py"))]


def all_corpus_files() -> list[CorpusFile]:
    """Every mistake of the corpus, the held-out ones included."""
    return [file for group in GROUPS for file in corpus_files(group)]


def cause_codes() -> dict[str, str]:
    """The cause codes CAUSES.md defines, with their meaning."""
    codes = {}
    for line in CAUSES_FILE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^- `([a-z_]+)` — (.+)$", line)
        if match:
            codes[match.group(1)] = match.group(2)
    return codes


def known_miss_marks(path: Path) -> list[pytest.MarkDecorator]:
    """The marks of a test of one file's diagnosis: a known miss is a strict xfail with its reason."""
    reason = CorpusFile(path, path.parent.name, path.read_text(encoding="utf-8")).known_miss
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


# --- what a diagnosis proposes ------------------------------------------------------


def _same_code(proposed: str, own: str) -> bool:
    """Whether proposed code says what the learner's code says, spacing aside.

    Indentation counts only when the proposed code has some: then it is what the fix is about.
    """

    def words(code: str) -> str:
        return " ".join(code.split())

    def indented(code: str) -> list[str]:
        return [line.expandtabs(8).rstrip() for line in code.strip("\n").splitlines()]

    if proposed[:1].isspace():
        return indented(proposed) == indented(own)
    return words(proposed) == words(own)


def proposed_code(fix: str) -> list[str]:
    """The code spans of a fix's words that it proposes to write.

    A span the words quote as what to take away or move ("remove `exit()`", "move
    `app.include_router(router)` below the routes", "`@app.post(...)` instead of
    `@app.get(...)`") is not proposed.
    """
    proposed = []
    for match in _CODE_SPAN.finditer(fix):
        # Earlier spans count as words here: their dots and colons do not end a sentence.
        before = _CODE_SPAN.sub("code", fix[: match.start()])[-_QUOTE_REACH:].lower()
        if not _QUOTED.search(before):
            proposed.append(match.group(1))
    return proposed


def repeated_code(diagnosis: Diagnosis, source: str) -> list[str]:
    """The code a diagnosis proposes that the learner's own line already says (empty when none)."""
    lines = source.splitlines()
    repeated = []
    if diagnosis.line is not None and 1 <= diagnosis.line <= len(lines):
        own = lines[diagnosis.line - 1]
        repeated += [span for span in proposed_code(diagnosis.fix) if _same_code(span, own)]
    patch = diagnosis.fix_patch
    if patch is not None:
        own_lines = "\n".join(lines[patch.line - 1 : patch.line - 1 + max(1, len(patch.before.splitlines()))])
        if _same_code(patch.after, own_lines) or _same_code(patch.after, patch.before):
            repeated.append(patch.after)
    return repeated


# --- grading ------------------------------------------------------------------------


@dataclass(frozen=True)
class Graded:
    """A corpus file's report and how long grading it took."""

    report: Report
    seconds: float


def grade_all(
    grade: Callable[..., Report], jobs: list[tuple[str, object, str]], *, workers: int = 2
) -> dict[str, Graded]:
    """Grade ``(key, spec, source)`` jobs, ``workers`` at a time; reports by key."""

    def run(job: tuple[str, object, str]) -> tuple[str, Graded]:
        key, spec, source = job
        began = time.monotonic()
        report = grade(spec, source, seed=SEED)
        return key, Graded(report, time.monotonic() - began)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(run, jobs))
