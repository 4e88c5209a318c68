"""The audit log service: entries kept with the action, newest first, readable after the actor is gone."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from grader.models import User
from grader.services import audit, regrade
from tests.factories import make_submission, make_user


def test_a_regrade_is_recorded_in_the_same_transaction(synced):
    teacher = make_user(synced, role="instructor")
    submission = make_submission(synced, user=make_user(synced), status="graded", score=1)
    batch = regrade.regrade_submission(
        session=synced, submission_id=submission.id, requested_by=teacher, enqueue=lambda _: None
    )
    (entry,) = audit.recent(session=synced)
    assert (entry.action, entry.target, entry.actor_id, entry.actor_email) == (
        "regrade",
        f"submission {submission.id}",
        teacher.id,
        teacher.email,
    )
    assert entry.details == {"batch": batch.id, "submissions": 1}


def test_entries_come_newest_first_and_outlive_their_actor(engine, synced):
    teacher = make_user(synced, role="instructor")
    for number in range(3):
        audit.record(session=synced, actor=teacher, action="gradebook.export", target=f"export {number}")
        synced.commit()
    synced.delete(synced.get(User, teacher.id))
    synced.commit()
    with Session(engine) as session:
        entries = audit.recent(session=session, limit=2)
        assert [entry.target for entry in entries] == ["export 2", "export 1"]
        assert all(entry.actor_id is None and entry.actor_email == teacher.email for entry in entries)


def test_unknown_actions_are_refused(synced):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(session=synced, actor=None, action="launch.rockets", target="moon")
    synced.rollback()
    assert audit.recent(session=synced) == []
