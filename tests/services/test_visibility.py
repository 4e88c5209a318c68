"""Who sees a hidden case's data, and what releases it to the learner who made the submission."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from grader.grading.visibility import Release
from grader.models import DEFAULT_COURSE_ID, Assignment, utcnow
from grader.services import courses, visibility
from tests.factories import exercise, make_submission, make_user
from tests.grading.test_visibility import SECRET_SENT, restricted_report


def _lesson_assignment(session) -> Assignment:
    return session.exec(select(Assignment).where(Assignment.exercise_id == exercise(session).id)).one()


def _submission(session, learner, visibility_of_case="after_due_date"):
    submission = make_submission(
        session, user=learner, status="graded", score=1, report=restricted_report(visibility_of_case).to_dict()
    )
    submission.assignment_id = _lesson_assignment(session).id
    session.add(submission)
    session.commit()
    return submission


def _shows_secret(session, submission, viewer) -> bool:
    return SECRET_SENT in json.dumps(visibility.report_for(session, submission=submission, viewer=viewer))


def test_staff_of_the_course_see_everything_and_learners_what_is_released(synced):
    learner = make_user(synced)
    other = make_user(synced)
    ta = make_user(synced)
    courses.add_member(session=synced, course_id=DEFAULT_COURSE_ID, user_id=ta.id, role="ta")
    instructor = make_user(synced, role="instructor")
    synced.commit()
    submission = _submission(synced, learner)
    assert _shows_secret(synced, submission, ta)
    assert _shows_secret(synced, submission, instructor)
    assert not _shows_secret(synced, submission, learner)
    assert not _shows_secret(synced, submission, other)


def test_the_authors_due_date_and_the_published_grades_release_cases(synced):
    learner = make_user(synced)
    instructor = make_user(synced, role="instructor")
    assignment = _lesson_assignment(synced)
    assert visibility.release_for(synced, assignment=assignment, user_id=learner.id) == Release()
    assert visibility.release_for(synced, assignment=None, user_id=learner.id) == Release()

    assignment.due_at = utcnow() - timedelta(minutes=1)
    synced.add(assignment)
    synced.commit()
    assert visibility.release_for(synced, assignment=assignment, user_id=learner.id) == Release(due_passed=True)
    submission = _submission(synced, learner)
    assert _shows_secret(synced, submission, learner)

    courses.grant_extension(
        session=synced,
        assignment_id=assignment.id,
        user_id=learner.id,
        due_at=utcnow() + timedelta(hours=2),
        by=instructor,
    )
    assert not _shows_secret(synced, submission, learner)

    assignment.published = True
    synced.add(assignment)
    synced.commit()
    assert visibility.release_for(synced, assignment=assignment, user_id=learner.id) == Release(published=True)
    assert _shows_secret(synced, _submission(synced, learner, "after_published"), learner)
    assert not _shows_secret(synced, _submission(synced, learner, "hidden"), learner)


def test_a_case_hidden_after_the_grading_is_hidden_in_its_report(synced):
    learner = make_user(synced)
    # The report's restricted case, under the name of the exercise's last case (the one to be hidden).
    report = json.loads(
        json.dumps(restricted_report("visible").to_dict()).replace('"secret-case"', '"get-not-allowed"')
    )
    submission = make_submission(synced, user=learner, status="graded", score=1, report=report)
    assert _shows_secret(synced, submission, learner)
    row = exercise(synced)
    spec = dict(row.spec)
    spec["cases"] = [*spec["cases"][:-1], {**spec["cases"][-1], "visibility": "hidden"}]
    row.spec = spec
    synced.add(row)
    synced.commit()
    assert not _shows_secret(synced, submission, learner)
    shown = visibility.report_for(synced, submission=submission, viewer=make_user(synced, role="instructor"))
    assert shown is not None and shown["tests"][2]["visibility"] == "hidden"
