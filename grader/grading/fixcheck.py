"""Checked fixes: a diagnosis's fix is shown as code only once grading the changed file proved it.

A diagnosis whose fix is a concrete edit carries it as a ``FixPatch``. Before
that edit is shown to the learner as code, the file with the edit made is
graded the way the learner's was (same exercise, limits and seed, so the same
random cases) and the outcome is kept as the diagnosis's ``FixCheck``:

* ``passed``: every case the diagnosis explains passes with the change, and no
  case that passed before fails; for a mistake that stopped every case (the file
  did not load), the changed file loads.
* ``failed``: it did not; the card keeps its words and shows no code.
* ``not_checked``: the grader did not run it (busy, or it failed itself).

Nothing here knows of a queue or a database: ``grade`` is passed in, so the web
service checks fixes in a low-priority job and ``autograder grade`` checks them
before printing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from grader.grading.report import Diagnosis, FixCheck, FixPatch, Report

log = logging.getLogger(__name__)

GradeChanged = Callable[[str], Report]
"""Grades a changed source the way the learner's file was graded (same spec, limits and seed)."""

DIFF_CONTEXT_LINES = 1
"""Unchanged lines shown above and below an edit."""


def needs_check(diagnosis: Diagnosis) -> bool:
    """Whether the diagnosis proposes an edit that nobody has checked yet."""
    return diagnosis.fix_patch is not None and (diagnosis.fix_check is None or diagnosis.fix_check.status == "pending")


def check_fix(source: str, report: Report, diagnosis: Diagnosis, grade: GradeChanged) -> FixCheck:
    """Grade ``source`` with the diagnosis's edit made and say whether it fixes what the diagnosis explains."""
    patch = diagnosis.fix_patch
    if patch is None:
        return FixCheck("not_checked", reason="this mistake has no edit to check")
    changed = patch.apply(source)
    if changed is None or changed == source or patch.before.strip() == patch.after.strip():
        return FixCheck("failed", reason="the change does not apply to your file as it is")
    try:
        result = grade(changed)
    except Exception as exc:  # noqa: BLE001 - a failed check must never lose the learner's result
        log.exception("checking a fix failed")
        return FixCheck("not_checked", reason=f"the grader could not run the changed file ({type(exc).__name__})")
    return judge(report, diagnosis, result)


def judge(report: Report, diagnosis: Diagnosis, result: Report) -> FixCheck:
    """The check's outcome, from the learner's report and the changed file's."""
    if result.is_infra_error:
        return FixCheck("not_checked", reason="the grader could not run the changed file")
    if result.error is not None:
        return FixCheck("failed", reason="with this change the file still does not run")
    passing = {case.name for case in result.tests if case.passed}
    explained = [name for name in diagnosis.cases if any(case.name == name for case in report.tests)]
    if report.error is None:
        still_failing = [name for name in explained if name not in passing]
        if not explained or still_failing:
            return FixCheck(
                "failed",
                cases=len(explained) - len(still_failing),
                reason=f"with this change {len(still_failing)} of the {len(explained)} cases it explains still fail",
            )
    broken = [case.name for case in report.tests if case.passed and case.name not in passing]
    if broken:
        return FixCheck("failed", reason=f"this change makes {_cases(len(broken))} that passed fail")
    return FixCheck("passed", cases=len(explained) if report.error is None else len(passing))


def check_fixes(source: str, report: Report, grade: GradeChanged, *, limit: int | None = None) -> Report:
    """The report with each proposed edit checked (at most ``limit`` gradings; the rest are not checked)."""
    checked: list[Diagnosis] = []
    runs = 0
    for diagnosis in report.diagnoses:
        if not needs_check(diagnosis):
            checked.append(diagnosis)
            continue
        if limit is not None and runs >= limit:
            outcome = FixCheck("not_checked", reason="the grader checks only the first mistakes' fixes at a time")
        else:
            outcome = check_fix(source, report, diagnosis, grade)
            runs += 1
        checked.append(dataclasses.replace(diagnosis, fix_check=outcome))
    return dataclasses.replace(report, diagnoses=checked)


def check_words(check: FixCheck, *, after_error: bool = False) -> str:
    """What the card says about its fix's check, in a sentence for the learner."""
    if check.status == "passed":
        if after_error:
            return f"Checked: with this change your file loads and {_cases(check.cases)} pass."
        return f"Checked: with this change the {_cases(check.cases)} it explains pass."
    if check.status == "pending":
        return "The grader is checking this fix on your code; it will appear here once it works."
    if check.status == "failed":
        return "The grader tried this as a change to your code, and it did not fix everything: follow the words above."
    reason = f" ({check.reason})" if check.reason else ""
    return f"Not checked{reason}: the grader has not tried this fix on your code, so it is given in words only."


def _cases(count: int) -> str:
    return f"{count} case{'s' if count != 1 else ''}"


@dataclass(frozen=True)
class DiffLine:
    """One line of a fix shown as a diff of the learner's file.

    kind: ``context`` (unchanged), ``removed`` (the learner's line) or ``added`` (what replaces it).
    number: the line's number in the learner's file (for ``added``: in the changed file).
    """

    kind: Literal["context", "removed", "added"]
    number: int
    text: str

    @property
    def sign(self) -> str:
        """The diff's usual mark: a space, ``-`` or ``+``."""
        return {"context": " ", "removed": "-", "added": "+"}[self.kind]


def fix_diff(source: str, patch: FixPatch, *, context: int = DIFF_CONTEXT_LINES) -> list[DiffLine]:
    """The edit as a small diff on ``source``: a few lines around it, the lines removed, the lines added.

    Empty when the edit no longer applies to ``source``.
    """
    if patch.apply(source) is None:
        return []
    lines = source.splitlines()
    before = patch.before.splitlines() or [""]
    after = patch.after.splitlines()
    first, last = patch.line, patch.line + len(before) - 1
    shown = [DiffLine("context", n, lines[n - 1]) for n in range(max(1, first - context), first)]
    shown += [DiffLine("removed", first + i, text) for i, text in enumerate(before)]
    shown += [DiffLine("added", first + i, text) for i, text in enumerate(after)]
    # Lines after the edit keep the learner's numbering: it is their file being shown.
    shown += [DiffLine("context", n, lines[n - 1]) for n in range(last + 1, min(len(lines), last + context) + 1)]
    return shown


def diff_text(source: str, patch: FixPatch) -> str:
    """The edit as text for a terminal: ``-`` the learner's lines, ``+`` what replaces them, with line numbers."""
    return "\n".join(f"{line.sign} {line.number:>4} | {line.text}" for line in fix_diff(source, patch))
