"""Grading submissions again, e.g. after an exercise's definition changed.

A regrade puts submissions back in the queue as one batch, at a priority below
learners' uploads: a learner's new submission is graded before the regrade's
remaining ones. Each keeps its seed, so random cases are replayed exactly, and
keeps its old result on show until the new one replaces it. Progress is read
from the batch's submissions: those still queued or running are pending. A
regrade never touches the learner's rate limit (that counts uploads, not
gradings).

Each submission's score before the regrade is kept when it starts, and what it
changed is read from there (``grader.services.regrade_scores``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from grader.models import Exercise, RegradeBatch, Submission, User, utcnow
from grader.services import audit, authority, courses, regrade_scores
from grader.services.errors import InvalidInput, NotFound, PermissionDenied
from grader.services.scope import CourseScope
from grader.services.submissions import Enqueue, get_exercise, send_to_queue


@dataclass(frozen=True)
class RegradeProgress:
    """How far a batch has come: ``done`` of ``total`` graded again, of the exercise ``exercise_title``."""

    batch_id: int
    total: int
    done: int
    exercise_title: str | None = None

    @property
    def pending(self) -> int:
        """Submissions still waiting or being graded."""
        return self.total - self.done

    @property
    def finished(self) -> bool:
        """Whether every submission of the batch has its new result."""
        return self.done >= self.total


def _require_staff(session: Session, user: User, scope: CourseScope | None) -> None:
    """Within a course, its instructors and TAs may regrade; without one, an instructor account may."""
    if scope is None:
        if user.role != "instructor":
            raise PermissionDenied("Only instructors can regrade.")
    else:
        courses.require_role(session=session, user=user, course_id=scope.course_id, roles=("ta", "instructor"))


def _in_scope(statement: Any, scope: CourseScope | None) -> Any:
    """``statement`` over submissions, narrowed to the course's learners' work made for its assignments."""
    if scope is None:
        return statement
    return statement.where(
        col(Submission.user_id).in_(scope.learner_ids()), col(Submission.assignment_id).in_(scope.assignment_ids())
    )


def _start(
    session: Session,
    *,
    ids: list[int],
    exercise_id: int | None,
    requested_by: User,
    enqueue: Enqueue,
    course_id: int | None,
    target: str,
) -> RegradeBatch:
    now = utcnow()
    batch = RegradeBatch(exercise_id=exercise_id, requested_by=requested_by.id, total=len(ids), created_at=now)
    session.add(batch)
    session.flush()
    if ids:
        regrade_scores.record_before(session, batch_id=batch.id, submission_ids=ids)
        # Clearing the lease also voids any grading in progress: its result will not be stored.
        session.exec(
            update(Submission)
            .where(col(Submission.id).in_(ids))
            .values(
                status="queued",
                lease_token=None,
                lease_expires_at=None,
                infra_retries=0,
                enqueued_at=now,
                regrade_batch_id=batch.id,
            )
        )
    audit.record(
        session=session,
        actor=requested_by,
        action="regrade",
        course_id=course_id,
        target=target,
        details={"batch": batch.id, "submissions": len(ids)},
    )
    session.commit()
    session.refresh(batch)
    for submission_id in ids:
        send_to_queue(submission_id, enqueue)
    return batch


def regrade_submission(
    *,
    session: Session,
    submission_id: int,
    requested_by: User,
    enqueue: Enqueue,
    scope: CourseScope | None = None,
) -> RegradeBatch:
    """Queue one submission for grading again; a batch of one.

    Its staff may (``authority``: the TAs and instructors of a course it belongs to; of
    ``scope``'s course, when given); its author is refused, anyone else told it does not exist.
    ``enqueue`` sends it below learners' gradings (``grader.jobs.enqueue_regrade`` in the service).
    """
    course_id = None
    if scope is not None:
        courses.require_role(session=session, user=requested_by, course_id=scope.course_id, roles=("ta", "instructor"))
        course_id = scope.course_id
    if not authority.teaches_submission(
        session=session, submission_id=submission_id, user=requested_by, course_id=course_id
    ):
        if scope is None and authority.may_see_submission(
            session=session, submission_id=submission_id, user=requested_by
        ):
            raise PermissionDenied("Only the TAs and instructors of its course can regrade a submission.")
        raise NotFound("No such submission.")
    submission = session.get_one(Submission, submission_id)
    if course_id is None:
        course_id = authority.regrading_course(session=session, submission_id=submission_id, user=requested_by)
    return _start(
        session,
        ids=[submission_id],
        exercise_id=submission.exercise_id,
        requested_by=requested_by,
        enqueue=enqueue,
        course_id=course_id,
        target=f"submission {submission_id}",
    )


@dataclass(frozen=True)
class ExerciseRegradePlan:
    """What regrading an exercise would do: how many submissions go back in the queue."""

    exercise_slug: str
    exercise_title: str
    submissions: int
    learners: int


def plan_exercise(
    *, session: Session, exercise_slug: str, requested_by: User, scope: CourseScope | None = None
) -> ExerciseRegradePlan:
    """What a regrade of every submission of an exercise (the course's, with ``scope``) would touch."""
    _require_staff(session, requested_by, scope)
    exercise = get_exercise(session=session, slug=exercise_slug)
    submissions, learners = session.exec(
        _in_scope(
            select(func.count(), func.count(func.distinct(Submission.user_id))).where(
                Submission.exercise_id == exercise.id
            ),
            scope,
        )
    ).one()
    return ExerciseRegradePlan(
        exercise_slug=exercise.slug, exercise_title=exercise.title, submissions=submissions, learners=learners
    )


def regrade_exercise(
    *,
    session: Session,
    exercise_slug: str,
    requested_by: User,
    enqueue: Enqueue,
    scope: CourseScope | None = None,
) -> RegradeBatch:
    """Queue every submission of an exercise for grading again (only the course's learners', with ``scope``)."""
    _require_staff(session, requested_by, scope)
    exercise = get_exercise(session=session, slug=exercise_slug)
    ids = list(
        session.exec(
            _in_scope(select(Submission.id).where(Submission.exercise_id == exercise.id), scope).order_by(
                col(Submission.id)
            )
        )
    )
    if not ids:
        raise InvalidInput("This exercise has no submissions to regrade.", field="exercise")
    return _start(
        session,
        ids=ids,
        exercise_id=exercise.id,
        requested_by=requested_by,
        enqueue=enqueue,
        course_id=scope.course_id if scope is not None else None,
        target=f"exercise {exercise.slug}",
    )


def check_follower(*, session: Session, batch_id: int, user: User) -> None:
    """Whether ``user`` may follow this regrade: whoever asked for it, or staff of every submission it regrades.

    A batch names no course; its submissions do (``authority``), so a course's TAs and instructors
    follow a regrade of their course's work, and nobody sees scores of work they do not teach.
    """
    batch = session.get(RegradeBatch, batch_id)
    if batch is None:
        raise NotFound("No such regrade.")
    if batch.requested_by != user.id and not authority.teaches_batch(session=session, batch_id=batch_id, user=user):
        raise PermissionDenied("Only whoever asked for this regrade and the staff of its course can follow it.")


def progress(*, session: Session, batch_id: int) -> RegradeProgress:
    """The batch's progress; submissions moved to a later batch count as done here."""
    batch = session.get(RegradeBatch, batch_id)
    if batch is None:
        raise NotFound("No such regrade.")
    pending = session.exec(
        select(func.count())
        .select_from(Submission)
        .where(Submission.regrade_batch_id == batch.id, col(Submission.status).in_(("queued", "running")))
    ).one()
    exercise = session.get(Exercise, batch.exercise_id) if batch.exercise_id is not None else None
    return RegradeProgress(
        batch_id=batch.id,
        total=batch.total,
        done=batch.total - pending,
        exercise_title=exercise.title if exercise is not None else None,
    )


def latest_batch(*, session: Session, exercise_slug: str) -> RegradeBatch | None:
    """The most recent regrade of an exercise, if any."""
    exercise = get_exercise(session=session, slug=exercise_slug)
    return session.exec(
        select(RegradeBatch)
        .where(RegradeBatch.exercise_id == exercise.id)
        .order_by(col(RegradeBatch.created_at).desc(), col(RegradeBatch.id).desc())
    ).first()
