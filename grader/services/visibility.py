"""What of a submission's report its viewer may see: staff see it all, a learner what is released.

Every page, fragment, stream and API answer that shows a report to someone reads it here
(``report_for``), so a hidden case's data is withheld in one place: ``grading.visibility``
does the withholding, this module says who is staff and what has been released.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from grader.grading.report import Visibility
from grader.grading.spec import CaseSpec
from grader.grading.visibility import HIDDEN_DESCRIPTION, STAFF_WORDS, Release, learner_data, released
from grader.models import Exercise, Submission, User
from grader.services import fixchecks


def is_staff(user: User) -> bool:
    """Whether ``user`` sees every case's data (and which cases learners do not see)."""
    return user.role == "instructor"


def release_for(session: Session, *, user_id: int, exercise_id: int) -> Release:  # noqa: ARG001 - see below
    """What has released an exercise's restricted cases to the learner ``user_id``.

    Until assignments have due dates and published grades, nothing does.
    """
    return Release(due_passed=False, published=False)


def report_for(session: Session, *, submission: Submission, viewer: User) -> dict[str, Any] | None:
    """The submission's report, its fix checks merged in, as ``viewer`` may see it (None until graded)."""
    data = fixchecks.checked_report(session, submission)
    if data is None or is_staff(viewer):
        return data
    return learner_data(data, release_for(session, user_id=submission.user_id, exercise_id=submission.exercise_id))


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
    staff = is_staff(viewer)
    release = release_for(session, user_id=viewer.id, exercise_id=exercise.id)
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
