"""Checked fixes: an edit is shown as code only once grading the changed file made its cases pass."""

from __future__ import annotations

import dataclasses

import pytest

from grader.grading.fixcheck import check_fix, check_fixes, diff_text, fix_diff, judge
from grader.grading.report import Diagnosis, FixCheck, FixPatch, GradingError, Report
from grader.grading.textreport import render_text
from tests.factories import make_report

SET_INSTEAD_OF_DICT = (
    "from fastapi import FastAPI\n"
    "\n"
    "app = FastAPI()\n"
    "\n"
    "\n"
    '@app.post("/message")\n'
    "async def receive_message(msg: dict):\n"
    '    return {"received", msg}\n'
)
COLON = FixPatch(line=8, before='    return {"received", msg}', after='    return {"received": msg}')


def _diagnosed(report: Report, patch: FixPatch | None, cases: list[str]) -> Report:
    diagnosis = Diagnosis(title="A comma where a colon goes", explanation="", fix="", cases=cases, fix_patch=patch)
    return dataclasses.replace(report, diagnoses=[diagnosis])


def test_a_fix_passes_when_the_cases_it_explains_pass_and_nothing_else_breaks():
    learner = _diagnosed(make_report(cases={"hello": False, "hi": False, "empty": True}), COLON, ["hello", "hi"])
    fixed = make_report(cases={"hello": True, "hi": True, "empty": True})
    assert judge(learner, learner.diagnoses[0], fixed) == FixCheck("passed", cases=2)


def test_a_fix_fails_when_a_case_it_explains_still_fails_or_a_passing_case_breaks():
    learner = _diagnosed(make_report(cases={"hello": False, "hi": False, "empty": True}), COLON, ["hello", "hi"])
    half = judge(learner, learner.diagnoses[0], make_report(cases={"hello": True, "hi": False, "empty": True}))
    assert half.status == "failed" and half.cases == 1 and "1 of the 2 cases" in half.reason
    broke = judge(learner, learner.diagnoses[0], make_report(cases={"hello": True, "hi": True, "empty": False}))
    assert broke.status == "failed" and "1 case that passed" in broke.reason
    crashed = make_report(cases={})
    crashed.error = GradingError("import", "NameError")
    assert judge(learner, learner.diagnoses[0], crashed.finish()).status == "failed"
    assert not judge(learner, learner.diagnoses[0], make_report(cases={}, infra="sandbox gone")).shows_code


def test_a_fix_for_a_file_that_did_not_load_passes_once_the_file_loads():
    learner = make_report(cases={})
    learner.error = GradingError("syntax", "line 8: invalid syntax")
    learner = _diagnosed(learner.finish(), COLON, [])
    outcome = judge(learner, learner.diagnoses[0], make_report(cases={"hello": True, "hi": False}))
    assert outcome == FixCheck("passed", cases=1)


def test_an_edit_that_does_not_apply_or_changes_nothing_is_never_graded():
    def never(_source: str) -> Report:
        raise AssertionError("nothing to grade")

    report = _diagnosed(make_report(cases={"hello": False}), COLON, ["hello"])
    stale = dataclasses.replace(COLON, before="    return msg")
    same = dataclasses.replace(COLON, after=COLON.before)
    for patch in (stale, same):
        diagnosis = dataclasses.replace(report.diagnoses[0], fix_patch=patch)
        assert check_fix(SET_INSTEAD_OF_DICT, report, diagnosis, never).status == "failed"


def test_a_grader_failure_while_checking_leaves_the_fix_not_checked():
    def broken(_source: str) -> Report:
        raise RuntimeError("no sandbox")

    report = _diagnosed(make_report(cases={"hello": False}), COLON, ["hello"])
    outcome = check_fix(SET_INSTEAD_OF_DICT, report, report.diagnoses[0], broken)
    assert outcome.status == "not_checked" and not outcome.shows_code


def test_only_the_first_fixes_are_graded_and_the_rest_say_so():
    graded: list[str] = []

    def grade(source: str) -> Report:
        graded.append(source)
        return make_report(cases={"hello": True})

    report = make_report(cases={"hello": False})
    first = Diagnosis(title="a", explanation="", fix="", cases=["hello"], fix_patch=COLON)
    words = Diagnosis(title="b", explanation="", fix="")
    report = dataclasses.replace(report, diagnoses=[first, words, first])
    checked = check_fixes(SET_INSTEAD_OF_DICT, report, grade, limit=1)
    assert [d.fix_check.status if d.fix_check else None for d in checked.diagnoses] == [
        "passed",
        None,
        "not_checked",
    ]
    assert graded == [COLON.apply(SET_INSTEAD_OF_DICT)]


def test_the_diff_shows_the_learner_line_and_its_replacement_with_their_numbers():
    lines = fix_diff(SET_INSTEAD_OF_DICT, COLON)
    assert [(line.kind, line.number, line.text) for line in lines] == [
        ("context", 7, "async def receive_message(msg: dict):"),
        ("removed", 8, '    return {"received", msg}'),
        ("added", 8, '    return {"received": msg}'),
    ]
    assert diff_text(SET_INSTEAD_OF_DICT, COLON).splitlines()[1] == '-    8 |     return {"received", msg}'
    assert fix_diff(SET_INSTEAD_OF_DICT.replace("received", "got"), COLON) == []


def test_the_terminal_shows_the_diff_only_for_a_checked_fix():
    report = _diagnosed(make_report(cases={"hello": False}), COLON, ["hello"])
    passed = dataclasses.replace(report.diagnoses[0], fix_check=FixCheck("passed", cases=1))
    text = render_text(dataclasses.replace(report, diagnoses=[passed]), SET_INSTEAD_OF_DICT)
    assert "Checked: with this change the 1 case it explains pass." in text
    assert '+    8 |     return {"received": msg}' in text
    failed = dataclasses.replace(report.diagnoses[0], fix_check=FixCheck("failed", reason="x"))
    text = render_text(dataclasses.replace(report, diagnoses=[failed]), SET_INSTEAD_OF_DICT)
    assert "did not fix everything" in text and '"received": msg' not in text


def test_a_check_survives_storage_with_its_report():
    report = _diagnosed(make_report(cases={"hello": False}), COLON, ["hello"])
    checked = dataclasses.replace(report.diagnoses[0], fix_check=FixCheck("not_checked", reason="busy"))
    again = Report.from_dict(dataclasses.replace(report, diagnoses=[checked]).to_dict())
    assert again.diagnoses[0].fix_check == FixCheck("not_checked", reason="busy")


@pytest.mark.sandbox
def test_the_changed_file_is_graded_in_the_sandbox_with_the_same_seed(grade, message_echo):
    learner = grade(message_echo, SET_INSTEAD_OF_DICT, seed=11)
    failing = [case.name for case in learner.tests if not case.passed]
    assert failing and learner.error is None
    report = _diagnosed(learner, COLON, failing)
    seeds: list[int] = []

    def grade_changed(source: str) -> Report:
        seeds.append(learner.seed)
        return grade(message_echo, source, seed=learner.seed)

    outcome = check_fix(SET_INSTEAD_OF_DICT, report, report.diagnoses[0], grade_changed)
    assert outcome == FixCheck("passed", cases=len(failing))
    # An edit that does not fix it is not shown as code.
    wrong = dataclasses.replace(COLON, after='    return {"received": str(msg)}')
    diagnosis = dataclasses.replace(report.diagnoses[0], fix_patch=wrong)
    assert check_fix(SET_INSTEAD_OF_DICT, report, diagnosis, grade_changed).status == "failed"
    assert seeds == [11, 11]
