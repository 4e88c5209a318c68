"""From case results to diagnoses: one explanation per mistake, in a beginner's words.

Everything here runs on the host, after grading, and reads only what the host
itself saw: the requests it sent, the responses it got, the learner's source
text (read as text, never run) and the program's captured error output. Facts
the boot script reported from inside the sandbox come from the submission's own
process, so each is checked before it is used; messages from inside are never
turned into diagnoses. A diagnosis only ever contains the grader's own wording
plus values it checked or extracted with fixed patterns.

The package reads as the flow does:

* evidence: ``responses`` classifies each failed case into a ``Finding`` (a
  cause and the facts that set it apart); ``source`` and ``tracebacks`` read the
  learner's file and the printed tracebacks;
* ``grouping``: findings with the same cause and facts are one mistake, and
  findings that are one mistake seen from several cases are folded together;
* ``rules``: one module per family of mistakes turns a group into words, a
  line and, where the fix is a concrete edit, a patch;
* ``wording``: the phrasing the rules share.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from grader.grading.diagnose.grouping import (
    PRIORITY,
    Group,
    crash_finding,
    merge_related,
    merge_same_line,
    spot_same_answer,
)
from grader.grading.diagnose.hints import as_hint
from grader.grading.diagnose.responses import (
    NOT_JSON,
    Finding,
    classify,
    endpoint_was_reached,
    finding,
    parse_body,
    why_no_endpoint_ran,
)
from grader.grading.diagnose.rules import CASE_RULES, other
from grader.grading.diagnose.rules.load_time import checked_facts, error_diagnosis
from grader.grading.diagnose.source import Source
from grader.grading.diagnose.tracebacks import fold_traceback, learner_first, traceback_facts
from grader.grading.diagnose.wording import Context
from grader.grading.evidence import SourceModel, build_source_model
from grader.grading.evidence.exceptions.common import edit_distance
from grader.grading.report import CaseResult, Diagnosis, Report

__all__ = [
    "NOT_JSON",
    "Finding",
    "Source",
    "checked_facts",
    "classify",
    "diagnose",
    "edit_distance",
    "endpoint_was_reached",
    "finding",
    "fold_traceback",
    "learner_first",
    "parse_body",
    "traceback_facts",
    "why_no_endpoint_ran",
]


def diagnose(
    report: Report,
    source: str,
    *,
    bodies: dict[str, tuple[Any, Any]] | None = None,
    facts: dict[str, Any] | None = None,
    facts_from_host: bool = False,
    packages: Iterable[str] = ("fastapi", "starlette", "pydantic", "uvicorn"),
    entry_point: str = "app",
    feedback: str = "fix",
) -> list[Diagnosis]:
    """The report's mistakes, most important first; empty at full marks.

    bodies: case name -> (expected, received) parsed in full, when the caller has
        them (a report shows bodies cut to a few thousand characters).
    facts: what the boot script reported with a loading error (checked here).
    feedback: "fix" (the change to make, as code when it is one) or "hint"
        (the cause and the line only, see ``hints``).
    """
    diagnoses = _diagnoses(report, source, bodies, facts, facts_from_host, packages, entry_point)
    if feedback == "hint":
        return [as_hint(diagnosis) for diagnosis in diagnoses]
    return diagnoses


def _diagnoses(
    report: Report,
    source: str,
    bodies: dict[str, tuple[Any, Any]] | None,
    facts: dict[str, Any] | None,
    facts_from_host: bool,
    packages: Iterable[str],
    entry_point: str,
) -> list[Diagnosis]:
    text = Source(source)
    model = build_source_model(source, packages=packages)
    if report.error is not None:
        return [
            error_diagnosis(
                report.error,
                text,
                checked_facts(facts or {}, text),
                facts_from_host,
                report,
                packages,
                entry_point,
                model,
            )
        ]
    failed = [case for case in report.tests if not case.passed]
    if not failed:
        return []
    bodies = bodies or {}
    groups: dict[Finding, Group] = {}
    for case in failed:
        expected, received = bodies.get(case.name, (None, None))
        found = classify(case, expected, received)
        if found.cause == "crash":
            found = crash_finding(case, text)
        groups.setdefault(found, Group(found)).cases.append(case)
    spot_same_answer(report, groups, bodies)
    merge_related(groups, text, model)
    order = {case.name: index for index, case in enumerate(report.tests)}
    for group in groups.values():
        group.cases.sort(key=lambda case: order.get(case.name, 0))
    diagnoses = [case_diagnosis(group, text, model, report.tests) for group in groups.values()]
    diagnoses = merge_same_line(diagnoses)
    diagnoses.sort(key=lambda d: (PRIORITY.get(d.cause, 5), -len(d.cases), order.get(d.cases[0], 0) if d.cases else 0))
    return diagnoses


def case_diagnosis(group: Group, text: Source, model: SourceModel, every_case: list[CaseResult]) -> Diagnosis:
    """The diagnosis of one group of cases: its rule's words, line and patch."""
    found, cases = group.finding, group.cases
    first = cases[0]
    path = first.request.path or "/"
    method = first.request.method or "POST"
    names = [case.name for case in cases]
    words = CASE_RULES.get(found.cause, other)
    said = words(Context(found, cases, text, path, method, every_case, model))
    line = text.valid_line(said.line)
    patch = said.patch if said.patch is not None and said.patch.apply(text.text) is not None else None
    return Diagnosis(
        title=said.title,
        explanation=said.explanation,
        fix=said.fix,
        cases=names,
        line=line,
        cause=said.cause or found.cause,
        fix_patch=patch,
    )
