"""The report as text for a terminal."""

from __future__ import annotations

from grader.grading.report import Report


def render_text(report: Report) -> str:
    """A readable report: summary first, then each case, then the captured output."""
    out = [f"Exercise {report.exercise} (seed {report.seed})", report.summary(), ""]
    if report.error is not None:
        label: str = "grader problem (not counted against you)" if report.is_infra_error else report.error.kind
        out += [f"ERROR [{label}]", _indent(report.error.message), ""]
    for case in report.tests:
        mark = "PASS" if case.passed else "FAIL"
        out.append(f"{mark}  {case.name}  {case.score:g}/{case.max_score:g}  {case.description}")
        if not case.passed:
            out.append(_indent(case.output()))
    if report.tests:
        out.append("")
    for label, text in (("stdout", report.stdout), ("stderr", report.stderr)):
        if text.strip():
            out += [f"--- your program's {label} ---", text.rstrip(), f"--- end of {label} ---", ""]
    if report.limits_not_applied:
        out.append("Limits not enforced on this machine: " + "; ".join(report.limits_not_applied))
    out.append(f"Score: {report.score:g}/{report.max_score:g} ({report.status}) in {report.execution_time:.2f} s")
    return "\n".join(out) + "\n"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
