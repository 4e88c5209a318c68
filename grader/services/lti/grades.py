"""Assignment and Grade Services: a learner's counted score on an LTI-linked assignment, posted to the LMS.

When a result is stored, ``record`` notes the learner's counted score (their best, after the
late policy: ``Submission.late_factor``, ``QuizAttempt.late_factor``) in ``LtiScoreSend`` and the caller enqueues the send
job. ``send`` (the job's body) posts the row's current score to the line item of every LMS
course linked to the assignment's course; it is idempotent (a score sent twice is the same
score) and, when the LMS fails, leaves the row pending with a later ``next_try_at``.

The line item is the one remembered for the assignment, else the one the LMS gave the
resource link, else the LMS's line item whose ``resourceId`` is the assignment id, and only
when there is none is one created (so a retry after a lost answer creates no second column).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import requests
from pylti1p3.assignments_grades import AssignmentsGradesService, TAssignmentsGradersData
from pylti1p3.exception import LtiException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from sqlmodel import Session, col, select

from grader.config import Settings, get_settings
from grader.models import (
    Assignment,
    Exercise,
    LtiContext,
    LtiIdentity,
    LtiLineItem,
    LtiResourceLink,
    LtiScoreSend,
    QuizAttempt,
    Submission,
    utcnow,
)
from grader.services import quizzes
from grader.services.lti import keys, platforms
from grader.services.lti.connector import CachingServiceConnector

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)


@dataclass(frozen=True)
class Counted:
    """A learner's counted score on an assignment and the most it can be."""

    score: float
    max_score: float


def linked_contexts(*, session: Session, assignment: Assignment) -> list[LtiContext]:
    """The LMS courses mapped to the assignment's course that offer the grade service."""
    return list(
        session.exec(
            select(LtiContext)
            .where(LtiContext.course_id == assignment.course_id, LtiContext.lineitems_url != "")
            .order_by(col(LtiContext.id))
        )
    )


def counted_score(
    *, session: Session, assignment: Assignment, user_id: int, settings: Settings | None = None
) -> Counted | None:
    """The learner's counted score on the assignment, or None before any work on it.

    The exercise part is the best graded submission after the late policy; the quiz part is the
    counted attempt after the late policy (``settings.quiz_scoring``: best or last). An assignment
    holding both sends their sum out of the sum of their maximums; a part not yet tried counts 0.
    """
    settings = settings or get_settings()
    score = maximum = 0.0
    tried = False
    if assignment.exercise_id is not None and (exercise := session.get(Exercise, assignment.exercise_id)) is not None:
        maximum += float(exercise.max_score)
        rows = session.exec(
            select(Submission.score, Submission.late_factor).where(
                Submission.assignment_id == assignment.id,
                Submission.user_id == user_id,
                Submission.status == "graded",
                col(Submission.score).is_not(None),
            )
        ).all()
        if rows:
            tried = True
            score += max(float(given or 0.0) * float(factor) for given, factor in rows)
    if assignment.quiz_id is not None:
        attempts = list(
            session.exec(
                select(QuizAttempt).where(QuizAttempt.assignment_id == assignment.id, QuizAttempt.user_id == user_id)
            )
        )
        counted = quizzes.counted_attempt(attempts, scoring=settings.quiz_scoring)
        if counted is not None:
            tried = True
            score += counted.counted_score
            maximum += counted.max_score
        else:
            maximum += quizzes.question_count(session=session, quiz_id=assignment.quiz_id)
    if not tried:
        return None
    return Counted(score=round(score, 4), max_score=maximum)


def maximum(*, session: Session, assignment: Assignment) -> float:
    """The most the assignment's counted score can be: its exercise's maximum plus its quiz's questions."""
    total = 0.0
    if assignment.exercise_id is not None and (exercise := session.get(Exercise, assignment.exercise_id)) is not None:
        total += float(exercise.max_score)
    if assignment.quiz_id is not None:
        total += quizzes.question_count(session=session, quiz_id=assignment.quiz_id)
    return total


def record_attempt(*, session: Session, attempt_id: int, settings: Settings | None = None) -> tuple[int, int] | None:
    """After a quiz attempt is stored: as ``record``, committed; ``(assignment, user)`` to enqueue, or None."""
    attempt = session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.assignment_id is None:
        return None
    due = _note(session, assignment_id=attempt.assignment_id, user_id=attempt.user_id, settings=settings)
    session.commit()
    return due


def record(*, session: Session, submission_id: int, settings: Settings | None = None) -> tuple[int, int] | None:
    """After a result is stored: note the learner's counted score to send; ``(assignment, user)`` to enqueue, or None.

    None when the submission belongs to no assignment linked to an LMS course, or the
    learner has no LMS identity there (they never launched and no roster sync saw them).
    The caller commits.
    """
    submission = session.get(Submission, submission_id)
    if submission is None or submission.assignment_id is None:
        return None
    return _note(session, assignment_id=submission.assignment_id, user_id=submission.user_id, settings=settings)


def record_recomputed(
    *, session: Session, assignment_id: int, user_ids: Sequence[int], settings: Settings | None = None
) -> list[tuple[int, int]]:
    """After a due date, policy or extension changed learners' counted scores: the sends due, committed."""
    due = [_note(session, assignment_id=assignment_id, user_id=user_id, settings=settings) for user_id in user_ids]
    session.commit()
    return [pair for pair in due if pair is not None]


