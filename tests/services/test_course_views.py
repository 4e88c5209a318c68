"""Two courses side by side: a learner's work in one never shows in the other's views, CSV, API pages or changes."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from grader.models import DEFAULT_COURSE_ID, Choice, CourseMember, Exercise, Quiz, utcnow
from grader.services import courses, gradebook, quizzes, regrade, stats
from grader.services.errors import NotFound, PermissionDenied
from grader.services.scope import CourseScope, course_scope
from tests.factories import make_report, make_submission, make_user

A = CourseScope(course_id=DEFAULT_COURSE_ID)
QUIZ = "message-cycle"


def _only_in(session, user, course_id: int, role: str = "learner") -> None:
    """Move a factory-made account (a member of the default course) to ``course_id`` alone."""
    session.delete(session.get(CourseMember, (DEFAULT_COURSE_ID, user.id)))
    courses.add_member(session=session, course_id=course_id, user_id=user.id, role=role)
    session.commit()


def _attempt(session, user, *, correct: int):
    view = quizzes.get_for_learner(session=session, slug=QUIZ)
    answers = {}
    for index, question in enumerate(view.questions):
        choices = session.exec(select(Choice).where(Choice.question_id == question.id)).all()
        answers[question.id] = next(c.id for c in choices if c.is_correct == (index < correct))
    return quizzes.submit_attempt(session=session, user=user, slug=QUIZ, answers=answers)


@pytest.fixture
def two_courses(synced):
    """Course A (the default) with Ada; course B with Bea, placing the lesson's exercise and quiz; both submitted."""
    teacher = make_user(synced, role="instructor", name="Teacher")
    course_b = courses.create(session=synced, title="Evening class", created_by=teacher)
    echo = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    quiz = synced.exec(select(Quiz).where(Quiz.slug == QUIZ)).one()
    courses.place(session=synced, course_id=course_b.id, exercise=echo, quiz=quiz)
    synced.commit()
    ada = make_user(synced, name="Ada", email="ada@example.org")
    bea = make_user(synced, name="Bea", email="bea@example.org")
    _only_in(synced, bea, course_b.id)
    cursor = gradebook.current_cursor(session=synced)
    failing = make_report(cases={"hello": True, "hi": False}).to_dict()
    make_submission(synced, user=ada, status="graded", score=1, report=failing)
    full = make_report(cases={"hello": True, "hi": True}).to_dict()
    make_submission(
        synced, user=bea, status="graded", score=echo.max_score, report=full, created_at=utcnow() - timedelta(hours=1)
    )
    make_submission(synced, user=bea, status="graded", score=0, report=failing)
    _attempt(synced, bea, correct=1)
    return {"b": CourseScope(course_id=course_b.id), "ada": ada, "bea": bea, "teacher": teacher, "cursor": cursor}


def _names(rows) -> list[str]:
    return [row.display_name for row in rows]


def test_each_course_table_lists_only_its_learners_with_only_their_work(synced, settings, two_courses):
    b = two_courses["b"]
    for scope, names in ((A, ["Ada"]), (b, ["Bea"])):
        cols = gradebook.columns(session=synced, scope=scope)
        query = gradebook.table_query(session=synced, cols=cols, exercise="message-echo")
        page = gradebook.table(session=synced, query=query, cols=cols, settings=settings)
        assert _names(page.rows) == names and page.learners == 1
    # The teacher created course B: its instructor, never one of its learners.
    cols = gradebook.columns(session=synced, scope=b)
    (bea,) = gradebook.rows_for(session=synced, user_ids=[two_courses["bea"].id], cols=cols, settings=settings)
    assert bea.exercises["message-echo"].best == cols.exercises[0].max_score and bea.quizzes[QUIZ].attempts == 1
    summary = gradebook.summary(session=synced, scope=b, exercise=cols.exercises[0])
    assert (summary.learners, summary.submitted, summary.full_marks, summary.late) == (1, 1, 1, 0)


def test_figures_count_each_course_learners_only(synced, two_courses):
    b = two_courses["b"]
    a_figures = stats.dashboard(session=synced, scope=A, exercise_slug="message-echo")
    b_figures = stats.dashboard(session=synced, scope=b, exercise_slug="message-echo")
    assert sum(day.count for day in a_figures.submissions_per_day) == 1
    assert sum(day.count for day in b_figures.submissions_per_day) == 2
    assert sum(bucket.count for bucket in a_figures.score_distribution) == 1
    # Ada's latest fails "hi"; so does Bea's: each course sees one learner of one.
    assert [(case.name, case.failed, case.total) for case in a_figures.case_failures if case.name == "hi"] == [
        ("hi", 1, 1)
    ]
    assert [(case.name, case.failed, case.total) for case in b_figures.case_failures if case.name == "hi"] == [
        ("hi", 1, 1)
    ]
    # Only Bea answered the quiz: course A's item statistics have no answer.
    assert all(question.answers == 0 for question in a_figures.question_breakdowns)
    assert sum(question.answers for question in b_figures.question_breakdowns) > 0


