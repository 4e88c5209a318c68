"""The result page: mistakes first, cases grouped under them, step 2 honest, output in its case.

The reports are real gradings of the files beside them (tests/web/reports/*.py, made with
``autograder grade FILE --json --seed 7``); reports stored by older graders (no diagnoses,
no per-case output) are made from them by taking those keys out.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import get_args

import pytest

from grader.grading.report import ERROR_KIND_WORDING, ErrorKind, error_kind_sentence, error_kind_words
from grader.web import report_view
from tests.factories import make_report, make_submission

REPORTS = Path(__file__).parent / "reports"


def _stored(name: str) -> tuple[dict, str]:
    return json.loads((REPORTS / f"{name}.json").read_text()), (REPORTS / f"{name}.py").read_text()


def _graded(synced, user, name: str):
    report, source = _stored(name)
    return make_submission(synced, user=user, status="graded", score=report["score"], report=report, source=source)


def _page_and_card(client, submission) -> tuple[str, str]:
    """The submission's page and its first diagnosis card."""
    page = client.get(f"/submissions/{submission.id}").text
    return page, page[page.index('<article class="diagnosis"') : page.index("</article>")]


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_a_typo_leads_with_one_card_and_folds_the_other_cases(as_learner, learner, synced):
    submission = _graded(synced, learner, "typo")
    html = as_learner.get(f"/submissions/{submission.id}").text
    card = html[html.index('<article class="diagnosis"') : html.index("</article>")]
    assert "Misspelt key: you wrote <code>recieved</code>; the key is <code>received</code>" in card
    assert "What to change:</strong> Write &#34;received&#34; instead of &#34;recieved&#34;." in card
    # The learner's own line, highlighted, with its neighbours.
    assert "Line 8 of your file (highlighted)" in card
    assert "<mark>    return {&#34;recieved&#34;: msg}</mark>" in card
    # The ten failing cases sit in the card: the first open, nine closed.
    assert card.count('<details class="case case-failed" open>') == 1
    assert card.count('<details class="case case-failed">') == 9
    assert "This explains 10 failing cases" in card
    # The passing cases are folded into one closed block after it.
    passing = html[html.index('<details class="passing-cases">') :]
    assert "4 passing cases" in passing and passing.count('<details class="case case-passed">') == 4
    # One fix, not ten hints that each guess at the mistake.
    assert "What to fix:" not in html
    assert "10 of 14 cases failed, all for one reason" in _text(html)


def test_step_two_says_when_no_endpoint_ran(as_learner, learner, synced):
    submission = _graded(synced, learner, "wrong-path")
    text = _text(as_learner.get(f"/submissions/{submission.id}").text)
    assert "No endpoint function ran: nothing in your app answers POST /message, so FastAPI replied 404" in text
    assert "The request reached your app" not in text

    typo = _text(as_learner.get(f"/submissions/{_graded(synced, learner, 'typo').id}").text)
    # Refused bodies are FastAPI's doing (422), and GET is refused by method (405): no function ran.
    assert "refused it and replied 422 on its own, before calling your function" in typo
    assert "your app has /message, but not for GET, so FastAPI replied 405 Method Not Allowed" in typo
    assert "FastAPI called your endpoint function with the request's body as Python data" in typo


def test_a_crash_shows_its_error_inside_the_case_learner_line_first(as_learner, learner, synced):
    html, card = _page_and_card(as_learner, _graded(synced, learner, "crash"))
    text = _text(card)
    assert "FastAPI called your endpoint function, and it stopped with an error" in text
    assert "The error: IndexError: list index out of range" in text
    # The learner's line comes before the folded library frames.
    assert text.index("Line 8, in receive_message : first_key = list(msg)[0]") < text.index("The full error message")
    assert "(17 steps inside FastAPI and other libraries)" in text
    # The case's own output is in the case; the whole record stays folded at the end of the page.
    assert "Printed during case empty-object" not in card  # it crashed before its print
    rest = html[html.index("</article>") :]
    hello = rest[rest.index("<strong>hello</strong>") :]
    hello = hello[: hello.index("</details>")]
    assert 'aria-label="Printed during case hello, attempt 1"' in hello and "first key: text" in hello
    assert '<details class="program-output">' in rest and "first key: text" in rest


def _without_case_output(report: dict) -> dict:
    """The report as graders stored it before each case kept its own output."""
    for case in report["tests"]:
        case.pop("program_output", None)
        case.pop("reached_endpoint", None)
    return report


def test_older_reports_have_their_tracebacks_matched_to_cases():
    report, source = _stored("crash")
    view = report_view.build(_without_case_output(report), source)
    case = view.diagnoses[0].cases[0]
    assert case.traceback.exception == "IndexError: list index out of range"
    assert [f.line for f in case.traceback.learner_frames] == [8]


