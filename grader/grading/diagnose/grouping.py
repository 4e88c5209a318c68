"""From findings to mistakes: cases with the same finding are one group, and related groups are folded."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from grader.grading.compare import json_equal
from grader.grading.diagnose.responses import NOT_JSON, Finding, finding, parse_body
from grader.grading.diagnose.rules.parameters import not_awaited
from grader.grading.diagnose.rules.returns import loop_return
from grader.grading.diagnose.rules.shapes import shape_of
from grader.grading.diagnose.rules.state import kept_state
from grader.grading.diagnose.rules.structure import duplicate_routes, redefined_helper
from grader.grading.diagnose.source import Source
from grader.grading.diagnose.tracebacks import traceback_facts
from grader.grading.evidence import SourceModel
from grader.grading.report import CaseResult, Diagnosis, Report

# The order diagnoses are listed in: what stops every request first, then the
# shape of the reply, then its details, then the cases about refusing requests.
PRIORITY = {
    "infra": 0,
    "error": 0,
    "wrong_path": 1,
    "redirect": 1,
    "wrong_method": 1,
    "json_not_awaited": 1,
    "crash": 1,
    "no_answer": 1,
    "blocking_call": 1,
    "wrong_status": 1,
    "null_body": 2,
    "not_json": 2,
    "not_json_media_type": 2,
    "json_string": 2,
    "not_wrapped": 2,
    "double_wrapped": 2,
    "wrong_type": 2,
    "misspelt_key": 2,
    "changed_keys": 2,
    "renamed_key": 2,
    "model_fields": 2,
    "same_answer": 3,
    "kept_state": 2,
    "duplicate_route": 1,
    "reply_shape": 2,
    "redefined_function": 2,
    "dropped_fields": 3,
    "added_fields": 3,
    "coerced": 3,
    "changed": 3,
    "refused_valid": 3,
    "too_large": 3,
    "accepts_non_objects": 4,
    "method_allowed": 4,
    "other": 5,
    "not_run": 6,
}


@dataclass
class Group:
    finding: Finding
    cases: list[CaseResult] = field(default_factory=list)


def spot_same_answer(report: Report, groups: dict[Finding, Group], bodies: dict[str, tuple[Any, Any]]) -> None:
    """Cases answered with the reply of another request: written out by hand (or remembered).

    It shows when a reply that passed for one request comes back for another and
    holds a value the other request never sent ("Hello" for a message saying "Hi").
    """
    shape_causes = {
        "null_body",
        "not_json",
        "not_json_media_type",
        "json_string",
        "not_wrapped",
        "double_wrapped",
        "wrong_type",
    }

    def bodies_of(case: CaseResult) -> tuple[Any, Any]:
        if case.name in bodies:
            return bodies[case.name]
        return parse_body(case.expected.body), parse_body(case.received.body)

    passed_answers = [
        bodies_of(case)[1]
        for case in report.tests
        if case.passed and case.expected.body is not None and case.received.body is not None
    ]
    candidates = [
        (case, *bodies_of(case))
        for found, group in groups.items()
        if found.cause not in shape_causes and PRIORITY.get(found.cause, 5) >= 2
        for case in group.cases
        if case.received.status == case.expected.status and case.expected.body is not None
    ]
    triggers = [
        answer
        for _, expected, answer in candidates
        if isinstance(answer, (dict, list))
        and any(json_equal(answer, passed) for passed in passed_answers)
        and _leaves(answer) - _leaves(expected)
    ]
    if not triggers:
        return
    same = [case for case, _, answer in candidates if any(json_equal(answer, trigger) for trigger in triggers)]
    moved = {case.name for case in same}
    for found in list(groups):
        group = groups[found]
        group.cases = [case for case in group.cases if case.name not in moved]
        if not group.cases:
            del groups[found]
    key = finding("same_answer")
    groups.setdefault(key, Group(key)).cases.extend(same)


def _leaves(value: Any) -> set[tuple[str, str]]:
    """(path, value) of every scalar in a JSON value, for comparing what two values hold.

    Walked with a stack, not recursion: a reply can be nested very deep.
    """
    found: set[tuple[str, str]] = set()
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{path}/{key}", inner) for key, inner in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}/{index}", inner) for index, inner in enumerate(item))
        elif item is not NOT_JSON:
            found.add((path, json.dumps(item)))
    return found


Groups = dict[Finding, Group]


def _first(groups: Groups, cause: str) -> Finding | None:
    return next((found for found in groups if found.cause == cause), None)


def _fold(groups: Groups, into: Finding, causes: Collection[str]) -> None:
    """Move the cases of every other finding with one of ``causes`` into ``into``."""
    for found in list(groups):
        if found != into and found.cause in causes:
            groups[into].cases.extend(groups.pop(found).cases)


def _duplicate_route_answers(groups: Groups, _text: Source, model: SourceModel) -> None:
    """Two routes for one address: the first answers every case, whatever its replies look like."""
    if not groups or not duplicate_routes(model):
        return
    target = finding("duplicate_route")
    groups[target] = Group(target)
    _fold(groups, target, {found.cause for found in groups if found != target})


def _shape_explains_the_replies(groups: Groups, _text: Source, model: SourceModel) -> None:
    """A reply built in the wrong shape (or by a helper defined twice) spoils many cases in many ways: one card."""
    # Causes with a rule of their own that the shape does not explain better.
    routed = {"wrong_path", "redirect", "wrong_method", "method_allowed", "duplicate_route", "not_json_media_type"}
    cases = [case for found, group in groups.items() if found.cause not in routed for case in group.cases]
    answered = next((case for case in cases if 200 <= (case.expected.status or 0) < 300), None)
    if answered is None:
        return
    path, method = answered.request.path or "/", answered.request.method or "POST"
    cause = "reply_shape" if shape_of(model, path, method) else None
    cause = cause or ("redefined_function" if redefined_helper(model, path, method) else None)
    if cause is None:
        return
    target = finding(cause)
    groups[target] = Group(target)
    _fold(groups, target, {found.cause for found in groups if found.cause not in routed})


def _state_explains_the_replies(groups: Groups, _text: Source, model: SourceModel) -> None:
    """State kept between requests shows as many wrong replies: one mistake, one card, naming the variable."""
    if kept_state(model) is None:
        return
    answered = [
        found
        for found, group in groups.items()
        if PRIORITY.get(found.cause, 5) >= 2
        and all(case.received.status == case.expected.status for case in group.cases)
    ]
    if not answered:
        return
    target = finding("kept_state")
    groups[target] = Group(target)
    _fold(groups, target, {found.cause for found in answered})


def _blocked_route_explains_refusals(groups: Groups, _text: Source, _model: SourceModel) -> None:
    """A route on the wrong path or method also explains the cases about refusing requests."""
    for blocker in ("wrong_path", "redirect", "wrong_method"):
        found = _first(groups, blocker)
        if found is not None:
            _fold(groups, found, {"method_allowed", "accepts_non_objects", "other"})


ANSWERED_BODY_CAUSES = frozenset(
    {
        "dropped_fields",
        "added_fields",
        "changed",
        "coerced",
        "misspelt_key",
        "renamed_key",
        "changed_keys",
        "same_answer",
    }
)
"""Causes of replies answered with the right status whose body is the message cut, changed or added to."""

MAX_KEY_PAIRS = 5
"""How many (received, sent) key pairs a changed-keys finding keeps to name and check the change."""


def _keys_the_file_never_writes(groups: Groups, _text: Source, model: SourceModel) -> None:
    """Keys "misspelt" that the file never writes were changed by its code: one mistake, told once.

    "TEXT" for "text", when no string or keyword of the file says "TEXT", is no typing slip:
    the code changed the key (``k.upper()``), and every key of every message the same way.
    """
    if not model.has_facts:
        return
    unwritten = [
        found
        for found in groups
        if found.cause in ("misspelt_key", "renamed_key") and found.get("wrong") not in model.written
    ]
    if not unwritten:
        return
    unwritten.sort(key=lambda found: -len(groups[found].cases))
    target = finding(
        "changed_keys", pairs=[(found.get("wrong"), found.get("right")) for found in unwritten][:MAX_KEY_PAIRS]
    )
    cases = [case for found in unwritten for case in groups.pop(found).cases]
    groups.setdefault(target, Group(target)).cases.extend(cases)


def _loop_return_explains_the_replies(groups: Groups, text: Source, model: SourceModel) -> None:
    """A ``return`` on the first pass of a loop explains both the empty message's null and the other replies.

    Only when the reply is built from what the loop binds (``for key in msg: return {key: ...}``):
    then every reply holds the first pass only, whatever else it shows.
    """
    null = _first(groups, "null_body")
    if null is None:
        return
    case = groups[null].cases[0]
    loop = loop_return(text, model.route_for(case.request.path or "/", case.request.method or "POST"))
    if loop is None or not loop.first_pass:
        return
    _fold(groups, null, ANSWERED_BODY_CAUSES)


def _model_keeps_its_fields(groups: Groups, _text: Source, model: SourceModel) -> None:
    """A body read through a class of the file (a pydantic model, a dataclass) keeps only its declared fields:
    the others are dropped and objects without them refused."""
    causes = ("dropped_fields", "refused_valid", "added_fields")
    requests = [groups[found].cases[0].request for found in groups if found.cause in causes]
    if not any(model.body_model(model.route_for(r.path or "/", r.method or "POST")) for r in requests):
        return
    target = finding("model_fields")
    groups[target] = Group(target)
    _fold(groups, target, causes)


def _one_habit(groups: Groups, _text: Source, _model: SourceModel) -> None:
    """Values changed or converted in several places are one habit, told once."""
    for cause in ("dropped_fields", "coerced", "changed"):
        found = _first(groups, cause)
        if found is not None:
            _fold(groups, found, {cause})


def _picked_fields(groups: Groups, _text: Source, _model: SourceModel) -> None:
    """Picking fields out of the message both loses some and invents others (null for a missing one)."""
    dropped = _first(groups, "dropped_fields")
    if dropped is not None:
        _fold(groups, dropped, {"added_fields"})


def _unknown_crash_is_the_known_one(groups: Groups, _text: Source, _model: SourceModel) -> None:
    """A crash whose traceback was not caught is most likely the crash seen elsewhere."""
    crashes = [found for found in groups if found.cause in ("crash", "json_not_awaited")]
    unknown = [found for found in crashes if found.cause == "crash" and not found.get("exception")]
    known = [found for found in crashes if found not in unknown]
    if unknown and len(known) == 1:
        for found in unknown:
            groups[known[0]].cases.extend(groups.pop(found).cases)


def _crash_on_broken_input_is_the_same_crash(groups: Groups, text: Source, _model: SourceModel) -> None:
    """Broken input that crashes where valid input crashes is that crash: fixing the line fixes both.

    (A coroutine used as data, or a form read from a JSON body, crashes on every body.)
    """
    crashes = [found for found in groups if found.cause in ("crash", "json_not_awaited")]
    refusing = _first(groups, "accepts_non_objects")
    if len(crashes) != 1 or refusing is None:
        return
    crash = crashes[0]
    crashed = [case for case in groups[refusing].cases if (case.received.status or 0) >= 500]
    same = [case for case in crashed if crash_finding(case, text) == crash or crash.cause == "json_not_awaited"]
    groups[crash].cases.extend(same)
    groups[refusing].cases = [case for case in groups[refusing].cases if case not in same]
    if not groups[refusing].cases:
        del groups[refusing]


def _stuck_line_stopped_the_rest(groups: Groups, _text: Source, _model: SourceModel) -> None:
    """Cases never sent because requests were stuck on a line are that line's mistake: one card."""
    stuck = [found for found in groups if found.cause == "no_answer" and found.get("line") is not None]
    if stuck:
        _fold(groups, max(stuck, key=lambda found: len(groups[found].cases)), {"not_run"})


