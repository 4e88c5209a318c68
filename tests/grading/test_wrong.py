"""Wrong solutions fail exactly the cases their mistake breaks, with feedback to act on.

Each corpus file names, in its header, the cases it must fail (``# fails:``) and
a phrase the feedback of a failed case must contain (``# feedback:``). Every
other case must pass, so a grader that fails everything cannot pass this test.
"""

from __future__ import annotations

import pytest

from .support import case_status, header_values, submission_files

pytestmark = pytest.mark.sandbox

WRONG = submission_files("wrong")
# Fixed so that the random cases are the same at every run; the headers of
# stringify_values.py and floats_to_int.py rely on what this seed generates.
SEED = 7


def test_the_corpus_is_there():
    assert len(WRONG) >= 12
    for path in WRONG:
        source = path.read_text(encoding="utf-8")
        assert header_values(source, "fails"), f"{path.name} names no failing case"
        assert header_values(source, "feedback"), f"{path.name} names no feedback"


@pytest.mark.parametrize("path", WRONG, ids=[p.stem for p in WRONG])
def test_wrong_solution_fails_the_right_cases(grade, message_echo, path):
    source = path.read_text(encoding="utf-8")
    expected_failures = set(header_values(source, "fails")[0].split())
    report = grade(message_echo, source, seed=SEED)

    assert report.error is None, report.error
    statuses = case_status(report)
    assert expected_failures <= set(statuses), f"unknown case names: {expected_failures - set(statuses)}"
    failed = {name for name, status in statuses.items() if status == "failed"}
    assert failed == expected_failures
    assert report.status == "failed"
    lost = sum(case.max_score for case in report.tests if case.name in expected_failures)
    assert report.score == pytest.approx(report.max_score - lost)

    failed_cases = [case for case in report.tests if not case.passed]
    for case in failed_cases:
        assert case.score == 0
        assert case.problem, f"{case.name}: a failed case says what went wrong"
        wrong_status_for_a_success = case.received.status != case.expected.status and 200 <= case.expected.status < 300
        if wrong_status_for_a_success:
            # The status problem says what to fix; the case's hint about the body would mislead.
            assert case.hint is None, f"{case.name}: a hint about a body the request never reached"
        else:
            assert case.hint, f"{case.name}: a failed case gives a hint"
        assert case.request.method and case.request.path == "/message"
        assert case.expected.status is not None
        if case.received.status == case.expected.status:
            assert case.diff, f"{case.name}: a wrong body comes with a diff"
    phrase = header_values(source, "feedback")[0]
    feedback = "\n".join(case.output() for case in failed_cases)
    assert phrase in feedback, f"no failed case mentions {phrase!r}:\n{feedback[:3000]}"
