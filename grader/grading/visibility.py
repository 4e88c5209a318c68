"""Which cases' data a learner may see, and a report as a learner is shown it.

A case whose ``visibility`` is not ``visible`` counts in the score like any other. Until it is
released (see ``RELEASED``), a learner is told that it exists, whether it passed and its points,
under a neutral name and description; never its data: the request, the expected and received
bodies and headers, the diff, the problem, the hint, what the program printed during it, or a
diagnosis that could quote any of them. Staff see the stored report.

Learner code is hostile, so what the program did after a withheld case's request went out is
withheld too: it may have kept that request and print or return it later. The whole program's
output is cut where the first such case was sent (``Report.stdout_before_hidden``), and a case
sent after a withheld one keeps its verdict and points but not what the program answered.
Exercises put their hidden cases last (the spec insists), so visible cases never lose anything.

``for_learner`` is the one place this happens; every learner-facing view goes through it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from grader.grading.report import CaseResult, Diagnosis, FixCheck, HttpExchange, Report, Visibility


@dataclass(frozen=True)
class Release:
    """What has happened that releases cases: the learner's due date (extension included) and the grades."""

    due_passed: bool = False
    published: bool = False


RELEASED: dict[Visibility, Callable[[Release], bool]] = {
    "visible": lambda release: True,
    "hidden": lambda release: False,
    "after_due_date": lambda release: release.due_passed,
    "after_published": lambda release: release.published,
}
"""When each visibility lets a learner see a case's data."""

WITHHELD_WORDS: dict[Visibility, str] = {
    "visible": "It ran after a hidden check, so what your app answered is not shown: it could carry that check's data.",
    "hidden": "This is a hidden check: what it sends and expects is not shown to you.",
    "after_due_date": (
        "This is a hidden check: what it sends and expects is shown to you once your due date has passed."
    ),
    "after_published": "This is a hidden check: what it sends and expects is shown to you once grades are published.",
}
"""Why a case's data is not shown, in the learner's words, by the case's visibility."""

STAFF_WORDS: dict[Visibility, str] = {
    "visible": "",
    "hidden": "hidden from learners",
    "after_due_date": "shown to learners after their due date",
    "after_published": "shown to learners once grades are published",
}
"""How a case's visibility is named to staff, who always see its data."""

HIDDEN_DESCRIPTION = "A hidden check"
HIDDEN_NAME = "hidden-{number}"
OUTPUT_CUT = "[… what your program printed from the first hidden check on is not shown …]"
HIDDEN_CAUSE = "hidden"
SECRET_MIN_CHARS = 3
"""Shorter values of a withheld case (``1``, ``"a"``) say nothing about it and are everywhere in words."""
SECRET_WORD_CHARS = 4
"""Words of a withheld case's text this long or longer count as its values too ("the" does not)."""


def released(visibility: Visibility, release: Release) -> bool:
    """Whether a learner may see the data of a case with this ``visibility``."""
    return RELEASED[visibility](release)


def has_restricted_cases(report: Report) -> bool:
    """Whether any case's data may be kept from learners (otherwise a learner sees the report as stored)."""
    return any(case.visibility != "visible" for case in report.tests)


def for_learner(report: Report, release: Release) -> Report:
    """The report as a learner may see it: withheld cases neutral, output cut, diagnoses that would reveal them reworded."""
    if not has_restricted_cases(report):
        return report
    tests: list[CaseResult] = []
    names: dict[str, str] = {}
    withheld: list[CaseResult] = []
    after_withheld = False
    for case in report.tests:
        if not released(case.visibility, release):
            hidden = _neutral_case(case, HIDDEN_NAME.format(number=sum(1 for shown in tests if shown.neutral) + 1))
            after_withheld = after_withheld or case.sent
        elif after_withheld and case.sent:
            hidden = _without_answer(case)
        else:
            tests.append(case)
            continue
        names[case.name] = hidden.name
        withheld.append(case)
        tests.append(hidden)
    if not withheld:
        return report
    secrets = _secrets(withheld, shown=[case for case in tests if case.withheld is None])
    return dataclasses.replace(
        report,
        tests=tests,
        diagnoses=_one_hidden_card(
            [_for_learner(diagnosis, names, secrets) for diagnosis in report.diagnoses], set(names.values())
        ),
        stdout=_cut(report.stdout, report.stdout_before_hidden) if after_withheld else report.stdout,
        stderr=_cut(report.stderr, report.stderr_before_hidden) if after_withheld else report.stderr,
        stdout_before_hidden=None,
        stderr_before_hidden=None,
    )


def as_now(data: dict[str, Any], visibilities: Mapping[str, Visibility]) -> dict[str, Any]:
    """A stored report with each case's visibility as the exercise says now (unchanged when none differs).

    Visibility is not part of the spec hash, so an instructor may hide a case after reports were
    stored: what the exercise says now decides. The output of such a report was not kept as it stood
    before the newly hidden case, so a learner then sees none of it (see ``_cut``).
    """
    tests = data.get("tests") or []
    changed = [
        {**t, "visibility": visibilities[t["name"]]}
        if isinstance(t, dict) and visibilities.get(t.get("name", "")) not in (None, t.get("visibility", "visible"))
        else t
        for t in tests
    ]
    if all(new is old for new, old in zip(changed, tests, strict=True)):
        return data
    if any(new is not old and new["visibility"] != "visible" for new, old in zip(changed, tests, strict=True)):
        # The output was kept as it stood before another case: that point no longer says what is safe.
        return {**data, "tests": changed, "stdout_before_hidden": None, "stderr_before_hidden": None}
    return {**data, "tests": changed}