def test_output_stays_whole_when_it_cannot_be_matched_to_cases():
    report, source = _stored("crash")
    _without_case_output(report)
    # Output cut in the middle (the grader keeps its head and tail) loses a traceback: none is moved.
    report["tests"][0]["received"]["status"] = 500
    view = report_view.build(report, source)
    assert not any(case.traceback for case in view.diagnoses[0].cases + view.passing)
    assert view.stderr == report["stderr"]


def test_an_import_error_is_named_in_words_with_the_learners_frames(as_learner, learner, synced):
    submission = _graded(synced, learner, "import-error")
    html = as_learner.get(f"/submissions/{submission.id}").text
    text = _text(html)
    assert "Your file raised RuntimeError while loading" in text  # the diagnosis
    assert "Your file stopped with an error while it was being loaded." in text  # the error kind, in words
    assert "(import)" not in text and "Traceback (most recent call last)" not in text
    assert "<mark>    raise RuntimeError(&#34;the database is not configured&#34;)</mark>" in html
    assert "The error message in full" in text and "RuntimeError: the database is not configured in solution.py" in text


def test_a_passed_exercise_points_to_the_quiz(as_learner, learner, synced):
    report = make_report(cases={"hello": True, "hi": True})
    submission = make_submission(synced, user=learner, status="graded", score=2, report=report.to_dict())
    html = as_learner.get(f"/submissions/{submission.id}").text
    assert 'href="/quizzes/message-cycle"' in html and "Take the quiz on this lesson" in html
    assert "<article" not in html


def test_reports_stored_before_diagnoses_still_group_their_failures():
    report, source = _stored("typo")
    del report["diagnoses"]
    view = report_view.build(report, source)
    assert len(view.diagnoses) == 1 and len(view.diagnoses[0].cases) == 10
    assert view.unexplained == []


@pytest.mark.parametrize("kind", sorted(get_args(ErrorKind)))
def test_error_kinds_are_words(kind):
    # One table gives both forms: the page's sentence and the phrase of the text report and the dashboard.
    wording = ERROR_KIND_WORDING[kind]
    assert error_kind_sentence(kind) == wording.sentence and error_kind_words(kind) == wording.phrase
    for words in (wording.phrase, wording.sentence):
        assert "_" not in words and f"({kind})" not in words
    assert len(wording.sentence.split()) >= 5 and wording.sentence[0].isupper()
    assert not wording.sentence.endswith(".") and wording.phrase[0].islower()


def test_an_unknown_error_kind_still_has_words():
    assert error_kind_sentence("from-a-newer-grader") == "Your file could not be graded"
    assert error_kind_words("from-a-newer-grader") == "an error"


def test_server_tracebacks_are_split_per_request():
    report, _ = _stored("crash")
    blocks, rest = report_view.server_tracebacks(report["stderr"])
    assert len(blocks) == 1 and rest == ""
    parsed = report_view.parse_traceback(blocks[0])
    assert parsed.exception == "IndexError: list index out of range"
    assert [(f.path, f.line, f.source) for f in parsed.learner_frames] == [
        ("solution.py", 8, "first_key = list(msg)[0]")
    ]
    assert parsed.library_frames and all(f.path.startswith("/opt/") for f in parsed.library_frames)


def test_output_recorded_per_case_is_shown_in_its_case():
    report, source = _stored("crash")
    for case in report["tests"]:
        case["program_output"] = None
        case["reached_endpoint"] = case["received"]["status"] not in (404, 405, 422)
    crashed = next(case for case in report["tests"] if case["status"] == "failed")
    crashed["program_output"] = (
        "first key: surprise\n"
        "ERROR:    Exception in ASGI application\n"
        "Traceback (most recent call last):\n"
        "  … 12 frames inside uvicorn, starlette, fastapi …\n"
        '  File "solution.py", line 8, in receive_message\n'
        "    first_key = list(msg)[0]\n"
        "IndexError: list index out of range"
    )
    first_passing = next(case for case in report["tests"] if case["status"] == "passed")
    first_passing["reached_endpoint"] = False
    view = report_view.build(report, source)
    case = view.diagnoses[0].cases[0]
    assert case.printed == "first key: surprise"
    assert case.traceback.exception == "IndexError: list index out of range"
    assert [(f.line, f.source) for f in case.traceback.learner_frames] == [(8, "first_key = list(msg)[0]")]
    assert case.endpoint_ran is True
    # The grading's own word on whether the endpoint ran wins over the status code.
    passing = view.passing[0]
    assert passing.printed == "" and passing.traceback is None
    assert passing.endpoint_ran is False and passing.endpoint_words.startswith("No endpoint function ran")


