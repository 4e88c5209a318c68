"""Two courses side by side: a learner's work in one never shows in the other's views, CSV, API pages or changes."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from grader.grading.report import format_points
from grader.models import (
    DEFAULT_COURSE_ID,
    Assignment,
    Choice,
    CourseMember,
    Exercise,
    ExerciseStanding,
    Quiz,
    QuizAttempt,
    utcnow,
)
from grader.services import courses, quizzes, regrade, stats
from grader.services.errors import NotFound, PermissionDenied
from grader.services.gradebook import changes, columns, cursor, export, learners, table
from grader.services.scope import CourseScope, course_scope
from tests.factories import MISSPELT_KEY, make_report, make_submission, make_user

A = CourseScope(course_id=DEFAULT_COURSE_ID)
QUIZ = "message-cycle"


def _only_in(session, user, course_id: int, role: str = "learner") -> None:
    """Move a factory-made account (a member of the default course) to ``course_id`` alone."""
    session.delete(session.get(CourseMember, (DEFAULT_COURSE_ID, user.id)))
    courses.add_member(session=session, course_id=course_id, user_id=user.id, role=role)
    session.commit()


def _attempt(session, user, *, correct: int, assignment_id: int | None = None):
    view = quizzes.get_for_learner(session=session, slug=QUIZ)
    answers = {}
    for index, question in enumerate(view.questions):
        choices = session.exec(select(Choice).where(Choice.question_id == question.id)).all()
        answers[question.id] = next(c.id for c in choices if c.is_correct == (index < correct))
    return quizzes.submit_attempt(session=session, user=user, slug=QUIZ, answers=answers, assignment_id=assignment_id)


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
    start = cursor.current_cursor(session=synced, course_id=DEFAULT_COURSE_ID)
    failing = make_report(cases={"hello": True, "hi": False}).to_dict()
    make_submission(synced, user=ada, status="graded", score=1, report=failing)
    full = make_report(cases={"hello": True, "hi": True}).to_dict()
    make_submission(
        synced, user=bea, status="graded", score=echo.max_score, report=full, created_at=utcnow() - timedelta(hours=1)
    )
    make_submission(synced, user=bea, status="graded", score=0, report=failing)
    _attempt(synced, bea, correct=1)
    return {"b": CourseScope(course_id=course_b.id), "ada": ada, "bea": bea, "teacher": teacher, "cursor": start}


def _names(rows) -> list[str]:
    return [row.display_name for row in rows]


def test_each_course_table_lists_only_its_learners_with_only_their_work(synced, settings, two_courses):
    b = two_courses["b"]
    for scope, names in ((A, ["Ada"]), (b, ["Bea"])):
        cols = columns.columns(session=synced, scope=scope)
        query = table.table_query(session=synced, cols=cols, exercise="message-echo")
        page = table.table(session=synced, query=query, cols=cols, settings=settings)
        assert _names(page.rows) == names and page.learners == 1
    # The teacher created course B: its instructor, never one of its learners.
    cols = columns.columns(session=synced, scope=b)
    (bea,) = columns.rows_for(session=synced, user_ids=[two_courses["bea"].id], cols=cols, settings=settings)
    assert bea.exercises["message-echo"].best == cols.exercises[0].max_score and bea.quizzes[QUIZ].attempts == 1
    summary = table.summary(session=synced, scope=b, exercise=cols.exercises[0])
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
    a_rows = list(csv.reader(io.StringIO(export.to_csv(session=synced, scope=A, settings=settings))))
    b_rows = list(csv.reader(io.StringIO(export.to_csv(session=synced, scope=b, settings=settings))))
    assert [row[0] for row in a_rows[1:]] == ["ada@example.org"]
    assert [row[0] for row in b_rows[1:]] == ["bea@example.org"]
    # Course B places one exercise and one quiz: its columns are theirs alone.
    assert b_rows[0] == export.csv_header(columns.columns(session=synced, scope=b))
    assert sum(1 for name in b_rows[0] if name.endswith(" best")) == 1
    assert _names(export.api_page(session=synced, scope=A, after=0, limit=10, settings=settings).rows) == ["Ada"]
    assert _names(export.api_page(session=synced, scope=b, after=0, limit=10, settings=settings).rows) == ["Bea"]


def test_live_changes_of_a_course_hold_only_its_learners(synced, settings, two_courses):
    b, since = two_courses["b"], two_courses["cursor"]
    for scope, names in ((A, ["Ada"]), (b, ["Bea"])):
        cols = columns.columns(session=synced, scope=scope)
        query = table.table_query(session=synced, cols=cols, exercise="message-echo")
        found = changes.changes(session=synced, since=since, query=query, cols=cols, settings=settings)
        assert _names(found.rows) == names and found.changed == 1


def test_learner_page_and_cohorts_stay_in_their_course(synced, settings, two_courses):
    b, bea = two_courses["b"], two_courses["bea"]
    with pytest.raises(NotFound):
        learners.learner_detail(session=synced, scope=A, user_id=bea.id)
    detail = learners.learner_detail(session=synced, scope=b, user_id=bea.id)
    assert len(detail.submissions) == 2 and len(detail.attempt_ids) == 1
    failing_a = learners.failing_case(session=synced, scope=A, exercise_slug="message-echo", case_name="hi")
    failing_b = learners.failing_case(session=synced, scope=b, exercise_slug="message-echo", case_name="hi")
    assert _names(failing_a.rows) == ["Ada"] and _names(failing_b.rows) == ["Bea"]
    # An exercise course B does not place is no exercise of B's.
    with pytest.raises(NotFound):
        learners.failing_case(session=synced, scope=b, exercise_slug="health-check", case_name="hi")


def test_an_assignment_filter_narrows_the_columns_and_belongs_to_its_course(synced, two_courses):
    b = two_courses["b"]
    (placed,) = courses.assignments(session=synced, course_id=b.course_id)
    narrowed = course_scope(session=synced, course_id=b.course_id, assignment_id=placed.id)
    cols = columns.columns(session=synced, scope=narrowed)
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


# --- a learner who repeats the course: the same exercise and quiz in course A and course B -------


def _placed_in(session, course_id: int, exercise_id: int) -> Assignment:
    return session.exec(
        select(Assignment).where(Assignment.course_id == course_id, Assignment.exercise_id == exercise_id)
    ).one()


@pytest.fixture
def repeater(synced, two_courses):
    """Ray took course A three days ago and repeats it in course B: other scores, counts, shares and attempts in each.

    In A: two submissions (1 point failing "hi", then full marks), every quiz answer right.
    In B: one submission of 8 points counted at half (late), failing "hi" with a misspelt key; no quiz answer right.
    """
    b = two_courses["b"]
    ray = make_user(synced, name="Ray", email="ray@example.org")
    courses.add_member(session=synced, course_id=b.course_id, user_id=ray.id, role="learner")
    synced.commit()
    echo = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    in_a, in_b = _placed_in(synced, DEFAULT_COURSE_ID, echo.id), _placed_in(synced, b.course_id, echo.id)
    earlier = utcnow() - timedelta(days=3)
    failing = make_report(cases={"hello": True, "hi": False}).to_dict()
    full = make_report(cases={"hello": True, "hi": True}).to_dict()
    with_typo = {**failing, "diagnoses": [MISSPELT_KEY]}
    a_first = make_submission(
        synced, user=ray, status="graded", score=1, report=failing, created_at=earlier, assignment_id=in_a.id
    )
    a_best = make_submission(
        synced,
        user=ray,
        status="graded",
        score=echo.max_score,
        report=full,
        created_at=earlier + timedelta(hours=1),
        assignment_id=in_a.id,
    )
    b_only = make_submission(
        synced, user=ray, status="graded", score=8, report=with_typo, assignment_id=in_b.id, late_factor=0.5
    )
    questions = len(quizzes.get_for_learner(session=synced, slug=QUIZ).questions)
    _attempt(synced, ray, correct=questions, assignment_id=in_a.id)
    synced.exec(
        update(QuizAttempt)
        .where(QuizAttempt.user_id == ray.id, QuizAttempt.assignment_id == in_a.id)
        .values(created_at=earlier)
    )
    synced.commit()
    _attempt(synced, ray, correct=0, assignment_id=in_b.id)
    return {
        **two_courses,
        "ray": ray,
        "echo": echo,
        "in_a": in_a,
        "in_b": in_b,
        "earlier": earlier,
        "questions": questions,
        "a_submissions": [a_best.id, a_first.id],
        "b_submissions": [b_only.id],
    }


def _ray_row(session, settings, scope, ray):
    cols = columns.columns(session=session, scope=scope)
    query = table.table_query(session=session, cols=cols, exercise="message-echo", q="ray")
    (row,) = table.table(session=session, query=query, cols=cols, settings=settings).rows
    return row


def test_a_repeater_counts_in_each_course_with_that_course_work_alone(synced, settings, repeater):
    b, ray, echo = repeater["b"], repeater["ray"], repeater["echo"]
    in_a = _ray_row(synced, settings, A, ray)
    in_b = _ray_row(synced, settings, b, ray)
    a_echo, b_echo = in_a.exercises["message-echo"], in_b.exercises["message-echo"]
    assert (a_echo.best, a_echo.latest, a_echo.submissions) == (echo.max_score, echo.max_score, 2)
    assert (b_echo.best, b_echo.latest, b_echo.submissions) == (4.0, 4.0, 1)
    assert (in_a.quizzes[QUIZ].score, in_a.quizzes[QUIZ].attempts) == (repeater["questions"], 1)
    assert (in_b.quizzes[QUIZ].score, in_b.quizzes[QUIZ].attempts) == (0, 1)
    assert (in_a.submission_count, in_b.submission_count) == (2, 1)
    assert in_a.last_activity < repeater["earlier"] + timedelta(hours=2) < in_b.last_activity
    # The API pages hold the same rows.
    for scope, wanted in ((A, 2), (b, 1)):
        rows = export.api_page(session=synced, scope=scope, after=0, limit=10, settings=settings).rows
        (mine,) = [row for row in rows if row.user_id == ray.id]
        assert mine.exercises["message-echo"].submissions == wanted
    # Sorting by best and by activity reads this course's standing only.
    cols = columns.columns(session=synced, scope=b)
    query = table.table_query(session=synced, cols=cols, exercise="message-echo", sort="best", order="desc")
    assert _names(table.table(session=synced, query=query, cols=cols, settings=settings).rows) == ["Bea", "Ray"]
    full = table.table_query(session=synced, cols=cols, exercise="message-echo", show="full")
    assert _names(table.table(session=synced, query=full, cols=cols, settings=settings).rows) == ["Bea"]


def test_a_repeater_csv_lines_differ_by_course(synced, settings, repeater):
    b = repeater["b"]
    lines = {}
    for name, scope in (("a", A), ("b", b)):
        text = export.to_csv(session=synced, scope=scope, settings=settings)
        (lines[name],) = [row for row in csv.DictReader(io.StringIO(text)) if row["email"] == "ray@example.org"]
    full_marks = format_points(repeater["echo"].max_score)
    assert (lines["a"]["message-echo best"], lines["a"]["message-echo submissions"]) == (full_marks, "2")
    assert (lines["b"]["message-echo best"], lines["b"]["message-echo submissions"]) == ("4", "1")
    assert lines["a"][f"{QUIZ} score"] == str(repeater["questions"]) and lines["b"][f"{QUIZ} score"] == "0"
    assert (lines["a"]["submissions"], lines["b"]["submissions"]) == ("2", "1")
    assert lines["a"]["last activity"] < lines["b"]["last activity"]


def test_a_repeater_learner_page_summary_and_figures_stay_in_their_course(synced, settings, repeater):
    b, ray, echo = repeater["b"], repeater["ray"], repeater["echo"]
    for scope, wanted in ((A, repeater["a_submissions"]), (b, repeater["b_submissions"])):
        detail = learners.learner_detail(session=synced, scope=scope, user_id=ray.id)
        assert [line.submission.id for line in detail.submissions] == wanted
        assert [line.submission.id for line in detail.submissions if line.is_best] == wanted[:1]
        assert len(detail.attempt_ids) == 1
    # Course A: Ada (1 point) and Ray (full marks); course B: Bea (full marks) and Ray (late: 4 points counted).
    a_line = table.summary(session=synced, scope=A, exercise=echo)
    b_line = table.summary(session=synced, scope=b, exercise=echo)
    assert (a_line.learners, a_line.submitted, a_line.full_marks, a_line.late) == (2, 2, 1, 0)
    assert (b_line.learners, b_line.submitted, b_line.full_marks, b_line.late) == (2, 2, 1, 1)
    a_figures = stats.dashboard(session=synced, scope=A, exercise_slug="message-echo")
    b_figures = stats.dashboard(session=synced, scope=b, exercise_slug="message-echo")
    assert sum(day.count for day in a_figures.submissions_per_day) == 3  # Ada's one, Ray's two in A
    assert sum(day.count for day in b_figures.submissions_per_day) == 3  # Bea's two, Ray's one in B
    # Of 16 points: Ada's 1 and Ray's 16 in A; Bea's 16 and Ray's 4 (25 %) in B.
    assert [bucket.count for bucket in a_figures.score_distribution] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert [bucket.count for bucket in b_figures.score_distribution] == [0, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    # Ray's latest in A passes "hi" and has no diagnosis; in B it fails "hi" with a misspelt key.
    assert _names(
        learners.failing_case(session=synced, scope=A, exercise_slug="message-echo", case_name="hi").rows
    ) == ["Ada"]
    assert _names(
        learners.failing_case(session=synced, scope=b, exercise_slug="message-echo", case_name="hi").rows
    ) == [
        "Bea",
        "Ray",
    ]
    assert a_figures.common_mistakes == []
    assert [(mistake.cause, mistake.learners) for mistake in b_figures.common_mistakes] == [("misspelt_key", 1)]
    mistaken = {
        name: _names(
            learners.with_mistake(session=synced, scope=scope, exercise_slug="message-echo", cause="misspelt_key").rows
        )
        for name, scope in (("a", A), ("b", b))
    }
    assert mistaken == {"a": [], "b": ["Ray"]}


def test_a_repeater_quiz_answers_count_in_their_course_item_statistics(synced, repeater):
    b = repeater["b"]
    a_items = stats.question_breakdowns(session=synced, scope=A)
    b_items = stats.question_breakdowns(session=synced, scope=b)
    # Course A: only Ray's attempt for A, every answer right. Course B: Bea's and Ray's attempts for B.
    assert [item.answers for item in a_items] == [1] * repeater["questions"]
    assert all(item.facility == 1.0 for item in a_items)
    assert [item.answers for item in b_items] == [2] * repeater["questions"]
    assert b_items[0].facility == 0.5 and all(item.facility == 0.0 for item in b_items[1:])


def test_a_late_share_recomputed_in_one_course_leaves_the_other_course_standing(synced, repeater):
    b, ray, echo, teacher = repeater["b"], repeater["ray"], repeater["echo"], repeater["teacher"]

    def standing(course_id: int) -> tuple:
        synced.expire_all()
        row = synced.get(ExerciseStanding, (ray.id, course_id, echo.id))
        return (row.best_score, row.latest_score, row.submissions, row.change)

    a_before, b_before = standing(DEFAULT_COURSE_ID), standing(b.course_id)
    assert b_before[:3] == (4.0, 4.0, 1)
    # B's due date moves to tomorrow under a penalty policy: Ray's B work was on time after all.
    saved = courses.update_assignment(
        session=synced,
        assignment_id=repeater["in_b"].id,
        by=teacher,
        due_at=utcnow() + timedelta(days=1),
        late_policy="penalty",
        penalty_percent=10,
    )
    assert saved.recomputed == 1 and saved.learners == (ray.id,)
    b_after = standing(b.course_id)
    assert b_after[:3] == (8.0, 8.0, 1) and b_after[3] > b_before[3]
    assert standing(DEFAULT_COURSE_ID) == a_before


def test_removing_an_assignment_takes_its_work_out_of_the_course_standings(synced, repeater):
    b, ray, echo = repeater["b"], repeater["ray"], repeater["echo"]
    courses.remove_assignment(session=synced, assignment_id=repeater["in_b"].id, by=repeater["teacher"])
    synced.expire_all()
    assert synced.get(ExerciseStanding, (ray.id, b.course_id, echo.id)) is None
    assert synced.get(ExerciseStanding, (repeater["bea"].id, b.course_id, echo.id)) is None
    assert synced.get(ExerciseStanding, (ray.id, DEFAULT_COURSE_ID, echo.id)).submissions == 2
