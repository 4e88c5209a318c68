"""A learner's assignments: status from the dates and their work, best counted score, quiz standing, policy words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from grader.models import DEFAULT_COURSE_ID, Assignment, utcnow
from grader.services import courses, coursework
from tests.factories import exercise, make_user
from tests.services.test_courses import _grade, _upload


def _lesson(session) -> Assignment:
    row = exercise(session)
    return session.exec(select(Assignment).where(Assignment.exercise_id == row.id)).one()


def _row(session, user, settings) -> coursework.LearnerAssignment:
    session.expire_all()
    rows = coursework.for_learner(session=session, user=user, settings=settings)
    return next(row for row in rows if row.assignment.id == _lesson(session).id)


def _upload_and_grade(session, settings, user, *, now, score):
    made = _upload(session, settings, user, now=now)
    _grade(session, made, score)
    return made


def test_the_status_follows_the_dates_and_the_work(synced, settings):
    teacher = make_user(synced, role="instructor")
    learner = make_user(synced)
    lesson_id = _lesson(synced).id
    now = utcnow()
    courses.update_assignment(session=synced, assignment_id=lesson_id, by=teacher, opens_at=now + timedelta(days=1))
    assert _row(synced, learner, settings).status == "not_open"
    courses.update_assignment(
        session=synced, assignment_id=lesson_id, by=teacher, opens_at=None, due_at=now + timedelta(days=1)
    )
    row = _row(synced, learner, settings)
    assert (row.status, row.status_words, row.best, row.has_work) == ("open", "open", None, False)
    courses.grant_extension(
        session=synced, assignment_id=lesson_id, user_id=learner.id, due_at=now + timedelta(days=3), by=teacher
    )
    row = _row(synced, learner, settings)
    assert row.status == "extended" and row.deadline.due_at == now + timedelta(days=3)
    courses.grant_extension(session=synced, assignment_id=lesson_id, user_id=learner.id, due_at=None, by=teacher)
    courses.update_assignment(session=synced, assignment_id=lesson_id, by=teacher, due_at=now - timedelta(hours=1))
    assert _row(synced, learner, settings).status == "closed"
    courses.update_assignment(
        session=synced, assignment_id=lesson_id, by=teacher, late_policy="penalty", penalty_percent=25
    )
    row = _row(synced, learner, settings)
    assert row.status == "late" and row.deadline.late_factor == pytest.approx(0.75)


def test_the_best_counted_score_and_a_late_share(synced, settings):
    teacher = make_user(synced, role="instructor")
    learner = make_user(synced)
    due = utcnow() - timedelta(hours=1)
    courses.update_assignment(
        session=synced,
        assignment_id=_lesson(synced).id,
        by=teacher,
        due_at=due,
        late_policy="penalty",
        penalty_percent=25,
    )
    on_time = _upload_and_grade(synced, settings, learner, now=due - timedelta(hours=1), score=8.0)
    assert _row(synced, learner, settings).best.id == on_time.id
    assert _row(synced, learner, settings).status == "submitted"
    # 16 late at 75 % counts 12, more than 8 on time.
    late = _upload_and_grade(synced, settings, learner, now=due + timedelta(minutes=5), score=16.0)
    row = _row(synced, learner, settings)
    assert row.best.id == late.id and row.best.counted_score == pytest.approx(12.0)
    assert row.status == "submitted_late" and row.status_words == "submitted late"


def test_another_learner_or_another_course_does_not_show(synced, settings):
    teacher = make_user(synced, role="instructor")
    learner, other = make_user(synced), make_user(synced)
    _upload_and_grade(synced, settings, other, now=utcnow(), score=16.0)
    assert _row(synced, learner, settings).best is None
    evening = courses.create(session=synced, title="Evening", created_by=teacher)
    courses.place_assignment(session=synced, course_id=evening.id, by=teacher, exercise_id=exercise(synced).id)
    titles = {row.course.id for row in coursework.for_learner(session=synced, user=learner, settings=settings)}
    assert titles == {DEFAULT_COURSE_ID}
    only = coursework.for_learner(session=synced, user=teacher, course_id=evening.id, settings=settings)
    assert [(row.course.id, row.role) for row in only] == [(evening.id, "instructor")]


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({}, "There is no due date: work is taken at any time."),
        ({"due_at": datetime(2026, 12, 11, tzinfo=UTC)}, "Work sent after the due date is not accepted."),
        (
            {
                "due_at": datetime(2026, 12, 11, tzinfo=UTC),
                "late_policy": "penalty",
                "penalty_percent": 10,
                "penalty_unit": "day",
                "penalty_floor_percent": 50,
            },
            "Late work is graded, but each started day late takes 10% off what it counts, down to 50%.",
        ),
    ],
)
def test_the_late_policy_in_one_sentence(fields, sentence):
    assert coursework.late_policy_sentence(Assignment(course_id=1, title="t", exercise_id=1, **fields)) == sentence