def test_csv_and_api_pages_hold_each_course_learners_only(synced, settings, two_courses):
    b = two_courses["b"]
    a_rows = list(csv.reader(io.StringIO(gradebook.to_csv(session=synced, scope=A, settings=settings))))
    b_rows = list(csv.reader(io.StringIO(gradebook.to_csv(session=synced, scope=b, settings=settings))))
    assert [row[0] for row in a_rows[1:]] == ["ada@example.org"]
    assert [row[0] for row in b_rows[1:]] == ["bea@example.org"]
    # Course B places one exercise and one quiz: its columns are theirs alone.
    assert b_rows[0] == gradebook.csv_header(gradebook.columns(session=synced, scope=b))
    assert sum(1 for name in b_rows[0] if name.endswith(" best")) == 1
    assert _names(gradebook.api_page(session=synced, scope=A, after=0, limit=10, settings=settings).rows) == ["Ada"]
    assert _names(gradebook.api_page(session=synced, scope=b, after=0, limit=10, settings=settings).rows) == ["Bea"]


def test_live_changes_of_a_course_hold_only_its_learners(synced, settings, two_courses):
    b, since = two_courses["b"], two_courses["cursor"]
    for scope, names in ((A, ["Ada"]), (b, ["Bea"])):
        cols = gradebook.columns(session=synced, scope=scope)
        query = gradebook.table_query(session=synced, cols=cols, exercise="message-echo")
        found = gradebook.changes(session=synced, since=since, query=query, cols=cols, settings=settings)
        assert _names(found.rows) == names and found.changed == 1


def test_learner_page_and_cohorts_stay_in_their_course(synced, settings, two_courses):
    b, bea = two_courses["b"], two_courses["bea"]
    with pytest.raises(NotFound):
        gradebook.learner_detail(session=synced, scope=A, user_id=bea.id)
    detail = gradebook.learner_detail(session=synced, scope=b, user_id=bea.id)
    assert len(detail.submissions) == 2 and len(detail.attempt_ids) == 1
    failing_a = gradebook.failing_case(session=synced, scope=A, exercise_slug="message-echo", case_name="hi")
    failing_b = gradebook.failing_case(session=synced, scope=b, exercise_slug="message-echo", case_name="hi")
    assert _names(failing_a.rows) == ["Ada"] and _names(failing_b.rows) == ["Bea"]
    # An exercise course B does not place is no exercise of B's.
    with pytest.raises(NotFound):
        gradebook.failing_case(session=synced, scope=b, exercise_slug="health-check", case_name="hi")


def test_an_assignment_filter_narrows_the_columns_and_belongs_to_its_course(synced, two_courses):
    b = two_courses["b"]
    (placed,) = courses.assignments(session=synced, course_id=b.course_id)
    narrowed = course_scope(session=synced, course_id=b.course_id, assignment_id=placed.id)
    cols = gradebook.columns(session=synced, scope=narrowed)
    assert [item.slug for item in cols.exercises] == ["message-echo"] and [q.slug for q in cols.quizzes] == [QUIZ]
    # Another course's assignment is not found through this one.
    with pytest.raises(NotFound):
        course_scope(session=synced, course_id=DEFAULT_COURSE_ID, assignment_id=placed.id)


def test_a_course_regrade_takes_only_its_learners_submissions_and_its_staff(synced, two_courses):
    b, teacher = two_courses["b"], two_courses["teacher"]
    plan = regrade.plan_exercise(session=synced, exercise_slug="message-echo", requested_by=teacher, scope=b)
    assert (plan.submissions, plan.learners) == (2, 1)
    ta = make_user(synced, name="Tia")
    _only_in(synced, ta, b.course_id, role="ta")
    sent: list[int] = []
    batch = regrade.regrade_exercise(
        session=synced, exercise_slug="message-echo", requested_by=ta, enqueue=sent.append, scope=b
    )
    assert batch.total == 2 and len(sent) == 2
    # A learner of the course may not; an account instructor outside it does not see it.
    with pytest.raises(PermissionDenied):
        regrade.plan_exercise(session=synced, exercise_slug="message-echo", requested_by=two_courses["bea"], scope=b)
    outsider = make_user(synced, role="instructor", name="Other teacher")
    _only_in(synced, outsider, DEFAULT_COURSE_ID, role="instructor")
    with pytest.raises(NotFound):
        regrade.plan_exercise(session=synced, exercise_slug="message-echo", requested_by=outsider, scope=b)
