"""The instructor's dashboard: the learners table, figures, CSV, learner detail, regrade, accounts."""

from __future__ import annotations

import csv
import io
import re

from markupsafe import escape
from sqlmodel import col, select

from grader.models import User
from tests.factories import make_report, make_submission, make_user

from .conftest import CONFIRM

HELLO = 'The lesson\'s message: {"text": "Hello"}'


def _graded(session, user, score, cases=None, **kwargs):
    report = make_report(cases=cases or {"hello": score > 0, "hi": False}).to_dict()
    return make_submission(session, user=user, status="graded", score=score, report=report, **kwargs)


def _learner_names(html: str) -> list[str]:
    body = html.split("<tbody data-live-changes=")[1].split("</tbody>")[0]
    return re.findall(r'<a href="/instructor/learners/\d+">([^<]+)</a>', body)


def test_table_lists_every_learner_with_scores(as_instructor, synced, learner, other_learner):
    _graded(synced, learner, 4)
    _graded(synced, learner, 10)
    _graded(synced, learner, 6)
    html = as_instructor.get("/instructor").text
    assert _learner_names(html) == ["Ada", "Bob"]
    ada_row = html.split(">Ada</a>")[1].split("</tr>")[0]
    assert "10 / 16" in ada_row and "6 / 16" in ada_row and ">3<" in ada_row
    bob_row = html.split(">Bob</a>")[1].split("</tr>")[0]
    assert "never" in bob_row


def test_sorting_and_filtering_happen_on_the_server(as_instructor, synced, learner, other_learner):
    carol = make_user(synced, email="carol@example.org", name="Carol")
    _graded(synced, learner, 4)
    _graded(synced, carol, 16)
    by_best = as_instructor.get("/instructor?sort=best&order=desc").text
    assert _learner_names(by_best) == ["Carol", "Ada", "Bob"]
    assert 'aria-sort="descending"' in by_best
    by_best_up = as_instructor.get("/instructor?sort=best&order=asc").text
    assert _learner_names(by_best_up) == ["Ada", "Carol", "Bob"]  # no score sorts last either way
    assert _learner_names(as_instructor.get("/instructor?q=CAROL").text) == ["Carol"]
    assert _learner_names(as_instructor.get("/instructor?show=not-submitted").text) == ["Bob"]
    assert _learner_names(as_instructor.get("/instructor?show=full").text) == ["Carol"]
    # Nonsense parameters fall back to the defaults instead of failing.
    assert as_instructor.get("/instructor?sort=drop+table&order=sideways&show=x").status_code == 200


def test_rows_fragment_for_live_updates(as_instructor, synced, learner):
    before = as_instructor.get("/instructor/rows").text
    assert "<html" not in before and "Ada" in before
    _graded(synced, learner, 16)
    after = as_instructor.get("/instructor/rows").text
    assert "16 / 16" in after and "16 / 16" not in before


def test_figures_are_inline_svg(as_instructor, synced, learner):
    from grader.services import quizzes

    _graded(synced, learner, 8, cases={"hello": True, "hi": False})
    quiz = quizzes.get_for_learner(session=synced, slug="message-cycle")
    quizzes.submit_attempt(
        session=synced, user=learner, slug="message-cycle", answers={q.id: q.choices[1].id for q in quiz.questions}
    )
    html = as_instructor.get("/instructor").text
    assert html.count('<svg class="chart"') == 6  # per day, scores, cases, three quiz questions
    for title in [
        "Submissions per day",
        "Best score per learner",
        "Failure rate per case",
        "Quiz question 1: answers per option",
    ]:
        assert title in html
    # Cases are named by what they check, not by their ids.
    hi = 'A different message, {"text": "Hi"}: the answer must follow the input'
    assert f"<title>{escape(hi)}: 100%</title>" in html
    assert f"<title>{escape(HELLO)}: 0%</title>" in html and "<title>hi:" not in html
    assert "<title>50–60%: 1</title>" in html


def test_charts_hold_no_links_and_list_them_beside(as_instructor, synced, learner):
    _graded(synced, learner, 8, cases={"hello": True, "hi": False, "random-2": False})
    html = as_instructor.get("/instructor").text
    drawings = re.findall(r'<svg class="chart".*?</svg>', html, flags=re.S)
    assert len(drawings) >= 3 and all("<a " not in drawing for drawing in drawings)
    cases = html.split('id="chart-cases-title"')[1].split("</figure>")[0]
    assert '<details class="chart-data" open>' in cases
    link = '<a href="/instructor/cases?exercise=message-echo&amp;case=random-2">'
    assert link + "Objects the grader makes up for each submission (2 of 3)</a>" in cases
    assert f'<a href="/instructor/cases?exercise=message-echo&amp;case=hello">{escape(HELLO)}</a>' in cases
    # A chart that leads nowhere keeps its numbers folded.
    days = html.split('id="chart-days-title"')[1].split("</figure>")[0]
    assert '<details class="chart-data">' in days and "<a " not in days


