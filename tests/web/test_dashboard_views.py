"""The dashboard at course scale: pages of the table, live changes from a cursor, drill-downs, item statistics."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlmodel import select

from grader.grading.report import format_points
from grader.models import Assignment, Choice, Exercise, Quiz, QuizAttempt, utcnow
from grader.services import courses, quizzes
from tests.factories import MISSPELT_KEY, exercise, make_report, make_submission, make_user

from .conftest import api_token


def _graded(session, user, score, cases, diagnoses=None, **kwargs):
    report = make_report(cases=cases).to_dict()
    if diagnoses is not None:
        report["diagnoses"] = diagnoses
    return make_submission(session, user=user, status="graded", score=score, report=report, **kwargs)


def _names(html: str) -> list[str]:
    body = html.split("<tbody data-live-changes=")[1].split("</tbody>")[0]
    return re.findall(r'<a href="/courses/1/learners/\d+">([^<]+)</a>', body)


def test_the_table_is_paged_fifty_at_a_time_with_counts(as_instructor, synced):
    for number in range(53):
        make_user(synced, name=f"Learner {number:02d}")
    first = as_instructor.get("/courses/1/dashboard").text
    assert len(_names(first)) == 50 and _names(first)[0] == "Learner 00"
    assert "Showing 1–50 of 53 matching learners" in first and "(53 learners in all)" in first
    assert re.search(r'rel="next" href="/courses/1/dashboard\?exercise=[a-z-]+&amp;page=2"', first)
    second = as_instructor.get("/courses/1/dashboard?page=2").text
    assert _names(second) == ["Learner 50", "Learner 51", "Learner 52"]
    assert "Showing 51–53 of 53" in second and "Page 2 of 2" in second
    # A page past the end shows the last one; a filter counts what it keeps.
    assert _names(as_instructor.get("/courses/1/dashboard?page=99").text) == _names(second)
    filtered = as_instructor.get("/courses/1/dashboard?q=ARNER 0").text
    assert _names(filtered) == [f"Learner 0{digit}" for digit in range(10)]
    assert "Showing 1–10 of 10 matching learners" in filtered


def test_live_changes_send_only_the_learners_that_changed(as_instructor, synced, learner, other_learner):
    _graded(synced, other_learner, 1, {"hello": True, "hi": False})
    page = as_instructor.get("/courses/1/dashboard").text
    url = re.search(r'data-live-changes="([^"]+)"', page).group(1).replace("&amp;", "&")
    cursor = re.search(r'data-cursor="([^"]+)"', page).group(1)

    quiet = as_instructor.get(f"{url}&since={cursor}").json()
    assert quiet == {"cursor": cursor, "changed": 0, "rows": []}

    _graded(synced, learner, 2, {"hello": True, "hi": True})
    changed = as_instructor.get(f"{url}&since={cursor}").json()
    assert changed["changed"] == 1 and [row["user_id"] for row in changed["rows"]] == [learner.id]
    assert f'data-user-id="{learner.id}"' in changed["rows"][0]["html"] and "2 / 16" in changed["rows"][0]["html"]
    assert int(changed["cursor"]) > int(cursor)
    assert as_instructor.get(f"{url}&since={changed['cursor']}").json()["rows"] == []

    # The overview is only sent again when something changed.
    overview = re.search(r'data-live-html="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert as_instructor.get(f"{overview}&since={changed['cursor']}").status_code == 204
    fresh = as_instructor.get(f"{overview}&since={cursor}")
    assert fresh.status_code == 200 and fresh.headers["X-Live-Cursor"] == changed["cursor"]


def test_the_summary_line_counts_the_course_learners_on_the_shown_exercise(as_instructor, synced, instructor):
    ada, bob = make_user(synced, name="Ada"), make_user(synced, name="Bob")
    cy = make_user(synced, name="Cy")  # has sent no code; answered the quiz late
    full = exercise(synced).max_score
    _graded(synced, ada, 1, {"hello": True, "hi": False}, created_at=utcnow() - timedelta(hours=1))
    _graded(synced, ada, full, {"hello": True, "hi": True})  # full marks at the second try
    late = _graded(synced, bob, 1, {"hello": True, "hi": False})
    lesson = synced.exec(select(Assignment).where(Assignment.exercise_id == exercise(synced).id)).one()
    late.assignment_id, late.late_factor = lesson.id, 0.75
    synced.add(late)
    quiz = synced.get_one(Quiz, lesson.quiz_id)
    synced.add(
        QuizAttempt(user_id=cy.id, quiz_id=quiz.id, score=2, max_score=3, assignment_id=lesson.id, late_factor=0.5)
    )
    synced.commit()
    # The instructor trying the exercise out is no learner of the course.
    _graded(synced, instructor, full, {"hello": True, "hi": True})

    html = as_instructor.get("/courses/1/dashboard?exercise=message-echo").text
    line = " ".join(html.split('class="summary-line" data-summary>')[1].split("</p>")[0].split())
    assert line == (
        f'3 learners · 2 submitted · 1 at full marks <span class="muted">(on {exercise(synced).title})</span>'
        f' · 2 with late work <span class="muted">(a submission to it or an attempt at the quiz “{quiz.title}”'
        " counted late)</span>"
    )
    # The table beside it counts the same learners.
    assert "(3 learners in all)" in html


def test_common_mistakes_and_failing_cases_open_the_learners_behind_them(as_instructor, synced, learner, other_learner):
    carol = make_user(synced, email="carol@example.org", name="Carol")
    _graded(synced, learner, 1, {"hello": True, "hi": False}, diagnoses=[MISSPELT_KEY])
    _graded(synced, other_learner, 1, {"hello": True, "hi": False}, diagnoses=[MISSPELT_KEY])
    # Carol made the mistake once and fixed it: her latest result counts, not her history.
    _graded(synced, carol, 1, {"hello": True, "hi": False}, diagnoses=[MISSPELT_KEY])
    _graded(synced, carol, 2, {"hello": True, "hi": True}, diagnoses=[])
    # The same kind of mistake worded after Dan's own key: one mistake, under the most common wording.
    dan = make_user(synced, email="dan@example.org", name="Dan")
    _graded(
        synced, dan, 1, {"hello": True, "hi": False}, diagnoses=[{**MISSPELT_KEY, "title": "Misspelt key `recieved`"}]
    )
    eve = make_user(synced, email="eve@example.org", name="Eve")
    status = {**MISSPELT_KEY, "title": "Wrong status code", "fix": "Return 201.", "cause": "wrong_status"}
    _graded(synced, eve, 1, {"hello": True, "hi": False}, diagnoses=[status])

    html = as_instructor.get("/courses/1/dashboard").text
    panel = html.split('id="mistakes-heading"')[1].split("</section>")[0]
    assert "<strong>3 learners</strong>: Misspelt key <code>received</code>" in panel
    assert "<strong>1 learner</strong>: Wrong status code" in panel and "recieved" not in panel
    link = re.search(r'<a href="(/courses/1/mistakes\?[^"]+)"', panel).group(1).replace("&amp;", "&")
    assert "cause=misspelt_key" in link
    cohort = as_instructor.get(link).text
    assert re.findall(r'<a href="/courses/1/learners/\d+">([^<]+)</a>', cohort) == ["Ada", "Bob", "Dan"]
    assert "3 learners." in cohort and "Misspelt key <code>received</code>" in cohort

    case_link = re.search(r'<a href="(/courses/1/cases\?exercise=message-echo&amp;case=hi)"', html).group(1)
    failing = as_instructor.get(case_link.replace("&amp;", "&")).text
    assert re.findall(r'<a href="/courses/1/learners/\d+">([^<]+)</a>', failing) == ["Ada", "Bob", "Dan", "Eve"]
    # Four of the five learners' latest results fail it.
    assert "the answer must follow the input: 80%</title>" in html
    assert as_instructor.get("/courses/1/cases?exercise=nope&case=hi").status_code == 404


def test_quiz_questions_show_facility_discrimination_and_notes(as_instructor, synced, settings):
    view = quizzes.get_for_learner(session=synced, slug="message-cycle")
    for pattern in ["RRW"] * 5 + ["WWR"] * 5:
        user = make_user(synced)
        answers = {}
        for question, mark in zip(view.questions, pattern, strict=True):
            choices = synced.exec(select(Choice).where(Choice.question_id == question.id)).all()
            answers[question.id] = next(c.id for c in choices if c.is_correct == (mark == "R"))
        quizzes.submit_attempt(session=synced, user=user, slug="message-cycle", answers=answers, settings=settings)
    html = as_instructor.get("/courses/1/dashboard/overview").text
    third = html.split(f'id="chart-question-{view.questions[2].id}-title"')[1].split("</figure>")[0]
    assert "<dt>Facility</dt><dd>50% right <span" in third and "<dt>Discrimination</dt><dd>-1.00 <span" in third
    # Each statistic says what it means beside its value, not only in a tooltip.
    assert "the share of answers that were right" in third and "does not tell them apart" in third
    assert "Check this question:" in third and "wrong more often" in third
    first = html.split(f'id="chart-question-{view.questions[0].id}-title"')[1].split("</figure>")[0]
    assert "<dt>Discrimination</dt><dd>not measurable yet <span" in first


def test_learner_page_reads_one_report_and_lists_the_rest(as_instructor, synced, learner):
    old = _graded(synced, learner, 1, {"hello": True, "hi": False}, diagnoses=[MISSPELT_KEY])
    old_report = make_report(cases={"hello": True, "hi": False}).to_dict()
    old_report["stdout"] = "printed by the old one"
    old.report = {**old_report, "diagnoses": [MISSPELT_KEY]}
    synced.add(old)
    synced.commit()
    new = _graded(synced, learner, 2, {"hello": True, "hi": True}, diagnoses=[])
    page = as_instructor.get(f"/courses/1/learners/{learner.id}").text
    assert f'id="shown-heading">Submission #{new.id}' in page
    assert "printed by the old one" not in page  # only the shown submission's report is read
    assert "1 of 2 passed" in page and "2 of 2 passed" in page
    assert "Misspelt key <code>received</code>" in page
    chosen = as_instructor.get(f"/courses/1/learners/{learner.id}?submission={old.id}").text
    assert f'id="shown-heading">Submission #{old.id}' in chosen and "printed by the old one" in chosen
    assert as_instructor.get(f"/courses/1/learners/{learner.id}?submission=999999").status_code == 404
    # Times carry their moment for the page's script, which shows them in the viewer's time zone.
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT[^"]+\+00:00">\w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d UTC</time>', page
    )


def test_the_dashboard_stream_pushes_a_graded_result_when_the_worker_wakes_it(
    as_instructor, as_learner, synced, learner, engine, monkeypatch
):
    import threading

    from grader.jobs import GradingWorker
    from grader.services.updates import ANY_SUBMISSION, submission_changes
    from grader.web.routes import course_views as course_pages

    # The database is read only when woken here; the stream ends after a few seconds.
    monkeypatch.setattr(course_pages, "EVENTS_MAX_SECONDS", 3.0)
    submission = make_submission(synced, user=learner)
    page = as_instructor.get("/courses/1/dashboard").text
    url = re.search(r'data-live-events="([^"]+)"', page).group(1).replace("&amp;", "&")
    cursor = re.search(r'data-cursor="([^"]+)"', page).group(1)
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.update(response=as_instructor.get(f"{url}&since={cursor}")), daemon=True
    )
    thread.start()
    for _ in range(400):
        if submission_changes.waiting(ANY_SUBMISSION):
            break
        thread.join(0.025)
    else:
        raise AssertionError("the stream never started waiting")

    report = make_report(cases={"hello": True, "hi": True})
    assert GradingWorker(engine=engine, grade=lambda spec, source, seed: report).run(submission.id).outcome == "graded"
    thread.join(20)
    response = result["response"]
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    blocks = [block for block in response.text.split("\n\n") if block.startswith("event: changes")]
    import json

    pushed = [json.loads(block.split("data: ", 1)[1]) for block in blocks]
    assert pushed[0]["rows"] == []  # nothing had changed when the stream opened
    (with_rows,) = [data for data in pushed if data["rows"]]
    assert [row["user_id"] for row in with_rows["rows"]] == [learner.id] and "2 / 16" in with_rows["rows"][0]["html"]
    assert submission_changes.waiting(ANY_SUBMISSION) == 0

    # Only instructors may listen.
    assert as_learner.get(url, follow_redirects=False).status_code in (303, 403)


def test_a_repeater_shows_each_course_work_on_its_pages_csv_and_api(as_instructor, synced, instructor, learner, client):
    """Ada took course A (the default) and repeats it in course B: each course's pages show that course's work."""
    echo = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    course_b = courses.create(session=synced, title="Spring", created_by=instructor)
    in_b = courses.place(session=synced, course_id=course_b.id, exercise=echo)
    courses.add_member(session=synced, course_id=course_b.id, user_id=learner.id, role="learner")
    synced.commit()
    in_a = synced.exec(select(Assignment).where(Assignment.course_id == 1, Assignment.exercise_id == echo.id)).one()
    earlier = utcnow() - timedelta(days=3)
    a_ids = [
        _graded(synced, learner, 1, {"hello": True, "hi": False}, created_at=earlier, assignment_id=in_a.id).id,
        _graded(synced, learner, echo.max_score, {"hello": True, "hi": True}, assignment_id=in_a.id).id,
    ]
    b_id = _graded(
        synced, learner, 8, {"hello": True, "hi": False}, [MISSPELT_KEY], assignment_id=in_b.id, late_factor=0.5
    ).id

    def ada_line(course_id: int) -> dict:
        text = as_instructor.get(f"/courses/{course_id}/gradebook.csv").text
        (line,) = [row for row in csv.DictReader(io.StringIO(text)) if row["email"] == learner.email]
        return line

    assert (ada_line(1)["message-echo best"], ada_line(1)["message-echo submissions"]) == (
        format_points(echo.max_score),
        "2",
    )
    assert (ada_line(course_b.id)["message-echo best"], ada_line(course_b.id)["message-echo submissions"]) == ("4", "1")
    # The learner page lists that course's submissions only.
    shown = {
        course_id: set(map(int, re.findall(rf"/courses/{course_id}/learners/{learner.id}\?submission=(\d+)", page)))
        for course_id in (1, course_b.id)
        for page in [as_instructor.get(f"/courses/{course_id}/learners/{learner.id}").text]
    }
    assert shown == {1: set(a_ids), course_b.id: {b_id}}
    # The summary line and the common mistakes: Ada's late work and her misspelt key are course B's.
    b_page = as_instructor.get(f"/courses/{course_b.id}/dashboard?exercise=message-echo").text
    a_page = as_instructor.get("/courses/1/dashboard?exercise=message-echo").text
    assert "Misspelt key" in b_page and "Misspelt key" not in a_page
    # The gradebook API, page by course.
    headers = api_token(client, instructor)
    for course_id, best in ((1, echo.max_score), (course_b.id, 4.0)):
        rows = client.get(f"/api/v1/gradebook?course_id={course_id}", headers=headers).json()["rows"]
        (mine,) = [row for row in rows if row["email"] == learner.email]
        assert mine["exercises"]["message-echo"]["best"] == best