FOLDS: tuple[Callable[[Groups, Source, SourceModel], None], ...] = (
    _stuck_line_stopped_the_rest,
    _duplicate_route_answers,
    _shape_explains_the_replies,
    _state_explains_the_replies,
    _keys_the_file_never_writes,
    _loop_return_explains_the_replies,
    _blocked_route_explains_refusals,
    _model_keeps_its_fields,
    _one_habit,
    _picked_fields,
    _unknown_crash_is_the_known_one,
    _crash_on_broken_input_is_the_same_crash,
)
"""The folds, in the order they apply: each merges findings that are one mistake seen from several cases."""


def merge_related(groups: Groups, text: Source, model: SourceModel) -> None:
    """Fold findings that are one mistake seen from several cases."""
    for fold in FOLDS:
        fold(groups, text, model)


def crash_finding(case: CaseResult, text: Source) -> Finding:
    """A crash, told apart by its exception and the learner's line."""
    if not_awaited([case], text):
        return finding("json_not_awaited")
    exception, _, line = traceback_facts(case.program_output or "", text)
    return finding("crash", exception=exception, line=line)


def merge_same_line(diagnoses: list[Diagnosis]) -> list[Diagnosis]:
    """Two findings that point at the same line of the endpoint are one mistake (a crash included)."""
    merged: list[Diagnosis] = []
    for diagnosis in diagnoses:
        twin = next(
            (
                kept
                for kept in merged
                if diagnosis.line is not None
                and kept.line == diagnosis.line
                and {kept.cause, diagnosis.cause} & {"crash"}
                and {kept.cause, diagnosis.cause} & {"dropped_fields", "changed", "coerced", "model_fields"}
            ),
            None,
        )
        if twin is None:
            merged.append(diagnosis)
            continue
        index = merged.index(twin)
        keep, other = (twin, diagnosis) if twin.cause != "crash" else (diagnosis, twin)
        merged[index] = Diagnosis(
            title=keep.title,
            explanation=keep.explanation + " " + other.explanation,
            fix=keep.fix,
            cases=[*twin.cases, *diagnosis.cases],
            line=keep.line,
            cause=keep.cause,
            fix_patch=keep.fix_patch,
        )
    return merged
