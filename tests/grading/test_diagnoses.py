"""Beginner mistakes graded in the real sandbox get the one diagnosis that explains them.

Each file of ``submissions/mistakes/`` is a mistake learners make, with a header:

* ``# cause:`` the cause code its first diagnosis must carry;
* ``# words:`` phrases (separated by `` | ``) the diagnosis must say;
* ``# at:`` a piece of code: the diagnosis points at the first line holding it
  (``none``: at no line);
* ``# never:`` phrases (separated by `` | ``) the diagnoses must not say, for
  files that try to forge what the grader reports;
* ``# error:`` the error kind, for files that cannot be graded case by case;
* ``# diagnoses:`` how many diagnoses in all (1 when absent);
* ``# limits: quick`` for files meant to hang;
* ``# known_miss:`` why the diagnosis is known to be wrong: the test is then a strict xfail
  with that reason (and must be removed once the diagnosis is right).

``submissions/heldout_content_type/`` has the same headers: programs that answer
JSON text under a media type a JSON client refuses, written before the rule
that diagnoses them and kept apart to check that it holds beyond the examples
it was written with.

Headers that are about the corpus rather than the diagnosis (``# fix:``, ``# uncorrectable:``)
and the corrected versions are checked by test_corpus.py. The corpus is graded once per
test session, two submissions at a time (the ``corpus_reports`` fixture).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.report import Report
from grader.grading.textreport import render_text

from .corpus import known_miss_marks
from .support import header_values, submission_files

pytestmark = pytest.mark.sandbox

HELD_OUT = submission_files("heldout_content_type")
MISTAKES = submission_files("mistakes") + HELD_OUT
SEED = 7
# Calls that can never work under a grader are caught as they happen, long
# before the start-up deadline (10 s for this exercise).
CAUGHT_AT_ONCE = {"server_start", "input", "exit"}


def _header(path: Path, key: str) -> str | None:
    values = header_values(path.read_text(encoding="utf-8"), key)
    return values[0] if values else None


def expected_line(source: str, fragment: str) -> int:
    """The number of the first line of code (not a header comment) holding ``fragment``."""
    for number, line in enumerate(source.splitlines(), start=1):
        if not line.startswith("#") and fragment in line:
            return number
    raise AssertionError(f"no line holds {fragment!r}")


@pytest.fixture(scope="module")
def graded(corpus_reports) -> dict[str, tuple[Report, float]]:
    """Every mistake's report and how long grading it took, by file stem."""
    groups = {**corpus_reports.group("mistakes"), **corpus_reports.group("heldout_content_type")}
    return {name: (graded.report, graded.seconds) for name, graded in groups.items()}


def test_the_corpus_is_there():
    assert len(MISTAKES) >= 25
    assert len(HELD_OUT) >= 3
    for path in MISTAKES:
        for key in ("cause", "words", "at"):
            assert _header(path, key), f"{path.name} has no '# {key}:' line"


@pytest.mark.parametrize("path", [pytest.param(p, marks=known_miss_marks(p), id=p.stem) for p in MISTAKES])
def test_mistake_gets_its_diagnosis(graded, path):
    source = path.read_text(encoding="utf-8")
    report, elapsed = graded[path.stem]
    assert report.status != "passed"
    assert not report.is_infra_error, report.error
    error_kind = _header(path, "error")
    if error_kind:
        assert report.error is not None and report.error.kind == error_kind, report.error
    else:
        assert report.error is None, report.error

    assert report.diagnoses, "a report short of full marks has a diagnosis"
    first = report.diagnoses[0]
    said = f"{first.title}\n{first.explanation}\n{first.fix}"
    assert first.cause == _header(path, "cause"), said
    for phrase in _header(path, "words").split(" | "):
        assert phrase in said, f"{phrase!r} not in:\n{said}"
    at = _header(path, "at")
    assert first.line == (None if at == "none" else expected_line(source, at)), said
    everything = "\n".join(f"{d.title}\n{d.explanation}\n{d.fix}" for d in report.diagnoses) + report.summary()
    for phrase in (_header(path, "never") or "").split(" | "):
        assert not phrase or phrase not in everything, f"{phrase!r} was said:\n{everything}"
    assert len(report.diagnoses) == int(_header(path, "diagnoses") or 1), [d.title for d in report.diagnoses]

    # One mistake, one diagnosis: every failed case is explained, and only once.
    failed = [case.name for case in report.tests if not case.passed]
    explained = [name for diagnosis in report.diagnoses for name in diagnosis.cases]
    assert sorted(explained) == sorted(failed)

    # What a learner reads first is the diagnosis and its fix.
    summary = report.summary()
    assert summary.startswith(f"{first.title}. {first.fix}")
    assert "Traceback" not in summary.splitlines()[0]
    text = render_text(report)
    assert first.title in text
    if first.cause in CAUGHT_AT_ONCE:
        assert elapsed < 5, f"took {elapsed:.1f} s: the call was not caught when it happened"


def test_a_one_typo_report_is_short(graded):
    report, _ = graded["misspelt_key"]
    text = render_text(report)
    assert len(text.splitlines()) <= 40, text
    assert text.count("recieved") >= 1 and "Misspelt key" in text


def test_a_crash_shows_the_learners_line_not_the_libraries(graded):
    report, _ = graded["crash_key_error"]
    crashed = [case for case in report.tests if case.received.status == 500]
    assert crashed
    output = crashed[0].program_output
    assert output and 'File "solution.py", line' in output and "KeyError: 'sender'" in output
    # The learner's exception and line come first, before the server's log.
    assert output.startswith('KeyError: \'sender\'\n  in solution.py, line 13: reply["sender"] = msg["sender"]')
    assert "site-packages" not in output, "library frames are folded"
    assert "frames inside" in output


def test_a_redirect_keeps_its_location(graded):
    report, _ = graded["trailing_slash"]
    case = next(case for case in report.tests if case.name == "hello")
    assert case.received.status == 307
    assert case.received.headers["location"].endswith("/message/")
    assert case.reached_endpoint is False


def test_step_two_is_told_truthfully(graded):
    """Where the framework answered by itself, the case says no endpoint ran."""
    wrong_path, _ = graded["plural_path"]
    assert all(case.reached_endpoint is False for case in wrong_path.tests)
    wrong_method, _ = graded["get_route"]
    assert next(c for c in wrong_method.tests if c.name == "hello").reached_endpoint is False
    model, _ = graded["pydantic_text_only"]
    refused = [case for case in model.tests if case.received.status == 422]
    assert refused and all(case.reached_endpoint is False for case in refused)
    typo, _ = graded["misspelt_key"]
    assert all(case.reached_endpoint is True for case in typo.tests if case.received.status == 200)
