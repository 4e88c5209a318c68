"""What a learner is shown of cases whose data is withheld, for each visibility and release."""

from __future__ import annotations

import json

import pytest

from grader.grading.cases import case_visibilities
from grader.grading.report import (
    VISIBILITIES,
    CaseResult,
    Diagnosis,
    FixCheck,
    FixPatch,
    HttpExchange,
    Report,
    Visibility,
)
from grader.grading.spec import ExerciseSpec
from grader.grading.textreport import render_text
from grader.grading.visibility import (
    HIDDEN_DESCRIPTION,
    OUTPUT_CUT,
    Release,
    as_now,
    for_learner,
    learner_data,
    released,
)

SECRET_SENT = "zebra-sent-7Q"
SECRET_EXPECTED = "zebra-expected-7Q"
SECRET_RECEIVED = "zebra-received-7Q"
SECRET_PRINTED = "zebra-printed-7Q"
SECRETS = (SECRET_SENT, SECRET_EXPECTED, SECRET_RECEIVED, SECRET_PRINTED, "secret-case")


def _case(name: str, *, visibility: Visibility = "visible", passed: bool = False, marker: str = "") -> CaseResult:
    sent = json.dumps({"text": f"{name}{marker and ' ' + SECRET_SENT}"})
    return CaseResult(
        name=name,
        description=f"the {name} case",
        score=1.0 if passed else 0.0,
        max_score=1.0,
        status="passed" if passed else "failed",
        request=HttpExchange(method="POST", path="/message", body=sent),
        expected=HttpExchange(
            status=200, body=json.dumps({"received": f"{name} {SECRET_EXPECTED}" if marker else name})
        ),
        received=HttpExchange(status=200, body=json.dumps({"got": f"{name} {SECRET_RECEIVED}" if marker else name})),
        diff=f"$.received: expected {SECRET_EXPECTED}" if marker else "$.received: differs",
        problem="the body differs",
        hint=f"hint about {SECRET_EXPECTED}" if marker else "echo it",
        reached_endpoint=True,
        program_output=f"printed {SECRET_PRINTED}" if marker else f"printed in {name}",
        visibility=visibility,
    )


def restricted_report(visibility: Visibility) -> Report:
    """Two visible cases, then a restricted one that fails with its own data; a diagnosis of each kind."""
    tests = [
        _case("hello"),
        _case("hi", passed=True),
        _case("secret-case", visibility=visibility, marker="x"),
    ]
    return Report(
        exercise="message-echo",
        spec_hash="h",
        seed=1,
        max_score=3,
        tests=tests,
        stdout=f"started\nprinted in hello\nprinted {SECRET_PRINTED}\n",
        stderr=f"warning {SECRET_PRINTED}\n",
        stdout_before_hidden="started\nprinted in hello\n",
        stderr_before_hidden="",
        diagnoses=[
            Diagnosis(
                title="The reply is built by hand",
                explanation="Your endpoint returns the same words whatever arrives.",
                fix="Return {'received': msg}.",
                cases=["hello", "secret-case"],
                line=4,
                cause="echo_constant",
                fix_patch=FixPatch(line=4, before="    return {}", after="    return {'received': msg}"),
                fix_check=FixCheck("passed", cases=2),
            ),
            Diagnosis(
                title=f"The reply quotes {SECRET_RECEIVED}",
                explanation=f"It sent {SECRET_SENT}.",
                fix=f"Answer {SECRET_EXPECTED}.",
                cases=["secret-case"],
                line=7,
                cause="wrong_value",
                fix_patch=FixPatch(line=7, before="x", after=f"'{SECRET_EXPECTED}'"),
            ),
        ],
    ).finish()


def _everything_a_learner_reads(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False) + render_text(report)


@pytest.mark.parametrize(
    ("visibility", "release", "shown"),
    [
        ("visible", Release(), True),
        ("hidden", Release(), False),
        ("hidden", Release(due_passed=True, published=True), False),
        ("after_due_date", Release(), False),
        ("after_due_date", Release(published=True), False),
        ("after_due_date", Release(due_passed=True), True),
        ("after_published", Release(due_passed=True), False),
        ("after_published", Release(published=True), True),
    ],
)
def test_each_visibility_is_released_by_its_own_event(visibility, release, shown):
    assert released(visibility, release) is shown
    redacted = for_learner(restricted_report(visibility), release)
    text = _everything_a_learner_reads(redacted)
    for secret in SECRETS:
        assert (secret in text) is shown, secret


def test_every_visibility_has_a_release_rule():
    assert all(isinstance(released(visibility, Release()), bool) for visibility in VISIBILITIES)


def test_a_withheld_case_keeps_its_verdict_and_points_but_not_its_data():
    report = restricted_report("hidden")
    redacted = for_learner(report, Release())
    hidden = redacted.tests[2]
    assert (hidden.name, hidden.description, hidden.status, hidden.max_score) == (
        "hidden-1",
        HIDDEN_DESCRIPTION,
        "failed",
        1.0,
    )
    assert hidden.request == hidden.expected == hidden.received == HttpExchange()
    assert (hidden.diff, hidden.problem, hidden.hint, hidden.program_output) == (None, None, None, None)
    assert hidden.withheld and "hidden check" in hidden.withheld
    assert (redacted.score, redacted.max_score, redacted.status) == (report.score, report.max_score, report.status)
    assert redacted.tests[:2] == report.tests[:2]
    data = redacted.to_dict()
    assert data["tests"][2]["visibility"] == "hidden"
    assert data["stdout_before_hidden"] is None