def test_csv_export(as_instructor, synced, learner, other_learner):
    _graded(synced, learner, 12)
    response = as_instructor.get("/instructor/gradebook.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["email"] for row in rows] == ["ada@example.org", "bob@example.org"]
    assert rows[0]["message-echo best"] == "12"


def test_learner_page_shows_source_report_and_output_escaped(as_instructor, synced, learner):
    report = make_report(cases={"hello": False}).to_dict()
    report["stdout"] = "<script>document.title='pwned'</script>"
    make_submission(synced, user=learner, status="graded", score=0, report=report, source="print('<script>x</script>')")
    html = as_instructor.get(f"/instructor/learners/{learner.id}").text
    assert "<script>document" not in html and "<script>x" not in html
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html
    assert "print(&#39;&lt;script&gt;x&lt;/script&gt;&#39;)" in html
    assert "Regrade this submission" in html


def test_learner_page_lists_quiz_attempts(as_instructor, synced, learner):
    from grader.services import quizzes

    quiz = quizzes.get_for_learner(session=synced, slug="message-cycle")
    quizzes.submit_attempt(
        session=synced, user=learner, slug="message-cycle", answers={q.id: q.choices[0].id for q in quiz.questions}
    )
    html = as_instructor.get(f"/instructor/learners/{learner.id}").text
    assert "1/3" in html and html.count(">Wrong<") == 2 and html.count(">Right<") == 1


def test_unknown_learner_is_404(as_instructor):
    assert as_instructor.get("/instructor/learners/99999").status_code == 404


def test_regrade_an_exercise_queues_every_submission(as_instructor, synced, learner, other_learner, queued):
    first = _graded(synced, learner, 4)
    second = _graded(synced, other_learner, 8)
    response = as_instructor.post_form("/instructor/exercises/message-echo/regrade", CONFIRM, page="/instructor")
    assert response.status_code == 303
    assert sorted(queued) == [first.id, second.id]
    page = as_instructor.get(response.headers["location"]).text
    assert "0 of 2 graded again" in page and "<progress" in page and 'data-progress-url="/instructor/regrades/' in page


def test_a_bulk_regrade_asks_first_and_says_how_many(as_instructor, synced, learner, other_learner, queued):
    from grader.models import RegradeBatch

    _graded(synced, learner, 4)
    _graded(synced, learner, 6)
    _graded(synced, other_learner, 8)
    dashboard = as_instructor.get("/instructor?exercise=message-echo").text
    assert 'href="/instructor/exercises/message-echo/regrade"' in dashboard
    assert 'action="/instructor/exercises/message-echo/regrade"' not in dashboard

    question = as_instructor.get("/instructor/exercises/message-echo/regrade")
    assert question.status_code == 200
    assert "3 submissions from 2 learners go back in the grading queue" in question.text
    assert "Regrade all 3 submissions</button>" in question.text
    assert 'name="confirm" value="yes"' in question.text and 'href="/instructor?exercise=message-echo"' in question.text

    # A POST without the confirmation (an old page, a second tab) only leads back to the question.
    unconfirmed = as_instructor.post_form("/instructor/exercises/message-echo/regrade", page="/instructor")
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == "/instructor/exercises/message-echo/regrade"
    assert queued == [] and synced.exec(select(RegradeBatch)).all() == []

    confirmed = as_instructor.post_form(
        "/instructor/exercises/message-echo/regrade", CONFIRM, page="/instructor/exercises/message-echo/regrade"
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"].startswith("/instructor/regrades/")
    assert len(queued) == 3


def test_the_regrade_question_is_for_instructors_and_known_exercises(as_instructor, as_learner, queued):
    assert as_learner.get("/instructor/exercises/message-echo/regrade").status_code == 403
    assert as_instructor.get("/instructor/exercises/no-such-exercise/regrade").status_code == 404
    assert queued == []


def test_an_exercise_without_submissions_has_nothing_to_regrade(as_instructor, synced, queued):
    from grader.models import RegradeBatch

    empty = as_instructor.get("/instructor/exercises/health-check/regrade")
    assert empty.status_code == 200
    assert "Nothing to regrade: no submissions yet" in empty.text
    assert 'name="confirm"' not in empty.text and 'href="/instructor?exercise=health-check"' in empty.text
    # A confirmation posted anyway (an old page) leads to that answer, and nothing is queued or recorded.
    response = as_instructor.post_form("/instructor/exercises/health-check/regrade", CONFIRM, page="/instructor")
    assert response.status_code == 303
    assert response.headers["location"] == "/instructor/exercises/health-check/regrade"
    assert queued == [] and synced.exec(select(RegradeBatch)).all() == []


def test_create_one_account_with_a_generated_password(as_instructor, synced):
    response = as_instructor.post_form(
        "/instructor/users",
        {"email": "dan@example.org", "display_name": "Dan", "role": "learner"},
        page="/instructor/users",
    )
    assert response.status_code == 200
    assert "Generated passwords are shown only now" in response.text
    password = re.search(r"<td><code>([^<]+)</code></td>", response.text).group(1)
    from grader.services import users

    assert users.authenticate(session=synced, email="dan@example.org", password=password).display_name == "Dan"


def test_create_account_refusal_keeps_the_form(as_instructor, learner):
    response = as_instructor.post_form(
        "/instructor/users",
        {"email": learner.email, "display_name": "Again", "role": "learner"},
        page="/instructor/users",
    )
    assert response.status_code == 422
    assert "already exists" in response.text and 'value="Again"' in response.text


def test_overview_fragment_for_live_updates(as_instructor, synced, learner):
    before = as_instructor.get("/instructor/overview").text
    assert "<html" not in before and "Failure rate per case" in before
    _graded(synced, learner, 8, cases={"hello": True, "hi": False})
    after = as_instructor.get("/instructor/overview").text
    failed = "the answer must follow the input: 100%</title>"
    assert failed in after and failed not in before


def test_the_live_line_tells_the_truth_with_and_without_script(as_instructor):
    html = as_instructor.get("/instructor").text
    status = html.split("data-live-status")[1].split("</p>")[0]
    # Without script the page cannot update itself, so only then is a reload asked for.
    assert "<noscript>Reload the page to see new results.</noscript>" in status
    assert 'data-live-html="/instructor/overview?' in html


def test_quiz_charts_draw_options_by_letter_with_their_text_in_a_legend(as_instructor, synced, learner):
    from grader.services import quizzes

    quiz = quizzes.get_for_learner(session=synced, slug="message-cycle")
    quizzes.submit_attempt(
        session=synced, user=learner, slug="message-cycle", answers={q.id: q.choices[0].id for q in quiz.questions}
    )
    html = as_instructor.get("/instructor/overview").text
    figure = html.split(f'id="chart-question-{quiz.questions[2].id}-title"')[1].split("</figure>")[0]
    drawn = [label.split(">")[-1] for label in figure.split("</text>") if 'class="label-rows"' in label]
    assert drawn == ["A", "B (right)", "C", "D"]
    # The option texts and the prompt go through the Markdown subset: code, never raw backticks.
    assert "`" not in figure
    assert "<dt>B</dt><dd>At step 2, <code>msg</code> is" in figure
    assert "<code>{&#39;text&#39;: &#39;Hi&#39;}</code>" in figure


def test_a_csv_over_the_size_limit_is_refused_whole(as_instructor, synced, settings):
    from grader.web.routes.dashboard import CSV_SIZE_FACTOR

    limit = settings.max_upload_bytes * CSV_SIZE_FACTOR
    lines = ["email,display_name"]
    number = 0
    while sum(len(line) + 1 for line in lines) <= limit + 4096:
        number += 1
        lines.append(f"bulk{number:05}@example.org,Bulk Person {number:05}")
    big = "\n".join(lines) + "\n"
    assert limit < len(big) < limit + 8192  # past the CSV limit, well within the request limit
    response = as_instructor.post_form(
        "/instructor/users/import", page="/instructor/users", files={"file": ("people.csv", big.encode(), "text/csv")}
    )
    assert response.status_code == 413
    assert f"larger than the {limit:,}-byte limit" in response.text and "nothing was imported" in response.text
    assert synced.exec(select(User).where(col(User.email).like("bulk%"))).first() is None


def test_error_kinds_are_shown_to_instructors_in_words(as_instructor, synced, learner):
    report = make_report(cases={}).to_dict()
    report["error"] = {"kind": "no_app", "message": "no app"}
    report["status"] = "error"
    submission = make_submission(synced, user=learner, status="graded", score=0, report=report)
    overview = as_instructor.get("/instructor/overview").text
    page = as_instructor.get(f"/instructor/learners/{learner.id}").text
    for html in (overview, page):
        assert "no application named as the exercise asks" in html
        assert "no_app" not in html.replace(f"/submissions/{submission.id}", "")


def test_a_learners_attempt_reads_in_the_quiz_files_labels_with_the_letter_they_were_shown(
    as_instructor, synced, learner
):
    from grader.services import quizzes

    quiz = quizzes.get_quiz(session=synced, slug="message-cycle")
    file_order = quizzes.get_for_learner(session=synced, slug="message-cycle")
    ids = [q.id for q in file_order.questions]
    # A seed that moves the file's option A of the first question elsewhere.
    seed = next(s for s in range(1, 100) if quizzes.shuffled([0, 1, 2, 3], seed=s, question_id=ids[0])[0] != 0)
    quizzes.start(session=synced, user=learner, quiz=quiz, seed=seed)
    shown = quizzes.get_for_user(session=synced, slug="message-cycle", user=learner, opening=True).quiz
    answers = {q.id: q.choices[0].id for q in file_order.questions}  # the file's A, wherever it was shown
    quizzes.submit_attempt(session=synced, user=learner, slug="message-cycle", answers=answers)
    letter = next(c.label for c in shown.questions[0].choices if c.id == answers[ids[0]])
    assert letter != "A"
    html = as_instructor.get(f"/instructor/learners/{learner.id}").text
    row = html[html.index("1. Going by the execution table") :]
    row = row[: row.index("</tr>")]
    assert "<strong>A.</strong>" in row and f"(shown to them as {letter})" in row
