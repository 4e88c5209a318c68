"""Checked fixes on the result page and in the API: code only once the grader has run it."""

from __future__ import annotations

import dataclasses
import html
import json
import re

from sqlmodel import Session

from grader.grading.report import Diagnosis, FixPatch, HttpExchange
from grader.jobs import GradingWorker
from grader.models import FixCheckRow
from grader.services import fixchecks
from tests.factories import make_report, make_submission
from tests.web.conftest import api_token
from tests.web.test_events import _events, _stream_in_thread, _wait_for_listener

SOURCE = (
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
    '@app.post("/message")\nasync def receive_message(msg: dict):\n    return {"received", msg}\n'
)
PATCH = FixPatch(line=8, before='    return {"received", msg}', after='    return {"received": msg}')


def _report() -> dict:
    report = make_report(cases={"hello": False, "hi": False})
    diagnosis = Diagnosis(
        title="A comma where a colon goes",
        explanation="`{a, b}` is a set.",
        fix="Write a colon between the key and its value.",
        cases=["hello", "hi"],
        line=8,
        fix_patch=PATCH,
    )
    return dataclasses.replace(report, diagnoses=[diagnosis]).to_dict()


def _graded(session: Session, user, status: str | None, **row) -> int:
    submission = make_submission(session, user=user, status="graded", score=0, report=_report(), source=SOURCE)
    if status is not None:
        session.add(FixCheckRow(submission_id=submission.id, diagnosis=0, status=status, **row))
        session.commit()
    return submission.id


def _card(page: str) -> str:
    return page[page.index('<article class="diagnosis"') : page.index("</article>")]


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def test_a_checked_fix_is_shown_as_a_diff_of_the_learners_lines(as_learner, learner, synced):
    submission_id = _graded(synced, learner, "passed", cases=2)
    card = _card(as_learner.get(f"/submissions/{submission_id}").text)
    assert "Checked: with this change the 2 cases it explains pass." in _text(card)
    diff = card[card.index('<figure class="fix-diff"') :]
    assert '<span class="diff-line diff-removed"><span class="line-number" aria-hidden="true">8</span>' in diff
    assert "<del>" in diff and "{&#34;received&#34;, msg}</del>" in diff
    assert "<ins>" in diff and "{&#34;received&#34;: msg}</ins>" in diff
    # Beside the highlighted line, not instead of it.
    assert card.index("Line 8 of your file (highlighted)") < card.index('<figure class="fix-diff"')
    assert "data-fix-checks-url" not in as_learner.get(f"/submissions/{submission_id}").text


def test_a_fix_not_yet_checked_failed_or_skipped_shows_no_code(as_learner, learner, synced):
    cases = [
        ("pending", {}, "The grader is checking this fix"),
        ("failed", {"reason": "still fails"}, "it did not fix everything"),
        ("not_checked", {"reason": fixchecks.BUSY}, "Not checked (the graders were busy)"),
        (None, {}, "Not checked (it was proposed before fixes were checked)"),
    ]
    for status, row, words in cases:
        submission_id = _graded(synced, learner, status, **row)
        page = as_learner.get(f"/submissions/{submission_id}").text
        card = _card(page)
        assert words in _text(card), status
        assert "fix-diff" not in card and "{&#34;received&#34;: msg}" not in card, status
        assert "Write a colon between the key and its value." in _text(card)  # the words stay
        assert ("data-fix-checks-url" in page) == (status == "pending")


def test_the_api_result_carries_each_fix_check(client, learner, synced):
    submission_id = _graded(synced, learner, "failed", cases=1, reason="still fails")
    body = client.get(f"/api/v1/submissions/{submission_id}", headers=api_token(client, learner)).json()
    [diagnosis] = body["report"]["diagnoses"]
    assert diagnosis["fix_patch"] == {"line": 8, "before": PATCH.before, "after": PATCH.after}
    assert diagnosis["fix_check"] == {"status": "failed", "cases": 1, "reason": "still fails"}


def test_the_page_stream_sends_the_result_then_the_checked_fix(as_learner, learner, synced, engine):
    submission = make_submission(synced, user=learner, source=SOURCE)
    thread, result = _stream_in_thread(as_learner, f"/submissions/{submission.id}/events")
    _wait_for_listener(submission.id, thread)
    learner_report = make_report(cases={"hello": False, "hi": False}, seed=submission.seed)
    learner_report.diagnoses = [
        Diagnosis(title="Comma", explanation="", fix="A colon", cases=["hello", "hi"], line=8, fix_patch=PATCH)
    ]
    fixed = make_report(cases={"hello": True, "hi": True}, seed=submission.seed)
    requested: list[int] = []
    worker = GradingWorker(
        engine=engine,
        grade=lambda spec, source, seed: learner_report if source == SOURCE else fixed,
        check_fixes=True,
        request_checks=requested.append,
    )
    assert worker.run(submission.id).outcome == "graded" and requested == [submission.id]
    thread.join(1.0)  # time enough to send the result and end, were it to end there
    assert thread.is_alive(), "the stream must stay open while a fix is being checked"
    worker.check(submission.id)
    thread.join(20)
    assert not thread.is_alive()
    events = _events(result["response"].text)
    names = [name for name, _ in events]
    assert "graded" in names and names[-1] == "fixes-checked"
    graded = json.loads(events[names.index("graded")][1])
    assert graded["fixes"] == "pending" and "data-fix-checks-url" in graded["html"]
    final = json.loads(events[-1][1])
    assert final["fixes"] == "checked" and 'class="fix-diff"' in final["html"]
    assert 'id="report-heading-diagnosis-1-card"' in final["html"]


def test_a_stream_opened_after_the_check_ends_at_once(as_learner, learner, synced):
    submission_id = _graded(synced, learner, "passed", cases=2)
    events = _events(as_learner.get(f"/submissions/{submission_id}/events").text)
    assert [name for name, _ in events] == ["fixes-checked"]


def test_a_case_never_sent_says_not_run_and_a_stuck_one_names_its_line(as_learner, learner, synced):
    stuck = "no complete answer within 5 s: your app was still running line 8"
    report = make_report(cases={"hello": False, "hi": False})
    first, second = report.tests
    report.tests = [
        dataclasses.replace(first, received=HttpExchange(), problem=stuck, blocked_line=8),
        dataclasses.replace(second, received=HttpExchange(), problem="not run: two requests were stuck", sent=False),
    ]
    submission = make_submission(synced, user=learner, status="graded", score=0, report=report.to_dict(), source=SOURCE)
    text = _text(as_learner.get(f"/submissions/{submission.id}").text)
    assert "it was still running line 8 when the grader gave up waiting" in text
    assert "The client would send (not run)" in text
    assert "Not run: the grader never sent this request." in text