def test_the_output_is_cut_where_the_first_withheld_case_was_sent():
    redacted = for_learner(restricted_report("hidden"), Release())
    assert redacted.stdout == f"started\nprinted in hello\n{OUTPUT_CUT}"
    assert redacted.stderr == OUTPUT_CUT


def test_a_diagnosis_shared_with_shown_cases_lists_only_those():
    first = for_learner(restricted_report("hidden"), Release()).diagnoses[0]
    assert first.cases == ["hello"]
    assert (first.title, first.line, first.fix_patch) == (
        "The reply is built by hand",
        4,
        restricted_report("hidden").diagnoses[0].fix_patch,
    )
    assert first.fix_check == FixCheck("passed", cases=1)


def test_a_diagnosis_of_withheld_cases_only_says_a_hidden_check_failed():
    second = for_learner(restricted_report("hidden"), Release()).diagnoses[1]
    assert second.title == "A hidden check failed"
    assert (second.cases, second.line, second.fix_patch, second.fix_check, second.fix) == (
        ["hidden-1"],
        None,
        None,
        None,
        "",
    )


def test_a_shared_diagnosis_that_quotes_a_withheld_case_is_reworded():
    report = restricted_report("hidden")
    report.diagnoses[0] = Diagnosis(
        title="Wrong value", explanation=f"You answered {SECRET_RECEIVED}.", fix="Echo.", cases=["hello", "secret-case"]
    )
    first = for_learner(report, Release()).diagnoses[0]
    assert first.title == "A hidden check failed"
    assert first.cases == ["hello", "hidden-1"]
    assert SECRET_RECEIVED not in first.explanation


def test_a_case_sent_after_a_withheld_one_keeps_its_verdict_but_not_the_answer():
    report = restricted_report("hidden")
    later = _case("published-later", visibility="after_published", passed=False)
    report.tests.append(later)
    redacted = for_learner(report, Release(published=True))
    shown_later = redacted.tests[3]
    assert (shown_later.name, shown_later.request, shown_later.status) == ("published-later", later.request, "failed")
    assert shown_later.received == HttpExchange()
    assert shown_later.program_output is None
    assert shown_later.withheld and "after a hidden check" in shown_later.withheld
    assert not shown_later.neutral and redacted.tests[2].neutral
    report.tests.append(_case("last", visibility="hidden"))
    assert [case.name for case in for_learner(report, Release()).tests[2:]] == ["hidden-1", "hidden-2", "hidden-3"]
    assert [case.name for case in for_learner(report, Release(published=True)).tests[2:]] == [
        "hidden-1",
        "published-later",
        "hidden-2",
    ]


def test_a_report_without_restricted_cases_is_untouched():
    report = restricted_report("visible")
    assert for_learner(report, Release()) is report
    data = report.to_dict()
    assert learner_data(data, Release()) is data


def test_stored_data_is_redacted_the_same_way():
    data = restricted_report("after_due_date").to_dict()
    text = json.dumps(learner_data(data, Release()))
    assert not any(secret in text for secret in SECRETS)
    assert SECRET_RECEIVED in json.dumps(learner_data(data, Release(due_passed=True)))


def test_the_full_text_report_marks_the_cases_learners_do_not_see():
    text = render_text(restricted_report("after_published"))
    line = next(line for line in text.splitlines() if "FAIL  secret-case  0/1" in line)
    assert line.endswith("  [shown to learners once grades are published]")
    assert SECRET_SENT in text


def test_what_the_exercise_says_now_decides_and_hiding_a_case_later_hides_all_output():
    data = restricted_report("visible").to_dict()
    assert as_now(data, {"secret-case": "visible"}) is data
    now = as_now(data, {"secret-case": "hidden", "gone": "hidden"})
    assert [t["visibility"] for t in now["tests"]] == ["visible", "visible", "hidden"]
    assert now["stdout_before_hidden"] is None
    redacted = learner_data(now, Release())
    text = json.dumps(redacted)
    assert not any(secret in text for secret in SECRETS)
    assert (redacted["stdout"], redacted["stderr"]) == (OUTPUT_CUT, OUTPUT_CUT)
    # Shown again later: the case's data is the learner's to see.
    shown = as_now(restricted_report("hidden").to_dict(), {"secret-case": "visible"})
    assert SECRET_SENT in json.dumps(learner_data(shown, Release()))


def test_a_random_familys_members_take_its_visibility():
    spec = ExerciseSpec.model_validate(
        {
            "slug": "ping",
            "title": "Ping",
            "instructions": "Answer.",
            "cases": [
                {"name": "ping", "description": "one", "request": {"json": {"n": 1}}},
                {"name": "made-up", "description": "some", "random": 2, "visibility": "after_published"},
            ],
        }
    )
    assert case_visibilities(spec) == {
        "ping": "visible",
        "made-up-1": "after_published",
        "made-up-2": "after_published",
    }


def test_withheld_cases_failing_for_different_reasons_make_one_card():
    """Two cards would tell the learner the hidden checks fail for two different reasons."""
    report = restricted_report("hidden")
    report.tests.append(_case("second-secret", visibility="hidden", marker="ALBATROSS"))
    report.diagnoses.append(Diagnosis(title="Another mistake", explanation="x", fix="y", cases=["second-secret"]))
    redacted = for_learner(report, Release())
    hidden = [diagnosis for diagnosis in redacted.diagnoses if "hidden check" in diagnosis.title]
    assert len(hidden) == 1 and hidden[0].title == "2 hidden checks failed"
    assert hidden[0].cases == ["hidden-1", "hidden-2"]
    assert len(redacted.diagnoses) == len(report.diagnoses) - 1
