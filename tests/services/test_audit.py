"""The audit log service: entries kept with the action and its course, newest first, readable after the
actor is gone, and read per course: an instructor reads the entries of the courses they instruct and
their own actions, never another course's.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session

from grader.models import Assignment, User
from grader.services import audit, courses, regrade
from tests.factories import make_submission, make_user


def _course_with(session: Session, teacher: User, title: str) -> int:
    course = courses.create(session=session, title=title, created_by=teacher)
    return course.id


def test_a_regrade_is_recorded_in_the_same_transaction_with_its_course(synced):
    teacher = make_user(synced, role="instructor")
    submission = make_submission(synced, user=make_user(synced), status="graded", score=1)
    assert submission.assignment_id is not None
    course_id = synced.get_one(Assignment, submission.assignment_id).course_id
    courses.add_member(session=synced, course_id=course_id, user_id=teacher.id, role="instructor")
    synced.commit()
    batch = regrade.regrade_submission(
        session=synced, submission_id=submission.id, requested_by=teacher, enqueue=lambda _: None
    )
    (entry, title), *_ = audit.recent(session=synced, viewer=teacher)
    assert (entry.action, entry.target, entry.actor_id, entry.actor_email, entry.course_id) == (
        "regrade",
        f"submission {submission.id}",
        teacher.id,
        teacher.email,
        course_id,
    )
    assert title is not None
    assert entry.details == {"batch": batch.id, "submissions": 1}


def test_entries_come_newest_first_and_outlive_their_actor(engine, synced):
    teacher, colleague = make_user(synced, role="instructor"), make_user(synced, role="instructor")
    course_id = _course_with(synced, colleague, "Morning class")
    courses.add_member(session=synced, course_id=course_id, user_id=teacher.id, role="instructor")
    synced.commit()
    for number in range(3):
        audit.record(
            session=synced, actor=teacher, action="gradebook.export", course_id=course_id, target=f"export {number}"
        )
        synced.commit()
    synced.delete(synced.get(User, teacher.id))
    synced.commit()
    with Session(engine) as session:
        entries = [event for event, _ in audit.recent(session=session, viewer=colleague, limit=2)]
        assert [entry.target for entry in entries] == ["export 2", "export 1"]
        assert all(entry.actor_id is None and entry.actor_email == teacher.email for entry in entries)


def test_an_instructor_reads_their_courses_entries_and_their_own_never_another_course(synced):
    ada, bo, ta = (make_user(synced, role="instructor") for _ in range(3))
    _course_with(synced, ada, "Ada's class")
    bo_course = _course_with(synced, bo, "Bo's class")
    courses.add_member(session=synced, course_id=bo_course, user_id=ta.id, role="ta")
    synced.commit()
    audit.record(
        session=synced,
        actor=bo,
        action="account.change",
        course_id=bo_course,
        target="learner@example.org",
        details={"change": "password reset"},
    )
    audit.record(session=synced, actor=ada, action="regrade", course_id=None, target="exercise message-echo")
    audit.record(session=synced, actor=bo, action="regrade", course_id=None, target="exercise message-echo")
    synced.commit()

    def seen(viewer: User) -> list[tuple[str, str, str | None]]:
        return [
            (event.actor_email, event.action, title) for event, title in audit.recent(session=synced, viewer=viewer)
        ]

    assert seen(ada) == [
        (ada.email, "regrade", None),
        (ada.email, "course.create", "Ada's class"),
    ]
    assert seen(bo) == [
        (bo.email, "regrade", None),
        (bo.email, "account.change", "Bo's class"),
        (bo.email, "course.create", "Bo's class"),
    ]
    # A TA of Bo's course reads no audit entries: the log is for those who manage the course.
    assert seen(ta) == []
    # Nothing of Bo's course reaches Ada, the learner's e-mail least of all.
    assert all("learner@example.org" not in event.target for event, _ in audit.recent(session=synced, viewer=ada))


def test_unknown_actions_are_refused(synced):
    teacher = make_user(synced, role="instructor")
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(session=synced, actor=None, action="launch.rockets", course_id=None, target="moon")
    synced.rollback()
    assert audit.recent(session=synced, viewer=teacher) == []