def learner_data(data: dict[str, Any], release: Release) -> dict[str, Any]:
    """A stored report (``Report.to_dict`` data) as a learner may see it; unchanged when no case is restricted."""
    if not any(isinstance(t, dict) and t.get("visibility", "visible") != "visible" for t in data.get("tests") or []):
        return data
    return for_learner(Report.from_dict(data), release).to_dict()


def _neutral_case(case: CaseResult, name: str) -> CaseResult:
    """A withheld case: that it exists, its verdict and points, nothing of its data."""
    return CaseResult(
        name=name,
        description=HIDDEN_DESCRIPTION,
        score=case.score,
        max_score=case.max_score,
        status=case.status,
        request=HttpExchange(),
        expected=HttpExchange(),
        received=HttpExchange(),
        sent=case.sent,
        visibility=case.visibility,
        withheld=WITHHELD_WORDS[case.visibility],
    )


def _without_answer(case: CaseResult) -> CaseResult:
    """A released case sent after a withheld one: what it asked stays, what the program did goes."""
    return dataclasses.replace(
        case,
        received=HttpExchange(),
        diff=None,
        problem=None,
        reached_endpoint=None,
        program_output=None,
        blocked_line=None,
        withheld=WITHHELD_WORDS["visible"],
    )


def _for_learner(diagnosis: Diagnosis, names: dict[str, str], secrets: set[str]) -> Diagnosis:
    """A diagnosis as a learner may see it.

    A mistake that stopped every case (it names none) came before any case was sent and is kept.
    One that explains only withheld cases becomes "a hidden check failed": its title, explanation,
    line and fix are left out even when they only name a cause in the learner's own code, because
    the rules' wording may quote the values that show it and it is not worth telling which.
    One that also explains shown cases keeps its words when they quote nothing of a withheld case
    (then they describe the shown cases too), and lists only the shown cases.
    """
    hidden = [names[name] for name in diagnosis.cases if name in names]
    if not hidden:
        return diagnosis
    shown = [name for name in diagnosis.cases if name not in names]
    if shown and not _quotes(diagnosis, secrets):
        check = diagnosis.fix_check
        if check is not None and check.status == "passed":
            check = FixCheck("passed", cases=len(shown))
        return dataclasses.replace(diagnosis, cases=shown, fix_check=check)
    count = len(hidden)
    return Diagnosis(
        title="A hidden check failed" if count == 1 else f"{count} hidden checks failed",
        explanation=(
            "What these checks send and expect is not shown to you, so this mistake is not explained here. "
            "Read the instructions again for what your endpoint must accept and answer, not only the examples, "
            "and make sure it answers every such request."
        ),
        fix="",
        cases=[*shown, *hidden],
        cause=HIDDEN_CAUSE,
    )


def _one_hidden_card(diagnoses: list[Diagnosis], withheld_names: set[str]) -> list[Diagnosis]:
    """The diagnoses with every "hidden check failed" card folded into the first one.

    Two cards would tell the learner that the hidden checks fail for two different reasons.
    """
    hidden = [diagnosis for diagnosis in diagnoses if diagnosis.cause == HIDDEN_CAUSE]
    if len(hidden) < 2:
        return diagnoses
    cases = list(dict.fromkeys(name for diagnosis in hidden for name in diagnosis.cases))
    count = sum(1 for name in cases if name in withheld_names)
    merged = dataclasses.replace(
        hidden[0], cases=cases, title="A hidden check failed" if count == 1 else f"{count} hidden checks failed"
    )
    folded: list[Diagnosis] = []
    for diagnosis in diagnoses:
        if diagnosis.cause != HIDDEN_CAUSE:
            folded.append(diagnosis)
        elif diagnosis is hidden[0]:
            folded.append(merged)
    return folded


def _quotes(diagnosis: Diagnosis, secrets: set[str]) -> bool:
    """Whether the diagnosis's words or edit contain a value only a withheld case has."""
    texts = [diagnosis.title, diagnosis.explanation, diagnosis.fix]
    if diagnosis.fix_patch is not None:
        texts += [diagnosis.fix_patch.after]
    return any(secret in text for text in texts for secret in secrets)


def _secrets(withheld: list[CaseResult], *, shown: list[CaseResult]) -> set[str]:
    """The values of withheld cases that no shown case has: what a learner's words must not contain."""
    return set(_values(withheld)) - set(_values(shown))


def _values(cases: Iterable[CaseResult]) -> Iterator[str]:
    for case in cases:
        for exchange in (case.request, case.expected, case.received):
            if exchange.path is not None:
                yield exchange.path
            yield from _body_values(exchange.body)
            yield from exchange.headers.values()
        for text in (case.program_output, case.diff, case.problem):
            yield from (line.strip() for line in (text or "").splitlines() if len(line.strip()) >= SECRET_MIN_CHARS)


def _body_values(body: str | None) -> Iterator[str]:
    """A body's keys and leaf values as text (the whole body when it is not JSON)."""
    if body is None:
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        if len(body.strip()) >= SECRET_MIN_CHARS:
            yield body.strip()
        return
    yield from (value for value in _leaves(parsed) if len(value) >= SECRET_MIN_CHARS)


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)
        yield json.dumps(value, ensure_ascii=False)
        # A diagnosis may quote a word of a longer text: each word long enough to say something.
        yield from (word for word in re.split(r"[^\w-]+", str(value)) if len(word) >= SECRET_WORD_CHARS)


def _cut(text: str, before_hidden: str | None) -> str:
    """The output as it stood before the first withheld case, saying so when more came after."""
    if before_hidden is None:
        # A withheld case was sent, but the report does not say where its output began: none is shown.
        return OUTPUT_CUT if text else ""
    if text == before_hidden:
        return text
    kept = before_hidden.rstrip("\n")
    return f"{kept}\n{OUTPUT_CUT}" if kept else OUTPUT_CUT