def test_a_reply_sent_as_another_media_type_shows_both_content_types(as_learner, learner, synced):
    html, card = _page_and_card(as_learner, _graded(synced, learner, "plain-text"))
    text = _text(card)
    assert "The reply is sent as plain text, not as JSON" in text
    assert "Line 11 of your file (highlighted)" in text
    # Step 4 of the first case: what came back, and what a JSON client needs, side by side.
    first = card[card.index('<details class="case case-failed" open>') :]
    step4 = _text(
        first[first.index('<th scope="row">4</th>') : first.index("</tr>", first.index('<th scope="row">4</th>'))]
    )
    assert "Content-Type: text/plain; charset=utf-8" in step4
    assert "Content-Type: application/json (or another type ending in +json) differs" in step4
    assert "body: same" in step4
    # A passing case shows the Content-Type it came with, and no difference.
    passing = html[html.index('<details class="passing-cases">') :]
    assert "differs" not in passing


def test_a_file_that_could_not_run_says_so_why_and_whether_it_counts(as_learner, learner, synced):
    submission = _graded(synced, learner, "import-error")
    page = as_learner.get(f"/submissions/{submission.id}").text
    heading = _text(page[page.index('<h2 id="report-heading">') : page.index("</h2>")])
    assert heading.strip() == "Result: Couldn't run : 0 / 16 points"
    assert "Couldn&#39;t run</span>:" in page  # read as "Couldn't run: 0 / 16 points"
    # Why, in the learner's words.
    assert "Your file stopped with an error while it was being loaded." in _text(page)
    assert "Not graded" not in page
    words = _text(page)
    assert "No case could run, so there are no points yet." in words
    assert "It counts as an attempt, but your best score so far stays as it is." in words


def test_a_graders_fault_is_not_counted(as_learner, learner, synced):
    report = make_report(cases={"hello": True}, infra="the sandbox could not start").to_dict()
    submission = make_submission(synced, user=learner, status="graded", score=0, report=report)
    words = _text(as_learner.get(f"/submissions/{submission.id}").text)
    assert "Couldn't run" in words and "this attempt counts for nothing and your score is untouched" in words


def test_the_seed_limits_and_timing_are_folded_under_details(as_learner, learner, synced):
    submission = _graded(synced, learner, "typo")
    page = as_learner.get(f"/submissions/{submission.id}").text
    fold = page[page.index('<details class="run-details">') :]
    fold = fold[: fold.index("</details>")]
    assert "<summary>Details</summary>" in fold and "Seed 7" in fold and "graded in" in fold
    outside = page.replace(fold, "")
    assert "Seed" not in outside and "graded in" not in outside


OPERATOR_WORDS = re.compile(
    r"\b(seed|graded in|limits? not enforced|host|sandbox|worker|spec|exit (code|status)|signal|"
    r"execution time|\d+(\.\d+)? ?(ms|s)\b|MB|cgroup|bwrap|uid|pid|queue)",
    re.IGNORECASE,
)


@pytest.mark.parametrize("name", ["typo", "crash", "import-error", "plain-text", "wrong-path"])
def test_a_learner_reads_no_operator_details_outside_the_fold(as_learner, learner, synced, name):
    submission = _graded(synced, learner, name)
    for url in [f"/submissions/{submission.id}", "/exercises/message-echo", "/"]:
        page = as_learner.get(url).text
        main = page[page.index("<main") : page.index("</main>")]
        if '<details class="run-details">' in main:
            fold = main[main.index('<details class="run-details">') :]
            main = main.replace(fold[: fold.index("</details>")], "")
        # The learner's own code and what their program printed are theirs, not the grader's.
        main = re.sub(r"<pre\b.*?</pre>|<code\b.*?</code>|<textarea\b.*?</textarea>", " ", main, flags=re.DOTALL)
        found = sorted({match.group(0) for match in OPERATOR_WORDS.finditer(_text(main))})
        assert found == [], f"{url} ({name}) shows {found}"


@pytest.mark.parametrize(
    ("report", "lines"),
    [
        (None, []),
        ({}, []),
        ({"diagnoses": []}, []),
        ({"diagnoses": [{"line": 8}, {"line": 3}, {"line": 8}]}, [3, 8]),
        # Lines that are not line numbers (missing, not a number, a boolean, zero) mark nothing.
        ({"diagnoses": [{"line": None}, {"line": "8"}, {"line": True}, {"line": 0}, "odd", {}]}, []),
    ],
)
def test_the_editor_marks_the_lines_the_diagnoses_point_at(report, lines):
    assert report_view.diagnosed_lines(report) == lines
