"""The report as text for a terminal: the mistakes first, each with one example case.

A mistake that breaks ten cases is explained once, with the first of its cases
shown in full and the others named; the case list below is one line per case.
"""

from __future__ import annotations

from grader.grading.diagnose import fold_traceback
from grader.grading.fixcheck import check_words, diff_text
from grader.grading.headers import CONTENT_TYPE, media_type_problem
from grader.grading.report import CaseResult, Diagnosis, Report, error_kind_words
from grader.grading.visibility import STAFF_WORDS

OUTPUT_LINES = 30
EXAMPLE_BODY_CHARS = 120
OUTPUT_IN_CASE = 12


def render_text(report: Report, source: str | None = None) -> str:
    """A readable report: the score, the mistakes and how to fix them, the cases, the output.

    With the learner's ``source``, a fix that grading the changed file proved is shown as a diff of it.
    """
    out = [f"Exercise {report.exercise} (seed {report.seed})", report.score_line(), ""]
    by_name = {case.name: case for case in report.tests}
    explained: dict[str, int] = {}
    if report.diagnoses:
        out.append("What to fix" if len(report.diagnoses) > 1 else "What to fix first")
        for number, diagnosis in enumerate(report.diagnoses, start=1):
            out += _diagnosis(number, diagnosis, by_name, source, after_error=report.error is not None)
            for name in diagnosis.cases:
                explained.setdefault(name, number)
    if report.error is not None:
        label = (
            "grader problem (not counted against you)" if report.is_infra_error else error_kind_words(report.error.kind)
        )
        out += [f"Details ({label}):", _indent(report.error.message), ""]
    if report.tests:
        out.append("Cases")
        for case in report.tests:
            mark = "PASS" if case.passed else "FAIL"
            see = f"  (see {explained[case.name]})" if case.name in explained and len(report.diagnoses) > 1 else ""
            shown_when = (
                f"  [{STAFF_WORDS[case.visibility]}]" if case.visibility != "visible" and not case.withheld else ""
            )
            out.append(f"  {mark}  {case.name}  {case.score:g}/{case.max_score:g}{see}{shown_when}")
        out.append("")
    for label, text in (("output", report.stdout), ("error output", fold_traceback(report.stderr))):
        if text.strip():
            out += [f"--- your program's {label} ---", *_last_lines(text), f"--- end of {label} ---", ""]
    if report.limits_not_applied:
        out.append("Limits not enforced on this machine: " + "; ".join(report.limits_not_applied))
    out.append(f"Score: {report.score:g}/{report.max_score:g} ({report.status}) in {report.execution_time:.2f} s")
    return "\n".join(out) + "\n"


def _diagnosis(
    number: int, diagnosis: Diagnosis, by_name: dict[str, CaseResult], source: str | None, *, after_error: bool
) -> list[str]:
    where = f" (line {diagnosis.line})" if diagnosis.line else ""
    lines = [f"{number}. {diagnosis.title}{where}", _indent(diagnosis.explanation)]
    if diagnosis.fix:
        lines.append(_indent(f"Fix: {diagnosis.fix}"))
    lines += _checked_fix(diagnosis, source, after_error=after_error)
    cases = [by_name[name] for name in diagnosis.cases if name in by_name]
    if cases:
        example = _example_case(cases)
        others = [case.name for case in cases if case is not example]
        named = f"{len(cases)} case{'s' if len(cases) != 1 else ''}: {', '.join(case.name for case in cases)}"
        lines.append(_indent(named if len(named) <= 100 else named[:99] + "…"))
        lines.append(_indent(f"For example, {example.name}" + (" (the others fail the same way):" if others else ":")))
        lines.append(_indent(_example(example), 6))
    lines.append("")
    return lines


def _checked_fix(diagnosis: Diagnosis, source: str | None, *, after_error: bool) -> list[str]:
    """The fix's check in words and, once it passed, the edit as a diff of the learner's file."""
    check, patch = diagnosis.fix_check, diagnosis.fix_patch
    if check is None or patch is None:
        return []
    lines = [_indent(check_words(check, after_error=after_error))]
    diff = diff_text(source, patch) if source is not None and check.shows_code else ""
    if diff:
        lines.append(_indent(diff, 6))
    return lines


def _example_case(cases: list[CaseResult]) -> CaseResult:
    """The first case with a short request (the lesson's own message, usually), else the shortest."""
    for case in cases:
        if case.request.body is not None and len(case.request.body) <= EXAMPLE_BODY_CHARS:
            return case
    return min(cases, key=lambda case: len(case.request.body or ""))


def _example(case: CaseResult) -> str:
    """One case in a few lines: what was sent, expected and received, and its own output."""
    if case.neutral and case.withheld is not None:
        return case.withheld
    lines = [f"{case.request.method} {case.request.path}"]
    if case.request.body is not None:
        lines.append(f"sent:      {_short(case.request.body)}")
    expected_body = f" {_short(case.expected.body)}" if case.expected.body is not None else ""
    lines.append(f"expected:  {case.expected.status}{expected_body}")
    # The media type is shown where it is what fails: elsewhere it would only be noise.
    wrong_media_type = case.received.status == case.expected.status and media_type_problem(
        case.expected.headers, case.received.headers
    )
    if wrong_media_type:
        lines.append(f"           Content-Type: {case.expected.headers[CONTENT_TYPE]}")
    if not case.sent:
        lines.append(f"received:  nothing, the case was {case.problem}" if case.problem else "received:  not run")
    elif case.received.status is None:
        lines.append(f"received:  no response ({case.problem})" if case.problem else "received:  no response")
    else:
        location = case.received.headers.get("location")
        extra = f" (Location: {location})" if location else ""
        lines.append(f"received:  {case.received.status} {_short(case.received.body or '')}{extra}")
    if wrong_media_type:
        lines.append(f"           Content-Type: {case.received.headers.get(CONTENT_TYPE, '(none)')}")
    if case.diff:
        lines.append(case.diff.splitlines()[0])
    if case.program_output:
        lines.append("your program printed:")
        printed = case.program_output.splitlines()
        shown = printed if len(printed) <= OUTPUT_IN_CASE + 2 else printed[:OUTPUT_IN_CASE]
        lines.extend("  " + line for line in shown)
        if len(shown) < len(printed):
            lines.append(f"  [… {len(printed) - len(shown)} more lines …]")
    return "\n".join(lines)


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split("\n"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _last_lines(text: str) -> list[str]:
    lines = text.rstrip().splitlines()
    if len(lines) <= OUTPUT_LINES:
        return lines
    return [
        f"[… {len(lines) - OUTPUT_LINES} earlier lines; the JSON report (--json) has them all …]",
        *lines[-OUTPUT_LINES:],
    ]


def _indent(text: str, width: int = 3) -> str:
    return "\n".join(" " * width + line for line in text.splitlines())
