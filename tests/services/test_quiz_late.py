"""Quiz attempts under the late policy: the share stored, counted everywhere, chosen on, and recomputed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from grader.models import DEFAULT_COURSE_ID, Assignment, Choice, Question, QuizAttempt
from grader.services import courses, coursework, quizzes
from grader.services.errors import NotOpen
from grader.services.gradebook import changes, columns, cursor, export, table
from grader.services.lti import grades
from grader.services.scope import CourseScope
from tests.factories import exercise, make_user
from tests.services.test_courses import _upload

DUE = datetime(2026, 12, 11, 17, 0, tzinfo=UTC)
SLUG = "message-cycle"  # the lesson's quiz, placed with its exercise in the default course: 3 questions


def _lesson(session) -> Assignment:
    session.expire_all()
    return session.exec(select(Assignment).where(Assignment.exercise_id == exercise(session).id)).one()


def _policy(session, teacher, **fields) -> courses.Saved:
    return courses.update_assignment(session=session, assignment_id=_lesson(session).id, by=teacher, **fields)


def _answer(session, settings, user, *, right: int, now: datetime) -> quizzes.AttemptResult:
    """An attempt with the first ``right`` questions answered right and the rest wrong, made at ``now``."""
    answers = {}
    for index, question in enumerate(session.exec(select(Question).where(Question.active)).all()):
        choices = session.exec(select(Choice).where(Choice.question_id == question.id)).all()
        answers[question.id] = next(c.id for c in choices if c.is_correct == (index < right))
    return quizzes.submit_attempt(session=session, user=user, slug=SLUG, answers=answers, settings=settings, now=now)


def _stored(session, attempt_id: int) -> QuizAttempt:
    session.expire_all()
    return session.get_one(QuizAttempt, attempt_id)


@pytest.fixture
def teacher(synced):
    return make_user(synced, role="instructor")


def test_a_late_attempt_under_a_penalty_stores_and_states_its_share(synced, settings, teacher):
    learner = make_user(synced)
    _policy(synced, teacher, due_at=DUE, late_policy="penalty", penalty_percent=10, penalty_unit="hour")
    late = _answer(synced, settings, learner, right=3, now=DUE + timedelta(hours=1, minutes=30))
    assert late.late_factor == pytest.approx(0.8)  # two started hours
    assert late.counted_score == pytest.approx(2.4)
    assert late.late_note == "Submitted 1 hour and 30 minutes late: this attempt counts 80% (2.4 of 3)."
    assert _stored(synced, late.id).late_factor == pytest.approx(0.8)
    # Read again later (as the result page does), it says the same.
    again = quizzes.get_attempt(session=synced, attempt_id=late.id, user=learner, settings=settings)
    assert again.late_note == late.late_note

    on_time = _answer(synced, settings, learner, right=2, now=DUE)
    assert (on_time.late_factor, on_time.counted_score, on_time.late_note) == (1.0, 2.0, "")
    assert _stored(synced, on_time.id).late_factor == 1.0


def test_an_attempt_for_no_assignment_counts_in_full(synced, settings, teacher):
    learner = make_user(synced)
    lesson = _lesson(synced)
    _policy(synced, teacher, due_at=DUE, late_policy="penalty", penalty_percent=10, penalty_unit="hour")
    courses.remove_assignment(session=synced, assignment_id=lesson.id, by=teacher)
    attempt = _answer(synced, settings, learner, right=3, now=DUE + timedelta(days=3))
    stored = _stored(synced, attempt.id)
    assert (stored.assignment_id, stored.late_factor, attempt.late_note) == (None, 1.0, "")


def test_the_none_policy_still_refuses_a_late_attempt_and_stores_nothing(synced, settings, teacher):
    learner = make_user(synced)
    _policy(synced, teacher, due_at=DUE, late_policy="none")
    with pytest.raises(NotOpen, match="takes no late work"):
        _answer(synced, settings, learner, right=3, now=DUE + timedelta(minutes=1))
    assert synced.exec(select(QuizAttempt)).all() == []


@pytest.mark.parametrize(
    ("late_by", "words"),
    [
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(minutes=1, seconds=59), "1 minute"),
        (timedelta(minutes=40), "40 minutes"),
        (timedelta(hours=2), "2 hours"),
        (timedelta(hours=1, minutes=1), "1 hour and 1 minute"),
        (timedelta(days=1, hours=3, minutes=5), "1 day and 3 hours"),
        (timedelta(days=3), "3 days"),
    ],
)
def test_lateness_in_words(late_by, words):
    assert courses.lateness_words(late_by) == words


def _csv_scores(session, settings) -> dict[str, str]:
    text = export.to_csv(session=session, scope=CourseScope(course_id=_lesson(session).course_id), settings=settings)
    return {row["email"]: row[f"{SLUG} score"] for row in csv.DictReader(io.StringIO(text))}


@pytest.mark.parametrize(("scoring", "counted"), [("best", 2.0), ("last", 1.5)])
def test_which_attempt_counts_is_chosen_on_the_counted_score_in_every_place(
    synced, settings, teacher, scoring, counted
):
    """An on-time 2 of 3, then a late 3 of 3 counted at half: "best" is the on-time one, "last" the late one."""
    settings = settings.model_copy(update={"quiz_scoring": scoring})
    learner, rival = make_user(synced, name="Learner"), make_user(synced, name="Aaron")
    _policy(synced, teacher, due_at=DUE, late_policy="penalty", penalty_percent=50, penalty_unit="hour")
    on_time = _answer(synced, settings, learner, right=2, now=DUE - timedelta(hours=1))
    late = _answer(synced, settings, learner, right=3, now=DUE + timedelta(minutes=30))
    assert late.counted_score == pytest.approx(1.5)
    chosen = on_time.id if scoring == "best" else late.id
    # Also 3 right, but two started hours late: it counts nothing. By right answers the two would tie.
    assert _answer(synced, settings, rival, right=3, now=DUE + timedelta(minutes=90)).counted_score == 0.0

    lesson = _lesson(synced)
    mine = quizzes.list_attempts(session=synced, user=learner, quiz_slug=SLUG)
    assert quizzes.counted_attempt(mine, scoring=scoring).id == chosen
    assert quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=settings).counted.id == chosen
    row = coursework.one_for_learner(session=synced, user=learner, assignment=lesson, settings=settings)
    assert row.quiz_counted.id == chosen and row.quiz_counted.counted_score == pytest.approx(counted)

    scope = CourseScope(course_id=lesson.course_id)
    cols = columns.columns(session=synced, scope=scope)
    (table_row,) = columns.rows_for(session=synced, user_ids=[learner.id], cols=cols, settings=settings)
    assert table_row.quizzes[SLUG].score == pytest.approx(counted)
    assert table_row.quizzes[SLUG].attempts == 2
    (api_row,) = [
        found
        for found in export.api_page(session=synced, scope=scope, after=0, limit=10, settings=settings).rows
        if found.user_id == learner.id
    ]
    assert api_row.quizzes[SLUG].score == pytest.approx(counted)
    assert float(_csv_scores(synced, settings)[learner.email]) == pytest.approx(counted)
    sent = grades.counted_score(session=synced, assignment=lesson, user_id=learner.id, settings=settings)
    assert sent.score == pytest.approx(counted)

    # The table sorted by the quiz puts the learners in the order of what counts (a tie would go by name).
    query = table.table_query(session=synced, cols=cols, sort="quiz", order="desc")
    page = table.table(session=synced, query=query, cols=cols, settings=settings)
    assert [found.display_name for found in page.rows if found.quizzes[SLUG].score is not None] == ["Learner", "Aaron"]


def test_the_late_share_counts_on_the_gradebook_and_the_lms(synced, settings, teacher):
    learner = make_user(synced)
    _policy(synced, teacher, due_at=DUE, late_policy="penalty", penalty_percent=10, penalty_unit="day")
    _answer(synced, settings, learner, right=3, now=DUE + timedelta(hours=5))  # one started day: 90%
    lesson = _lesson(synced)
    assert _csv_scores(synced, settings)[learner.email] == "2.7"
    sent = grades.counted_score(session=synced, assignment=lesson, user_id=learner.id, settings=settings)
    assert sent.score == pytest.approx(2.7)
    assert sent.max_score == pytest.approx(exercise(synced).max_score + 3)


def test_moving_the_due_date_recomputes_attempts_and_counts_the_learners_changed(synced, settings, teacher):
    learner, punctual = make_user(synced), make_user(synced)
    _policy(synced, teacher, due_at=DUE, late_policy="penalty", penalty_percent=10, penalty_unit="hour")
    late = _answer(synced, settings, learner, right=3, now=DUE + timedelta(hours=2))
    _upload(synced, settings, learner, now=DUE + timedelta(hours=2))
    on_time = _answer(synced, settings, punctual, right=3, now=DUE - timedelta(hours=1))
    assert _stored(synced, late.id).late_factor == pytest.approx(0.8)
    scope = CourseScope(course_id=_lesson(synced).course_id)
    cols = columns.columns(session=synced, scope=scope)
    query = table.table_query(session=synced, cols=cols)
    start = cursor.current_cursor(session=synced, course_id=DEFAULT_COURSE_ID)

    saved = _policy(synced, teacher, due_at=DUE + timedelta(hours=3))
    assert saved.recomputed == 2  # the learner's attempt and submission; the punctual one's was on time already
    assert saved.learners == (learner.id,)
    assert _stored(synced, late.id).late_factor == 1.0
    assert _stored(synced, on_time.id).late_factor == 1.0
    # The dashboard's live view hears of the recomputed attempt.
    changed = changes.changes(session=synced, since=start, query=query, cols=cols, settings=settings)
    assert [row.user_id for row in changed.rows] == [learner.id]
    assert changed.rows[0].quizzes[SLUG].score == pytest.approx(3.0)

    # No late work at all, the due date back: the late attempt counts nothing; the policy's latest word wins.
    saved = _policy(synced, teacher, due_at=DUE, late_policy="none")
    assert (saved.recomputed, saved.learners) == (2, (learner.id,))
    assert _stored(synced, late.id).late_factor == 0.0
    result = quizzes.get_attempt(session=synced, attempt_id=late.id, user=learner, settings=settings)
    assert result.counted_score == 0.0 and "counts nothing (0 of 3)" in result.late_note


def test_an_extension_makes_a_late_attempt_on_time_and_taking_it_back_late_again(synced, settings, teacher):
    learner, other = make_user(synced), make_user(synced)
    lesson = _lesson(synced)
    _policy(synced, teacher, due_at=DUE, late_policy="penalty", penalty_percent=25, penalty_unit="day")
    late = _answer(synced, settings, learner, right=3, now=DUE + timedelta(hours=2))
    others = _answer(synced, settings, other, right=3, now=DUE + timedelta(hours=2))
    assert late.late_factor == pytest.approx(0.75)

    granted = courses.grant_extension(
        session=synced, assignment_id=lesson.id, user_id=learner.id, due_at=DUE + timedelta(days=1), by=teacher
    )
    assert (granted.recomputed, granted.learners) == (1, (learner.id,))
    assert _stored(synced, late.id).late_factor == 1.0
    assert _stored(synced, others.id).late_factor == pytest.approx(0.75)  # only that learner's date moved
    result = quizzes.get_attempt(session=synced, attempt_id=late.id, user=learner, settings=settings)
    assert (result.counted_score, result.late_note) == (3.0, "")

    taken_back = courses.grant_extension(
        session=synced, assignment_id=lesson.id, user_id=learner.id, due_at=None, by=teacher
    )
    assert (taken_back.recomputed, taken_back.learners) == (1, (learner.id,))
    assert _stored(synced, late.id).late_factor == pytest.approx(0.75)


def test_a_late_counted_attempt_makes_the_status_submitted_late(synced, settings, teacher):
    learner = make_user(synced)
    lesson = _lesson(synced)
    _policy(synced, teacher, due_at=DUE, late_policy="penalty", penalty_percent=25, penalty_unit="day")
    _answer(synced, settings, learner, right=3, now=DUE + timedelta(hours=2))
    row = coursework.one_for_learner(session=synced, user=learner, assignment=lesson, settings=settings)
    assert row.status == "submitted_late"
    courses.grant_extension(
        session=synced, assignment_id=lesson.id, user_id=learner.id, due_at=DUE + timedelta(days=1), by=teacher
    )
    synced.expire_all()
    row = coursework.one_for_learner(session=synced, user=learner, assignment=_lesson(synced), settings=settings)
    assert row.status == "submitted"
