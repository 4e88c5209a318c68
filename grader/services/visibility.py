"""What of a submission's report its viewer may see: staff see it all, a learner what is released.

Every page, fragment, stream and API answer that shows a report to someone reads it here
(``report_for``), so a hidden case's data is withheld in one place: ``grading.visibility``
does the withholding, this module says who is staff (a TA or instructor of a course the work
belongs to, as ``authority`` decides; the account's role plays no part) and what has been
released to the submission's author (their due date on its assignment, extension included, has passed; the
assignment's grades are published).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from grader.grading.cases import case_visibilities
from grader.grading.report import Visibility
from grader.grading.spec import CaseSpec
from grader.grading.visibility import HIDDEN_DESCRIPTION, STAFF_WORDS, Release, as_now, learner_data, released
from grader.models import Assignment, Exercise, Submission, User
from grader.services import authority, courses, fixchecks, submissions


def is_staff(session: Session, *, user: User, assignment: Assignment | None) -> bool:
    """Whether ``user`` sees every case of the assignment's exercise listed: they teach its course (TA or instructor)."""
    return assignment is not None and courses.is_staff(session=session, user=user, course_id=assignment.course_id)


def release_for(
    session: Session, *, assignment: Assignment | None, user_id: int, now: datetime | None = None
) -> Release:
    """What has released the assignment's restricted cases to the learner ``user_id`` (nothing without one)."""
    if assignment is None:
        return Release()
    state = courses.deadline_state(session=session, assignment=assignment, user_id=user_id, now=now)
    return Release(due_passed=state.due_passed, published=assignment.published)


def report_for(session: Session, *, submission: Submission, viewer: User) -> dict[str, Any] | None:
    """The submission's report, its fix checks merged in, as ``viewer`` may see it (None until graded)."""
    data = fixchecks.checked_report(session, submission)
    if data is None:
        return None
    exercise = submissions.get_exercise_by_id(session=session, exercise_id=submission.exercise_id)
    data = as_now(data, case_visibilities(submissions.exercise_spec(exercise)))
    if authority.teaches_submission(session=session, submission_id=submission.id, user=viewer):
        return data
    assignment = _assignment_of(session, submission)
    return learner_data(data, release_for(session, assignment=assignment, user_id=submission.user_id))


def _assignment_of(session: Session, submission: Submission) -> Assignment | None:
    if submission.assignment_id is None:
        return None
    return session.get(Assignment, submission.assignment_id)


@dataclass(frozen=True)
class CaseListing:
    """A case as the exercise page lists it: its words (neutral when withheld), points and who sees it."""

    description: str
    points: float
    random: int
    visibility: Visibility
    staff_words: str


def listed_cases(session: Session, *, exercise: Exercise, cases: list[CaseSpec], viewer: User) -> list[CaseListing]:
    """An exercise's cases as ``viewer`` may see them listed: a withheld case's description is neutral."""
    assignment = courses.assignment_for(session=session, user=viewer, exercise_id=exercise.id)
    staff = is_staff(session, user=viewer, assignment=assignment)
    release = release_for(session, assignment=assignment, user_id=viewer.id)
    return [
        CaseListing(
            description=case.description if staff or released(case.visibility, release) else HIDDEN_DESCRIPTION,
            points=case.points,
            random=case.random,
            visibility=case.visibility,
            staff_words=STAFF_WORDS[case.visibility] if staff else "",
        )
        for case in cases
    ]