def _note(session: Session, *, assignment_id: int, user_id: int, settings: Settings | None) -> tuple[int, int] | None:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        return None
    contexts = linked_contexts(session=session, assignment=assignment)
    issuers = {context.issuer for context in contexts}
    if not issuers or not _subject(session, user_id=user_id, issuers=issuers):
        return None
    counted = counted_score(session=session, assignment=assignment, user_id=user_id, settings=settings)
    if counted is None:
        return None
    row = session.get(LtiScoreSend, (assignment.id, user_id))
    if row is None:
        row = LtiScoreSend(assignment_id=assignment.id, user_id=user_id, score=0, max_score=0)
    elif row.status == "sent" and (row.score, row.max_score) == (counted.score, counted.max_score):
        return None
    row.score, row.max_score = counted.score, counted.max_score
    row.status, row.attempts, row.next_try_at, row.last_error = "pending", 0, utcnow(), ""
    row.updated_at = utcnow()
    session.add(row)
    return assignment.id, user_id


def _subject(session: Session, *, user_id: int, issuers: set[str]) -> dict[str, str]:
    identities = session.exec(
        select(LtiIdentity).where(LtiIdentity.user_id == user_id, col(LtiIdentity.issuer).in_(issuers))
    )
    return {identity.issuer: identity.subject for identity in identities}


# A pending send whose time came this long ago was lost (its enqueue failed, its worker died).
LOST_AFTER = timedelta(minutes=2)


def lost_sends(*, session: Session, now: datetime | None = None) -> list[tuple[int, int]]:
    """``(assignment, user)`` of pending sends whose try is overdue by ``LOST_AFTER``: the sweep sends them again."""
    now = now or utcnow()
    rows = session.exec(
        select(LtiScoreSend.assignment_id, LtiScoreSend.user_id).where(
            LtiScoreSend.status == "pending", col(LtiScoreSend.next_try_at) <= now - LOST_AFTER
        )
    )
    return [(assignment_id, user_id) for assignment_id, user_id in rows]


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try after ``attempts`` failed ones."""
    wait: timedelta = FIRST_RETRY * 2 ** max(0, attempts - 1)
    return min(wait, LONGEST_WAIT)


def send(
    *,
    session: Session,
    assignment_id: int,
    user_id: int,
    secret: str,
    now: datetime | None = None,
    http: requests.Session | None = None,
) -> LtiScoreSend | None:
    """Post the row's score to the LMS; the row afterwards (``sent``, or pending with ``next_try_at``, or ``failed``)."""
    now = now or utcnow()
    row = session.get(LtiScoreSend, (assignment_id, user_id))
    assignment = session.get(Assignment, assignment_id)
    if row is None or assignment is None or row.status != "pending":
        return row
    try:
        for context in linked_contexts(session=session, assignment=assignment):
            subject = _subject(session, user_id=user_id, issuers={context.issuer}).get(context.issuer)
            if subject is not None:
                _post(
                    session,
                    context=context,
                    assignment=assignment,
                    row=row,
                    subject=subject,
                    secret=secret,
                    now=now,
                    http=http,
                )
    except (LtiException, requests.RequestException) as exc:
        session.rollback()
        row = session.get(LtiScoreSend, (assignment_id, user_id))
        assert row is not None
        row.attempts += 1
        row.last_error = str(exc)[:500]
        row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
        row.next_try_at = None if row.status == "failed" else now + backoff(row.attempts)
    else:
        row.status, row.next_try_at, row.last_error = "sent", None, ""
    row.updated_at = now
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def _post(
    session: Session,
    *,
    context: LtiContext,
    assignment: Assignment,
    row: LtiScoreSend,
    subject: str,
    secret: str,
    now: datetime,
    http: requests.Session | None,
) -> None:
    platform = platforms.get(session=session, platform_id=context.platform_id)
    registration = platforms.library_registration(platform, keys.signing_key(session=session, secret=secret))
    service_data = cast(
        TAssignmentsGradersData, {"scope": context.ags_scopes or [SCORE_SCOPE], "lineitems": context.lineitems_url}
    )
    service = AssignmentsGradesService(CachingServiceConnector(registration, http), service_data)
    lineitem = LineItem().set_id(_lineitem_url(session, service, context=context, assignment=assignment, row=row))
    grade = (
        Grade()
        .set_score_given(row.score)
        .set_score_maximum(row.max_score)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_timestamp(now.isoformat())
        .set_user_id(subject)
    )
    service.put_grade(grade, lineitem)


def _lineitem_url(
    session: Session,
    service: AssignmentsGradesService,
    *,
    context: LtiContext,
    assignment: Assignment,
    row: LtiScoreSend,
) -> str:
    known = session.get(LtiLineItem, (context.id, assignment.id))
    if known is not None:
        return known.url
    given = session.exec(
        select(LtiResourceLink.lineitem_url).where(
            LtiResourceLink.context_id == context.id,
            LtiResourceLink.assignment_id == assignment.id,
            LtiResourceLink.lineitem_url != "",
        )
    ).first()
    url = given
    if not url:
        wanted = (
            LineItem().set_label(assignment.title).set_score_maximum(row.max_score).set_resource_id(str(assignment.id))
        )
        found = service.find_or_create_lineitem(wanted, find_by="resource_id")
        url = found.get_id()
    if not url:
        raise LtiException("The LMS answered without a line item id.")
    session.add(LtiLineItem(context_id=context.id, assignment_id=assignment.id, url=url))
    session.commit()
    return url
