"""The exercise page, uploads (good and bad), the rate limit, and the submission page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from grader.models import Assignment, Submission, utcnow
from tests.factories import make_report, make_submission, make_user

SOLUTION = b"from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.post('/message')\nasync def receive(msg: dict):\n    return {'received': msg}\n"
EXERCISE = "/exercises/message-echo"


def _count(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Submission)).one()


def _upload(browser, filename: str, content: bytes, *, code: str = ""):
    return browser.post_form(
        f"{EXERCISE}/submissions",
        {"code": code},
        page=EXERCISE,
        files={"file": (filename, content, "text/x-python")},
    )


def test_exercise_page_shows_instructions_visuals_form_curl_and_limit(as_learner):
    html = as_learner.get(EXERCISE).text
    assert "<h1>Send and receive a message</h1>" in html
    assert "<code>POST /message</code>" in html  # markdown rendered: code marks
    assert "<caption>Execution table</caption>" in html and "<caption>Variable tracker</caption>" in html
    assert 'enctype="multipart/form-data"' in html and 'name="file"' in html and 'name="code"' in html
    assert '<label for="file">' in html and '<label for="code">' in html
    assert "-F file=@solution.py http://127.0.0.1:8000/api/v1/exercises/message-echo/submissions" in html
    assert "You can submit now" in html
    assert "No submissions yet" in html


def test_instructions_are_escaped(as_learner, synced):
    from grader.models import Exercise

    exercise = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    exercise.instructions = "Say <img src=x onerror=alert(1)> and `<b>`"
    synced.add(exercise)
    synced.commit()
    html = as_learner.get(EXERCISE).text
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<code>&lt;b&gt;</code>" in html


def test_upload_stores_queues_and_redirects_to_the_submission(as_learner, synced, queued, learner):
    response = _upload(as_learner, "echo.py", SOLUTION)
    assert response.status_code == 303
    submission = synced.exec(select(Submission)).one()
    assert response.headers["location"] == f"/submissions/{submission.id}"
    assert queued == [submission.id]
    assert submission.user_id == learner.id and submission.filename == "echo.py"
    assert submission.source == SOLUTION.decode()


def test_pasted_code_is_stored_as_solution_py(as_learner, synced, queued):
    response = as_learner.post_form(f"{EXERCISE}/submissions", {"code": SOLUTION.decode()}, page=EXERCISE)
    assert response.status_code == 303
    submission = synced.exec(select(Submission)).one()
    assert submission.filename == "solution.py"
    assert queued == [submission.id]


@pytest.mark.parametrize(
    "filename, content, status, message",
    [
        ("empty.py", b"", 422, "empty"),
        ("blank.py", b"   \n\n", 422, "empty"),
        ("binary.py", b"app = 1\x00\x01\x02", 422, "binary"),
        ("latin1.py", "x = 'café'\n".encode("latin-1"), 422, "not UTF-8"),
        ("notes.txt", SOLUTION, 422, "is not a Python file"),
        ("archive.py.zip", SOLUTION, 422, "is not a Python file"),
        ("big.py", b"#" * (64 * 1024 + 1), 413, "larger than the 65,536-byte limit"),
    ],
)
def test_bad_uploads_are_refused_with_the_form_kept(as_learner, synced, queued, filename, content, status, message):
    response = _upload(as_learner, filename, content)
    assert response.status_code == status
    assert message in response.text
    assert 'role="alert"' in response.text and 'id="submit-form"' in response.text
    assert _count(synced) == 0 and queued == []


def test_missing_file_and_code_is_refused(as_learner, synced):
    response = as_learner.post_form(f"{EXERCISE}/submissions", {}, page=EXERCISE)
    assert response.status_code == 422
    assert "Choose a .py file to upload, or paste your code." in response.text
    assert _count(synced) == 0


def test_file_and_code_together_are_refused_and_the_code_is_kept(as_learner, synced):
    response = _upload(as_learner, "a.py", SOLUTION, code="print('mine <3')")
    assert response.status_code == 422
    assert "not both" in response.text
    assert "print(&#39;mine &lt;3&#39;)</textarea>" in response.text
    assert _count(synced) == 0


def test_unknown_exercise_is_404(as_learner):
    assert as_learner.get("/exercises/no-such-thing").status_code == 404
    response = as_learner.post_form("/exercises/no-such-thing/submissions", {"code": "x = 1"}, page=EXERCISE)
    assert response.status_code == 404


def test_rate_limit_is_shown_and_enforced(as_learner, synced, queued):
    assert _upload(as_learner, "a.py", SOLUTION).status_code == 303
    page = as_learner.get(EXERCISE).text
    assert "You can submit again in" in page and "data-countdown=" in page
    response = _upload(as_learner, "b.py", SOLUTION)
    assert response.status_code == 429
    assert "You can submit again in" in response.text
    assert _count(synced) == 1 and len(queued) == 1


def test_history_lists_submissions_and_marks_the_best(as_learner, synced, learner):
    low = make_submission(
        synced, user=learner, status="graded", score=3, report=make_report(cases={"a": False}).to_dict()
    )
    high = make_submission(
        synced, user=learner, status="graded", score=9, report=make_report(cases={"a": True}).to_dict()
    )
    html = as_learner.get(EXERCISE).text.split('id="history"')[1]
    assert f'href="/submissions/{low.id}"' in html and f'href="/submissions/{high.id}"' in html
    best_row = html.split(f'href="/submissions/{high.id}"')[1].split("</tr>")[0]
    other_row = html.split(f'href="/submissions/{low.id}"')[1].split("</tr>")[0]
    assert "★ Best" in best_row and "★ Best" not in other_row
    # The table says what it holds and how to use it, not the heading above it again.
    assert "<caption>2 submissions, newest first: choose an attempt to see its result.</caption>" in html


# --- the submission page -----------------------------------------------------------------


def test_queued_submission_shows_live_progress_with_a_no_script_fallback(as_learner, synced, learner, other_learner):
    make_submission(synced, user=other_learner)
    mine = make_submission(synced, user=learner)
    html = as_learner.get(f"/submissions/{mine.id}").text
    assert f'data-status-url="/submissions/{mine.id}/status"' in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert "position 2 (1 submission ahead of yours)" in html
    status = as_learner.get(f"/submissions/{mine.id}/status").json()
    assert status["status"] == "queued" and status["queue_position"] == 2


def test_running_and_graded_status(as_learner, synced, learner):
    submission = make_submission(synced, user=learner)
    submission.status = "running"
    synced.add(submission)
    synced.commit()
    status = as_learner.get(f"/submissions/{submission.id}/status").json()
    assert status["status"] == "running" and status["queue_position"] is None
    assert status["message"].startswith("Running")


def _failing_report_with_script() -> dict:
    report = make_report(cases={"hello": True, "hi": False}).to_dict()
    case = report["tests"][1]
    case["request"]["body"] = '{"text": "Hi"}'
    case["expected"]["body"] = '{"received": {"text": "Hi"}}'
    case["received"] = {**case["received"], "status": 200, "body": '{"received": "<script>alert(1)</script>"}'}
    case["diff"] = "at $.received: expected object, received '<script>'"
    case["problem"] = "the body differs"
    case["hint"] = "Return {'received': msg}."
    report["stdout"] = "<script>alert('out')</script>\n"
    report["stderr"] = "<img src=x onerror=alert(2)>"
    report["diagnoses"] = [
        {
            "title": "The reply holds <script>alert(4)</script>",
            "explanation": "<img src=x onerror=alert(5)>",
            "fix": "Return {'received': msg}.",
            "cases": ["hi"],
            "line": 1,
        }
    ]
    return report


def test_graded_submission_draws_each_case_and_escapes_everything(as_learner, as_instructor, synced, learner):
    report = _failing_report_with_script()
    submission = make_submission(
        synced, user=learner, status="graded", score=1, report=report, source="print('<script>alert(3)</script>')\n"
    )
    submission.filename = "<b>evil</b>.py"
    synced.add(submission)
    synced.commit()
    for browser in (as_learner, as_instructor):
        html = browser.get(f"/submissions/{submission.id}").text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>evil</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;script&gt;alert(&#39;out&#39;)&lt;/script&gt;" in html
        assert "&lt;b&gt;evil&lt;/b&gt;.py" in html
        # The execution table of the failing case, with expected beside received.
        assert "The client sends <code>POST /message</code>" in html
        assert "The client receives and reads the body" in html
        assert "differs" in html
        assert "What to change:</strong> Return {&#39;received&#39;: msg}." in html
        assert "The reply holds &lt;script&gt;alert(4)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(5)&gt;" in html
        # The diagnosis's line of the learner's code, escaped and highlighted.
        assert "<mark>print(&#39;&lt;script&gt;alert(3)&lt;/script&gt;&#39;)</mark>" in html
        assert "Failed" in html and "Passed" in html  # words, not only colour
        assert "data-status-url" not in html  # graded: no polling


def test_result_fragment_is_the_report_alone(as_learner, synced, learner):
    submission = make_submission(synced, user=learner, status="graded", score=1, report=_failing_report_with_script())
    html = as_learner.get(f"/submissions/{submission.id}/result").text
    assert "<html" not in html and 'id="report-heading"' in html


def test_infra_error_says_it_does_not_count(as_learner, synced, learner):
    report = make_report(cases={}, infra="worker lost").to_dict()
    submission = make_submission(synced, user=learner, status="graded", score=0, report=report)
    html = as_learner.get(f"/submissions/{submission.id}").text
    assert "does not count against you" in html


def test_home_lists_the_assignments_with_links_and_best(as_learner, synced, learner):
    made = make_submission(
        synced, user=learner, status="graded", score=7, report=make_report(cases={"a": True}).to_dict()
    )
    lesson = synced.exec(select(Assignment).where(Assignment.exercise_id == made.exercise_id)).one()
    made.assignment_id = lesson.id
    synced.add(made)
    synced.commit()
    html = as_learner.get("/").text
    assert f'href="/exercises/message-echo?assignment={lesson.id}"' in html
    assert f'href="/quizzes/message-cycle?assignment={lesson.id}"' in html
    assert "7/16" in html and "submitted" in html


def test_an_empty_file_input_with_pasted_code_uses_the_code(as_learner, synced):
    # What a browser sends when no file was chosen: a part with an empty file name.
    response = as_learner.post_form(
        f"{EXERCISE}/submissions",
        {"code": SOLUTION.decode()},
        page=EXERCISE,
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 303
    assert synced.exec(select(Submission)).one().filename == "solution.py"


def test_a_submission_being_regraded_shows_progress_and_its_previous_result(as_learner, synced, learner):
    report = make_report(cases={"hello": True}).to_dict()
    submission = make_submission(synced, user=learner, status="queued", score=1, report=report)
    html = as_learner.get(f"/submissions/{submission.id}").text
    assert "data-status-url" in html
    assert "being graded again" in html and 'id="report-heading"' in html


def test_the_token_line_sends_the_email_url_encoded_and_shell_quoted(app, synced):
    from fastapi.testclient import TestClient

    from tests.web.conftest import Browser

    odd = make_user(synced, email="o'neil+1@example.org")
    with TestClient(app) as client:
        page = Browser(client).sign_in(odd).get(EXERCISE).text
    # A "+" sent with -d would arrive as a space; a quote would end the shell word.
    assert "--data-urlencode &#39;username=o&#39;&#34;&#39;&#34;&#39;neil+1@example.org&#39;" in page


def test_while_waiting_the_submit_button_still_works_without_script(as_learner, queued):
    assert _upload(as_learner, "a.py", SOLUTION).status_code == 303
    page = as_learner.get(EXERCISE).text
    form = page.split('id="submit-form"')[1].split("</form>")[0]
    assert "You can submit again in" in page
    assert "disabled" not in form


def test_the_exercise_page_shows_the_trace_but_not_the_solution(as_learner):
    html = as_learner.get(EXERCISE).text
    assert "<caption>Execution table</caption>" in html and "<caption>Variable tracker</caption>" in html
    assert "receive_message(msg" not in html and "return {&#39;received&#39;: msg}" not in html
    assert 'href="/quizzes/message-cycle"' in html  # the quiz the exercise's content links to


def test_an_exercise_without_a_quiz_draws_no_trace(as_learner):
    html = as_learner.get("/exercises/health-check").text
    assert "<caption>Execution table</caption>" not in html and "/quizzes/" not in html


def test_a_learner_sees_attempt_numbers_not_submission_ids(as_learner, learner, other_learner, synced):
    # Another learner's submissions and this learner's on another exercise come first,
    # so the ids run ahead of this learner's count on the exercise.
    for _ in range(3):
        make_submission(synced, user=other_learner)
    make_submission(synced, user=learner, slug="health-check")
    report = make_report(cases={"hello": True, "hi": False}).to_dict()
    first = make_submission(synced, user=learner, status="graded", score=2, report=report)
    second = make_submission(synced, user=learner, status="graded", score=2, report=report)
    assert second.id > 2

    page = as_learner.get(f"/submissions/{second.id}").text
    assert "<title>Attempt 2 · Send and receive a message · Grader</title>" in page
    assert '<h1>Attempt 2 <span class="muted">at Send and receive a message</span></h1>' in page
    assert f"Submission {second.id}" not in page and f"submission {second.id}" not in page

    history = as_learner.get(EXERCISE).text
    assert f'<a href="/submissions/{second.id}">Attempt 2</a>' in history
    assert f'<a href="/submissions/{first.id}">Attempt 1</a>' in history
    assert '<th scope="col">Attempt</th>' in history


def _with_diagnosis(line: int) -> dict:
    report = make_report(cases={"hello": False}).to_dict()
    report["diagnoses"] = [{"title": "A typo", "explanation": "", "fix": "", "cases": ["hello"], "line": line}]
    return report


def test_the_exercise_page_opens_on_the_last_code_with_its_diagnosed_line(as_learner, learner, synced):
    assert "from your <a" not in as_learner.get(EXERCISE).text
    make_submission(synced, user=learner, status="graded", score=0, source="first = 1\n")
    last = make_submission(
        synced, user=learner, status="graded", score=0, report=_with_diagnosis(2), source="\nx = <1>\n"
    )
    html = as_learner.get(EXERCISE).text
    assert f'from your <a href="/submissions/{last.id}">attempt 2</a>, the line its result points at marked' in html
    # The line break after <textarea> is dropped by HTML; the code's own first one is kept.
    assert 'data-marked-lines="2"' in html and ">\n\nx = &lt;1&gt;\n</textarea>" in html


def test_the_result_page_lets_its_author_edit_the_code_and_send_it_again(as_learner, learner, synced):
    an_hour_ago = utcnow() - timedelta(hours=1)
    submission = make_submission(
        synced,
        user=learner,
        status="graded",
        score=0,
        report=_with_diagnosis(1),
        source="print('hi')\n",
        created_at=an_hour_ago,
    )
    html = as_learner.get(f"/submissions/{submission.id}").text
    form = html[html.index('<section id="resubmit"') :]
    assert '<h2 id="resubmit-heading">Edit your code and submit again</h2>' in form
    assert 'action="/exercises/message-echo/submissions"' in form and 'data-marked-lines="1"' in form
    assert ">\nprint(&#39;hi&#39;)\n</textarea>" in form
    assert '<a href="#resubmit" data-marks-lines="1">Edit your code and submit again</a>' in html
    assert '<script src="/static/editor.js"' in html
    # The form sends a new attempt, as the exercise page's does.
    response = as_learner.post_form(
        "/exercises/message-echo/submissions", {"code": "print('hi again')\n"}, page=f"/submissions/{submission.id}"
    )
    assert response.status_code == 303
    assert as_learner.get(response.headers["location"]).text.count("<h1>Attempt 2 ") == 1


def test_an_instructor_reads_a_learners_code_without_a_form_to_send_it(as_instructor, learner, synced):
    submission = make_submission(synced, user=learner, status="graded", score=0, report=_with_diagnosis(1))
    html = as_instructor.get(f"/submissions/{submission.id}").text
    assert "<h1>Attempt 1 " in html and 'id="resubmit"' not in html and "editor.js" not in html
    assert "The code that was sent" in html
